"""Refusals of the ledger. Every message is French: it reaches the UI and the CLI as is."""

from __future__ import annotations


class LedgerError(ValueError):
    """Base of every error of :mod:`accounting.ledger`."""


class UnbalancedEntry(LedgerError):
    """The debits of an entry do not equal its credits (or it has fewer than two lines)."""


class InvalidLine(LedgerError):
    """A line with a negative amount, both a debit and a credit, or neither."""


class EntryImmutable(LedgerError):
    """A validated entry is never changed nor deleted: a correction is a new entry."""


class AlreadyPosted(LedgerError):
    """The document already has its entry."""


class InvalidAccount(LedgerError):
    """An account number the chart refuses (its first three characters must be digits)."""


class MappingError(LedgerError):
    """A rule of the FEC import mapping that cannot be saved."""
