"""Invoices, credit notes and payments (DESIGN §5).

``amounts`` holds the pure money rules (VAT per rate, due dates, statuses), ``models`` the
tables and their immutability, ``services`` the use cases (prepare, issue, credit, pay) that
the web layer, the CLI and the ledger call, ``differences`` what a period still has to invoice
or credit after a correction, ``locks`` the lock of invoiced periods (registered with
``accounting.periods`` on import: an invoiced period refuses new work, costs and subsidies
until it is reopened with a reason).
"""

import accounting.invoicing.locks  # noqa: F401  (registers the lock and the reopen hook)
