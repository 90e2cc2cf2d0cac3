"""Excel writers (openpyxl). Every writer puts user-entered text through
:mod:`accounting.workbooks.cells` so that no exported cell ever starts a formula (DESIGN §7.9)."""
