"""The carrier's books: chart of accounts, journals, validated journal entries, the general
ledger and trial balance, the FEC export, and the entries the members book on their side.

Modules: ``models`` (tables, immutability, database checks), ``chart`` (PCG defaults),
``posting`` (the entries of invoices, credit notes, payments and costs), ``catchup`` (post what
is missing), ``reports`` (journal, general ledger, trial balance), ``fec_export``,
``member_side``. The ledger reads documents' models (``accounting.cost_models``,
``accounting.invoicing.models``) and never their services; ``accounting.costs`` records a cost
and then posts it. Nothing is imported here.
"""
