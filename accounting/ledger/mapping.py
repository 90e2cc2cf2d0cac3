"""The carrier's chart (PCG) as the one numbering: other charts' accounts mapped onto it.

Design: a FEC from another software writes ``6064``, ``606400`` or ``60640000`` for the same
account. Two things make them one:

* **normalisation** (:func:`normalise`): an account of digits only is written with six digits,
  the carrier's length — shorter ones padded with zeros (``6064`` -> ``606400``), longer ones
  cut when what is cut is only zeros (``60640000`` -> ``606400``; ``60611234`` stays, it is a
  real sub-account);
* **saved rules** (``AccountMapping``): an ``exact`` account or every account under a
  ``prefix`` goes to a target of the chart (``6063`` -> ``606400``). The exact rule wins, then
  the longest prefix, then normalisation.

Applied to every cost entered or imported, and by the trial balance (which therefore never
shows one account twice, even for books posted before the rules existed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.ledger.chart import PCG_LABELS
from accounting.ledger.errors import MappingError
from accounting.ledger.models import Account, AccountMapping

#: The length of the carrier's accounts (PCG, 6 digits: 606400, 641100).
ACCOUNT_LENGTH = 6
EXACT, PREFIX = "exact", "prefix"
KINDS = {EXACT: "Compte exact", PREFIX: "Préfixe (tous les comptes qui commencent ainsi)"}
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_SESSION_KEY = "mutualise:account_mapper"


def normalise(number: str) -> str:
    """``6064`` -> ``606400``; ``60640000`` -> ``606400``; ``411VH01`` unchanged."""
    number = number.strip()
    if not _DIGITS.match(number):
        return number
    if len(number) < ACCOUNT_LENGTH:
        return number.ljust(ACCOUNT_LENGTH, "0")
    head, tail = number[:ACCOUNT_LENGTH], number[ACCOUNT_LENGTH:]
    return head if not tail.strip("0") else number


@dataclass(frozen=True, slots=True)
class Mapper:
    """The saved rules, ready to apply (pure once built)."""

    exact: dict[str, str]
    #: (prefix, target), longest prefix first.
    prefixes: tuple[tuple[str, str], ...]

    def __call__(self, number: str) -> str:
        number = number.strip()
        found = self.exact.get(number)
        if found is not None:
            return found
        for prefix, target in self.prefixes:
            if number.startswith(prefix):
                return target
        return normalise(number)


def build_mapper(rows: list[tuple[str, str, str]]) -> Mapper:
    """``rows``: (kind, source, target)."""
    exact = {source: target for kind, source, target in rows if kind == EXACT}
    prefixes = sorted(((s, t) for k, s, t in rows if k == PREFIX), key=lambda r: -len(r[0]))
    return Mapper(exact, tuple(prefixes))


def mapper(session: Session) -> Mapper:
    """The saved rules of this database (kept for the session's life; saving clears it)."""
    found = session.info.get(_SESSION_KEY)
    if found is None:
        rows = session.execute(
            select(AccountMapping.kind, AccountMapping.source, AccountMapping.target)
        ).tuples().all()
        found = session.info[_SESSION_KEY] = build_mapper(list(rows))
    return found


def map_account(session: Session, number: str) -> str:
    return mapper(session)(number)


def mappings(session: Session) -> list[AccountMapping]:
    return list(session.scalars(
        select(AccountMapping).order_by(AccountMapping.source, AccountMapping.kind)
    ))  # fmt: skip


def save_mapping(session: Session, kind: str, source: str, target: str) -> AccountMapping:
    """Add or change the rule for (``kind``, ``source``); audited by the session hook."""
    source, target = source.strip(), target.strip()
    if kind not in KINDS:
        raise MappingError(f"Type de correspondance « {kind} » inconnu : exact ou prefix.")
    if not _DIGITS.match(source):
        raise MappingError(f"Compte source « {source} » refusé : des chiffres (ex. 6064).")
    if not re.match(r"^[0-9]{3}[0-9A-Za-z]{0,17}$", target):
        raise MappingError(
            f"Compte cible « {target} » refusé : un compte du plan comptable (ex. 606400)."
        )
    row = session.scalars(
        select(AccountMapping).where(AccountMapping.kind == kind, AccountMapping.source == source)
    ).one_or_none()
    if row is None:
        row = AccountMapping(kind=kind, source=source, target=target)
        session.add(row)
    else:
        row.target = target
    session.flush()
    session.info.pop(_SESSION_KEY, None)
    return row


def delete_mapping(session: Session, row: AccountMapping) -> None:
    session.delete(row)
    session.flush()
    session.info.pop(_SESSION_KEY, None)


def unknown_accounts(session: Session, numbers: set[str]) -> set[str]:
    """The accounts neither in the chart nor under a three-digit PCG account: what an import
    refuses, naming the line."""
    found: set[str] = set()
    listed = list(numbers)
    for start in range(0, len(listed), 500):
        found.update(session.scalars(
            select(Account.number).where(Account.number.in_(listed[start : start + 500]))
        ))  # fmt: skip
    return {
        number for number in numbers
        if number not in found
        and not any(number[:length] in PCG_LABELS for length in range(len(number), 2, -1))
    }  # fmt: skip
