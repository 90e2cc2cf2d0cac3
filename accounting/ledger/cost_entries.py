"""The entries of a cost or a subsidy, by what it is (pure: no database).

The posting scheme (README « Ledger and FEC »):

=====================  ========  ==========================================  ===============
what                   journal   entry                                       its payment (BQ)
=====================  ========  ==========================================  ===============
payroll (64x)          PA        D 64x gross / C 421 net pay, C 431 or 437   D 421 / C 512;
                                 the rest (contributions)                    D 431|437 / C 512
supplier invoice       HA        D 6xx / C 401 + supplier code               D 401xx / C 512
other (paid directly)  BQ        D 6xx / C 512                               —
imported from a FEC    the file  D 6xx / C its share of each of the entry's     —
                                 counterparts (421, 431, 437; 401xx TTC and D
                                 44566): the file's lines; a credit reversed
subsidy                OD        D 441 / C 74x                               D 512 / C 441
=====================  ========  ==========================================  ===============

An imported line's counterparts (:func:`counterpart_shares`) are its stored shares when its
entry has several, else its one ``counterpart`` — 471000 only for an entry whose balance-sheet
lines add up to zero (its costs offset one another), where it clears. The bulk import and
``add_cost`` both post through :func:`plan_cost_entries`, so the same lines.

Each planned entry carries its source (``cost``, ``cost_payment``, ``cost_social_payment``,
``subsidy``, ``subsidy_receipt``) so a changed cost reverses exactly its own entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from accounting.counterpart_split import Share
from accounting.ledger.chart import (
    BANK,
    SOCIAL_SECURITY,
    SUBSIDIES_RECEIVABLE,
    SUPPLIERS,
    SUSPENSE,
    WAGES_PAYABLE,
)
from accounting.money import ZERO

if TYPE_CHECKING:  # the ledger reads costs; accounting.costs never imports the ledger
    from accounting.costs import Cost, Subsidy


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    """An entry to post for a cost: where, when, what, and its lines (``LineSpec``)."""

    source_type: str
    journal: str
    entry_date: date
    label: str
    piece_ref: str
    lines: list[Any]


#: Every source a cost or subsidy may have entries under (reversed together when it changes).
COST_SOURCES = ("cost", "cost_payment", "cost_social_payment")
SUBSIDY_SOURCES = ("subsidy", "subsidy_receipt")


def supplier_account(line: Cost | Subsidy) -> str:
    """401 + the supplier's code, or 401000 without one."""
    return f"401{line.supplier_code}" if line.supplier_code else SUPPLIERS


def _signed(spec: Any, account: str, amount: Decimal, **fields: Any) -> Any:
    """A debit for a positive amount, a credit for a negative one."""
    if amount > ZERO:
        return spec(account, debit=amount, **fields)
    return spec(account, credit=-amount, **fields)


def counterpart_shares(line: Cost | Subsidy, default: str = SUSPENSE) -> list[Share]:
    """The imported line's counterparts with its share of each, in its own direction (they
    add up to its amount): its stored shares (``line.counterparts``: an ORM collection, or the
    bulk import's plain list), else its one counterpart (``default`` when it has none)."""
    stored = line.counterparts
    if stored:
        return [Share(share.account, share.amount) for share in stored]
    return [Share(line.counterpart or default, line.amount)]


def plan_cost_entries(line: Cost | Subsidy, service_name: str, spec: Any) -> list[PlannedEntry]:
    """The entries of ``line`` (``spec`` builds a line: ``LineSpec`` of the posting module)."""
    text = f"{line.label} – {service_name}" if service_name else line.label
    ref = line.reference or f"{'SUBSIDY' if line.kind == 'subsidy' else 'COST'}-{line.id}"
    if line.kind == "subsidy":
        return _subsidy(line, text, ref, spec)
    nature = line.nature or "supplier_invoice"
    if nature == "payroll":
        return _payroll(line, text, ref, spec)
    if nature == "other":
        return [PlannedEntry("cost", "BQ", line.day, text, ref, [
            _signed(spec, line.account, line.amount, label=text, service_id=line.service_id),
            _signed(spec, BANK, -line.amount, label=text),
        ])]  # fmt: skip
    if nature == "fec":
        return [PlannedEntry("cost", line.journal_code or "HA", line.day, text, ref, [
            _signed(spec, line.account, line.amount, label=text, service_id=line.service_id),
            *(_signed(spec, share.account, -share.amount, label=text)
              for share in counterpart_shares(line)),
        ])]  # fmt: skip
    return _supplier(line, text, ref, spec)


def _supplier(line: Cost | Subsidy, text: str, ref: str, spec: Any) -> list[PlannedEntry]:
    supplier = supplier_account(line)
    party = f"{text} – {line.party}" if line.party else text
    name = line.party or None
    entries = [PlannedEntry("cost", "HA", line.day, text, ref, [
        _signed(spec, line.account, line.amount, label=text, service_id=line.service_id),
        _signed(spec, supplier, -line.amount, label=party, account_label=name),
    ])]  # fmt: skip
    if line.paid_on is not None:
        label = f"Règlement {ref} – {line.party or line.label}"
        entries.append(PlannedEntry("cost_payment", "BQ", line.paid_on, label, ref, [
            _signed(spec, supplier, line.amount, label=label, account_label=name),
            _signed(spec, BANK, -line.amount, label=label),
        ]))  # fmt: skip
    return entries


def _payroll(line: Cost | Subsidy, text: str, ref: str, spec: Any) -> list[PlannedEntry]:
    net = line.net_pay or ZERO
    social = line.amount - net
    body = line.social_account or SOCIAL_SECURITY
    lines = [spec(line.account, debit=line.amount, label=text, service_id=line.service_id)]
    if net:
        lines.append(spec(WAGES_PAYABLE, credit=net, label=f"{text} – net à payer"))
    if social:
        lines.append(spec(body, credit=social, label=f"{text} – cotisations"))
    entries = [PlannedEntry("cost", "PA", line.day, text, ref, lines)]
    if net and line.paid_on is not None:
        label = f"Virement des salaires – {line.label}"
        entries.append(PlannedEntry("cost_payment", "BQ", line.paid_on, label, ref, [
            spec(WAGES_PAYABLE, debit=net, label=label), spec(BANK, credit=net, label=label),
        ]))  # fmt: skip
    if social and line.social_paid_on is not None:
        label = f"Cotisations sociales – {line.label}"
        entries.append(PlannedEntry("cost_social_payment", "BQ", line.social_paid_on, label,
                                    ref, [spec(body, debit=social, label=label),
                                          spec(BANK, credit=social, label=label)]))  # fmt: skip
    return entries


def _subsidy(line: Cost | Subsidy, text: str, ref: str, spec: Any) -> list[PlannedEntry]:
    if line.nature == "fec":
        sides = [_signed(spec, share.account, share.amount, label=text)
                 for share in counterpart_shares(line, SUBSIDIES_RECEIVABLE)]  # fmt: skip
    else:
        sides = [_signed(spec, line.counterpart or SUBSIDIES_RECEIVABLE, line.amount, label=text)]
    entries = [PlannedEntry("subsidy", line.journal_code or "OD", line.day, text, ref, [
        *sides, _signed(spec, line.account, -line.amount, label=text, service_id=line.service_id),
    ])]  # fmt: skip
    if line.paid_on is not None and not line.counterpart:
        label = f"Versement {ref} – {line.party or line.label}"
        entries.append(PlannedEntry("subsidy_receipt", "BQ", line.paid_on, label, ref, [
            _signed(spec, BANK, line.amount, label=label),
            _signed(spec, SUBSIDIES_RECEIVABLE, -line.amount, label=label),
        ]))  # fmt: skip
    return entries
