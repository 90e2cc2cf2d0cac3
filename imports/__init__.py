"""Reading external files (CSV, XLSX, FEC, other tools' timesheet exports) into validated rows
with line-numbered errors.

May import ``timesheets`` and ``accounting``; never ``app`` nor Flask.
"""
