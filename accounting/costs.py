"""Recording costs and subsidies (DESIGN §4): each is checked, saved and posted to the ledger
in the same transaction (HA for a cost, OD for a subsidy); a change reposts it, a deletion
reverses its entry. The models, rules and queries are :mod:`accounting.cost_models` (re-exported
here); the ledger depends on those only, so this module is the one place that calls both.

Invariants: nothing dated in a closed period is added, changed or deleted
(:func:`accounting.periods.ensure_open`, checked on the old and the new date). Services here only
flush: the caller (a view, a CLI command) commits.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from accounting.cost_counterparts import CostCounterpart
from accounting.cost_models import (
    DEFAULT_ACCOUNT,
    MAX_AMOUNT,
    MODELS,
    Cost,
    CostError,
    CostInput,
    CostKind,
    CostNature,
    Subsidy,
    check_cost_input,
    get_line,
    lines_between,
    posting_fields,
    supplier_code_of,
    totals_by_service,
)
from accounting.counterpart_split import Share, rescale
from accounting.ledger.cost_posting import post_cost, repost_cost, unpost_cost
from accounting.ledger.mapping import map_account
from accounting.org import Service
from accounting.periods import ensure_writable

__all__ = [
    "DEFAULT_ACCOUNT",
    "MAX_AMOUNT",
    "MODELS",
    "Cost",
    "CostError",
    "CostInput",
    "CostKind",
    "CostNature",
    "Subsidy",
    "add_cost",
    "check_cost_input",
    "delete_cost",
    "get_line",
    "lines_between",
    "supplier_code_of",
    "totals_by_service",
    "update_cost",
]


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise CostError(" ".join(message for _, message in problems))


def add_cost(
    session: Session, data: CostInput, *, user_id: int | None = None, import_key: str | None = None
) -> Cost | Subsidy:
    """Record a cost or subsidy; refused in a closed period (flushes, never commits)."""
    _raise_problems(check_cost_input(data))
    if session.get(Service, data.service_id) is None:
        raise CostError("Service inconnu.")
    ensure_writable(session, data.day)
    model = MODELS[data.kind]
    line = model(
        service_id=data.service_id,
        day=data.day,
        amount=data.amount,
        account=map_account(session, data.account),
        label=data.label.strip(),
        party=data.party.strip(),
        reference=data.reference.strip(),
        attachment_name=data.attachment_name.strip(),
        import_key=import_key,
        created_by_id=user_id,
        **posting_fields(data),
    )
    if data.nature is CostNature.FEC:  # set even when empty: posting reads it, no query
        line.counterparts = _shares(data.counterparts)
    session.add(line)
    session.flush()
    post_cost(session, line)  # its entries by its nature (PA, HA, BQ, the FEC's, OD) and payment
    return line


def update_cost(session: Session, line: Cost | Subsidy, data: CostInput) -> Cost | Subsidy:
    """Change a line (its kind stays); refused when its old or new date is in a closed period."""
    if data.kind is not line.kind:
        raise CostError("Une charge ne devient pas une subvention : supprimez-la et recréez-la.")
    _raise_problems(check_cost_input(data))
    ensure_writable(session, line.day)
    ensure_writable(session, data.day)
    old_amount = line.amount
    line.service_id = data.service_id
    line.day = data.day
    line.amount = data.amount
    line.account = map_account(session, data.account)
    line.label = data.label.strip()
    line.party = data.party.strip()
    line.reference = data.reference.strip()
    line.attachment_name = data.attachment_name.strip()
    fields = posting_fields(data)
    if data.nature is CostNature.FEC and not data.journal_code:  # edited on screen: kept
        fields["journal_code"], fields["counterpart"] = line.journal_code, line.counterpart
    for name, value in fields.items():
        setattr(line, name, value)
    _keep_shares(line, data, old_amount)
    session.flush()
    repost_cost(session, line)  # the entry is never changed: reversed and posted again
    return line


def _shares(shares: tuple[Share, ...]) -> list[CostCounterpart]:
    return [CostCounterpart(account=share.account, amount=share.amount, position=position)
            for position, share in enumerate(shares, start=1)]  # fmt: skip


def _keep_shares(line: Cost | Subsidy, data: CostInput, old_amount: Decimal) -> None:
    """An imported line's counterparts after an edit: the ones given, else its own, in
    proportion to its new amount (an amount edited on screen keeps the entry's accounts);
    none once it is no longer imported."""
    if data.counterparts:
        line.counterparts = _shares(data.counterparts)
    elif data.nature is not CostNature.FEC:
        line.counterparts = []
    elif line.counterparts and line.amount != old_amount:
        kept = [Share(row.account, row.amount) for row in line.counterparts]
        line.counterparts = _shares(tuple(rescale(line.amount, kept)))


def delete_cost(session: Session, line: Cost | Subsidy) -> None:
    """Delete a line; refused in a closed period (the audit log keeps what it was)."""
    ensure_writable(session, line.day)
    unpost_cost(session, line)  # a reversing entry cancels its journal entry
    session.delete(line)
    session.flush()
