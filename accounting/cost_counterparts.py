"""The counterparts of an imported cost or subsidy whose FEC entry has several: a payroll
entry's 421, 431 and 437, a supplier invoice's 401 + supplier code and its deductible VAT
44566 (DESIGN §5 « Books an accountant signs »).

Each row is one counterpart account and the line's share of it, in cents, in the line's own
direction: the shares of a line add up to its amount; a positive share of a cost is credited
to the account (of a subsidy, debited), a negative one — deductible VAT — the other way. The
shares are computed at import by :func:`accounting.counterpart_split.split_costs` (two-way
exact: the costs of an entry take, together, exactly each counterpart's total) and posted by
:func:`accounting.ledger.cost_entries.plan_cost_entries`, so the trial balance per account is
the file's. A line with one counterpart has no row here: its ``counterpart`` column says it
(471000, the suspense account, only when its entry has none).

Not audited on their own: they are derived from the file with the cost, whose creation is
audited, and its journal entry — which carries every share — is audited and sealed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from accounting.bulk_rows import insert_rows, reserve_ids
from accounting.db import Base


class CostCounterpart(Base):
    """One counterpart of an imported cost (``cost_id``) or subsidy (``subsidy_id``)."""

    __tablename__ = "cost_counterparts"

    id: Mapped[int] = mapped_column(primary_key=True)
    cost_id: Mapped[Optional[int]] = mapped_column(ForeignKey("costs.id", ondelete="CASCADE"))
    subsidy_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("subsidies.id", ondelete="CASCADE")
    )
    #: The account of the carrier's chart (a third party: 401 + its code).
    account: Mapped[str] = mapped_column(String(20))
    #: The line's share, in its own direction (negative: deductible VAT).
    amount: Mapped[Decimal]
    #: The counterpart's order in its entry (its first line in the file).
    position: Mapped[int]

    __table_args__ = (
        CheckConstraint("(cost_id IS NULL) <> (subsidy_id IS NULL)", name="one_owner"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_cost_counterparts_cost", "cost_id", "position"),
        Index("ix_cost_counterparts_subsidy", "subsidy_id", "position"),
    )


#: The columns :func:`insert_counterparts` writes, in order.
_COLUMNS = ("id", "cost_id", "subsidy_id", "account", "amount", "position")


def insert_counterparts(session: Session, lines: Iterable[tuple[str, int, Sequence[Any]]]) -> None:
    """Write the shares of lines just inserted in bulk (:mod:`accounting.cost_bulk`): each
    ``(kind, line id, shares)``, ``kind`` ``cost`` or ``subsidy``; one ``executemany``, nothing
    at all when no line has several counterparts (most imports)."""
    wanted = [(kind, line_id, position, share) for kind, line_id, shares in lines
              for position, share in enumerate(shares, start=1)]  # fmt: skip
    if not wanted:
        return
    table = CostCounterpart.__table__
    ids = reserve_ids(session, table, len(wanted))
    insert_rows(session, table, _COLUMNS, [
        (row_id, line_id if kind == "cost" else None, line_id if kind == "subsidy" else None,
         share.account, share.amount, position)
        for row_id, (kind, line_id, position, share) in zip(ids, wanted, strict=True)
    ])  # fmt: skip
