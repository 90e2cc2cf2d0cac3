"""The budgets of each ``services[]`` item of the configuration file (DESIGN §5b)::

    services:
      - code: COMPTA
        budgets:
          - year: 2025
            agreed_on: 2024-12-12
            agreed_by: Assemblée générale
            call_key: ""            # optional: a key stated for calls
            reason: ""              # required when it revises a budget already voted
            lines:
              - {kind: charge, account: "641100", label: Salaires, amount: 48000.00}
              - {kind: subvention, account: "740000", label: Région, amount: 6000.00}

Applying the file records a new revision only when the lines, the vote or the call key differ
from the revision in force (applying it twice changes nothing); the export writes the revision
in force of each year. Refusals (a closed year…) name the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from accounting.budgets.budgets import LineInput, current_budget, save_budget
from accounting.budgets.errors import BudgetError
from accounting.budgets.models import Budget, LineKind
from accounting.org import Service
from app.configuration import ConfigError, child, refuse, register_service_section

_KINDS = {"charge": LineKind.COST, "cost": LineKind.COST,
          "subvention": LineKind.SUBSIDY, "subsidy": LineKind.SUBSIDY}


def _validate(path: str, value: Any) -> list[ConfigError]:
    if not isinstance(value, list):
        return [ConfigError(path, "une liste de budgets {year, agreed_on, agreed_by, lines} "
                                  "est attendue")]
    errors = []
    for index, item in enumerate(value):
        where = child(path, index)
        if not isinstance(item, Mapping):
            errors.append(ConfigError(where, "{year, agreed_on, agreed_by, lines} attendu"))
            continue
        if not isinstance(item.get("year"), int):
            errors.append(ConfigError(child(where, "year"), "une année est attendue (2025)"))
        if not isinstance(item.get("agreed_on"), date):
            errors.append(ConfigError(child(where, "agreed_on"), "une date AAAA-MM-JJ"))
        if not isinstance(item.get("agreed_by"), str) or not item["agreed_by"].strip():
            errors.append(ConfigError(child(where, "agreed_by"), "l'instance qui a voté"))
        lines = item.get("lines")
        if not isinstance(lines, list) or not lines:
            errors.append(ConfigError(child(where, "lines"), "au moins une ligne"))
            continue
        for number, line in enumerate(lines):
            errors.extend(_validate_line(child(child(where, "lines"), number), line))
    return errors


def _validate_line(where: str, line: Any) -> list[ConfigError]:
    if not isinstance(line, Mapping):
        return [ConfigError(where, "{kind, account, label, amount} attendu")]
    errors = []
    if str(line.get("kind", "")).strip().lower() not in _KINDS:
        errors.append(ConfigError(child(where, "kind"), "« charge » ou « subvention »"))
    if not str(line.get("account", "")).strip().isdigit():
        errors.append(ConfigError(child(where, "account"), "un numéro de compte"))
    try:
        amount = Decimal(str(line.get("amount")))
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.append(ConfigError(child(where, "amount"), "un montant positif, au centime"))
    return errors


def _lines(item: Mapping[str, Any]) -> list[LineInput]:
    return [LineInput(_KINDS[str(ln["kind"]).strip().lower()], str(ln["account"]).strip(),
                      Decimal(str(ln["amount"])), str(ln.get("label") or ""))
            for ln in item["lines"]]  # fmt: skip


def _same(budget: Budget, item: Mapping[str, Any], lines: list[LineInput]) -> bool:
    stored = [LineInput(LineKind(ln.kind), ln.account, ln.amount, ln.label)
              for ln in budget.lines]  # fmt: skip
    return (stored == lines and budget.agreed_on == item["agreed_on"]
            and budget.agreed_by == item["agreed_by"].strip()
            and budget.call_key == str(item.get("call_key") or "").strip())


def _apply(session: Session, service: Service, value: Any) -> None:
    for index, item in enumerate(value):
        lines = _lines(item)
        current = current_budget(session, service.id, item["year"])
        if current is not None and _same(current, item, lines):
            continue
        reason = str(item.get("reason") or "")
        if current is not None and not reason:
            reason = "Révision du fichier de configuration"
        try:
            save_budget(session, service, item["year"], agreed_on=item["agreed_on"],
                        agreed_by=item["agreed_by"], lines=lines, reason=reason,
                        call_key=str(item.get("call_key") or ""), created_by="configuration")
        except BudgetError as error:
            refuse(f"services[{service.code}].budgets[{index}]", str(error))


def _export(session: Session, service: Service) -> Any:
    from sqlalchemy import select

    years = sorted(set(session.scalars(select(Budget.year).where(
        Budget.service_id == service.id))))
    result = []
    for year in years:
        budget = current_budget(session, service.id, year)
        assert budget is not None
        item: dict[str, Any] = {"year": year, "agreed_on": budget.agreed_on,
                                "agreed_by": budget.agreed_by}
        if budget.call_key:
            item["call_key"] = budget.call_key
        item["lines"] = [{"kind": "charge" if ln.kind == LineKind.COST else "subvention",
                          "account": ln.account, "label": ln.label, "amount": ln.amount}
                         for ln in budget.lines]  # fmt: skip
        result.append(item)
    return result or None


register_service_section("budgets", validate=_validate, apply=_apply, export=_export)
