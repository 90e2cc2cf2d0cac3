"""Invoices, credit notes and payments (DESIGN §5).

``amounts`` holds the pure money rules (VAT per rate, due dates, statuses), ``models`` the
tables and their immutability, ``services`` the use cases (prepare, issue, credit, pay) that
the web layer, the CLI and the ledger call.
"""

from accounting.invoicing.services import refuse_reopen_when_invoiced
from accounting.periods import reopen_check

# A period with issued invoices cannot be reopened: its invoices are final.
reopen_check(refuse_reopen_when_invoiced)
