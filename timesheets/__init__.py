"""Work entries of the shared staff: entry, approval, locking, and summaries.

May import ``accounting``; never ``imports`` nor ``app``.
"""
