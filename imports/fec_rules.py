"""The saved rules of the FEC cost import: which lines feed which shared service.

By account (``64*`` -> the development officer, ``6226`` -> accounting) or by analytic code
(an extra column after the 18, e.g. « CodeAnalytique »); kept in ``FecCostRule`` and applied
again next time (analytic codes first, then the most specific account pattern).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.ledger.errors import MappingError
from accounting.ledger.models import FecCostRule
from accounting.org import Service

ACCOUNT, ANALYTIC = "account", "analytic"
#: Names of an extra column that holds analytic codes (lower case, without accents).
ANALYTIC_NAMES = ("analytique", "codeanalytique", "code analytique", "analytic", "section",
                  "axe", "axe1", "axe analytique", "codeana", "ana")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    """``kind`` account (``pattern`` on CompteNum, ``*`` wildcard) or analytic (a code)."""

    kind: str
    pattern: str
    service_id: int

    def matches(self, account: str, analytic: str) -> bool:
        if self.kind == ANALYTIC:
            return bool(analytic) and analytic.upper() == self.pattern.upper()
        return fnmatch.fnmatchcase(account.upper(), self.pattern.upper())


# ------------------------------------------------------------------ rules


def parse_rule(session: Session, text: str) -> Rule:
    """``64*=DEV`` (account pattern) or ``analytique:ACP=COMPTA`` (analytic code) -> Rule."""
    left, sep, service_code = text.partition("=")
    if not sep or not left.strip() or not service_code.strip():
        raise MappingError(
            f"Règle « {text} » illisible : écrivez 64*=CODE_SERVICE ou analytique:CODE=SERVICE."
        )
    kind, pattern = ACCOUNT, left.strip()
    for prefix in ("analytique:", "analytic:"):
        if pattern.lower().startswith(prefix):
            kind, pattern = ANALYTIC, pattern[len(prefix):].strip()
    return make_rule(session, kind, pattern, service_code.strip())


def make_rule(session: Session, kind: str, pattern: str, service_code: str) -> Rule:
    service = session.scalars(select(Service).where(Service.code == service_code)).one_or_none()
    if service is None:
        known = ", ".join(session.scalars(select(Service.code).order_by(Service.code)))
        raise MappingError(f"Service « {service_code} » inconnu (codes des services : {known}).")
    pattern = pattern.strip()
    if kind not in (ACCOUNT, ANALYTIC) or not pattern or len(pattern) > 50:
        raise MappingError(f"Règle « {pattern} » refusée.")
    if kind == ACCOUNT and not pattern[:1].isdigit():
        raise MappingError(
            f"Motif de compte « {pattern} » refusé : il commence par un chiffre (ex. 64*, 6226)."
        )
    return Rule(kind, pattern, service.id)


def saved_rules(session: Session) -> list[Rule]:
    rows = session.scalars(select(FecCostRule).order_by(FecCostRule.position, FecCostRule.id))
    return [Rule(row.kind, row.pattern, row.service_id) for row in rows]


def save_rules(session: Session, rules: Sequence[Rule]) -> None:
    """Keep ``rules`` for next time: the same (kind, pattern) is updated, others added, rules no
    longer given are removed (each change audited by the session hook). Flushes."""
    existing = {(row.kind, row.pattern): row for row in session.scalars(select(FecCostRule))}
    wanted = {(rule.kind, rule.pattern) for rule in rules}
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
    for position, rule in enumerate(rules):
        row = existing.get((rule.kind, rule.pattern))
        if row is None:
            session.add(FecCostRule(kind=rule.kind, pattern=rule.pattern,
                                    service_id=rule.service_id, position=position))  # fmt: skip
        else:
            row.service_id, row.position = rule.service_id, position
    session.flush()


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Analytic codes first, then account patterns from the most specific (longest fixed
    prefix) to the broadest; the given order breaks ties."""
    indexed = list(enumerate(rules))

    def key(item: tuple[int, Rule]) -> tuple[int, int, int]:
        position, rule = item
        fixed = len(rule.pattern.split("*")[0].split("?")[0])
        return (0 if rule.kind == ANALYTIC else 1, -fixed, position)

    return [rule for _, rule in sorted(indexed, key=key)]


