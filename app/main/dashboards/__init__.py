"""The figures of the home dashboards, one module per role, each board answering its first
question.

Design: every board is a handful of aggregate queries (``GROUP BY`` in SQL, ``LIMIT`` on the
lists), so a board issues the same number of statements with ten members or a thousand, with a
year of entries or ten (tests/test_page_queries.py counts them). Boards are plain dataclasses of
numbers and labels: the templates format them (Babel filters) and draw the charts from their
tables. Nothing here writes.

- developer: their own hours this week and this month per member and on common work, and the
  entries still in draft (``developer_board``);
- accountant: hours and weighted work units per member this month, the active members with no
  activity, the draft invoices (``accountant_board``);
- treasurer: a period's allocation per member and service, invoiced vs paid for it, the
  overdue invoices, the runs waiting for approval (``treasurer_board``);
- member accountant: their member's allocation over the last twelve months, their invoices and
  what is due (``member_board``);
- admin: period states, missing member figures, keys in force, recent audit events
  (``admin_board``).
"""

from app.main.dashboards.accountant import AccountantBoard, accountant_board
from app.main.dashboards.admin import AdminBoard, admin_board
from app.main.dashboards.common import AUDIT_ACTIONS, AUDIT_OBJECTS, TOP_MEMBERS, month_of
from app.main.dashboards.developer import DeveloperBoard, developer_board
from app.main.dashboards.member import MemberBoard, member_board
from app.main.dashboards.treasurer import TreasurerBoard, treasurer_board, waiting_runs

__all__ = [
    "AUDIT_ACTIONS", "AUDIT_OBJECTS", "TOP_MEMBERS", "AccountantBoard", "AdminBoard",
    "DeveloperBoard", "MemberBoard", "TreasurerBoard", "accountant_board", "admin_board",
    "developer_board", "member_board", "month_of", "treasurer_board", "waiting_runs",
]
