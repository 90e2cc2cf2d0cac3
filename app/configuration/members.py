"""The ``members`` section: the cluster's members and their yearly figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Member, MemberFigures
from app.configuration.errors import child
from app.configuration.fields import Errors, as_list, has_error, plain, wrap
from app.configuration.plan import MemberPlan, Plan
from imports.errors import InvalidValue
from imports.figures import (
    FIGURE_FIELDS,
    apply_figure_values,
    existing_figures,
    parse_figure_value,
    parse_year,
)
from imports.members import (
    MEMBER_FIELDS,
    apply_member_values,
    membership_problem,
    parse_member_value,
)

MEMBER_KEYS: dict[str, Callable[[Any], Any]] = {
    name: wrap(lambda v, name=name: parse_member_value(name, v)) for name in MEMBER_FIELDS
}


FIGURE_KEYS: dict[str, Callable[[Any], Any]] = {
    name: wrap(lambda v, name=name: parse_figure_value(name, v)) for name in FIGURE_FIELDS
}


def validate_members(session: Session, raw: Any, errors: Errors, plan: Plan) -> set[str]:
    """Parse ``members``; returns the member codes the file names."""
    codes: dict[str, str] = {}
    sirets: dict[str, str] = {}
    for index, item in enumerate(as_list(raw, "members", errors)):
        path = child("members", index)
        values = errors.fields(path, item, MEMBER_KEYS, extra=["figures"])
        code = values.get("code")
        if isinstance(item, dict) and "code" not in item:
            errors.add(child(path, "code"), "valeur obligatoire.")
        if code:
            if code in codes:
                errors.add(child(path, "code"), f"code « {code} » en double (déjà {codes[code]}).")
            codes.setdefault(code, path)
        if values.get("siret"):
            siret = values["siret"]
            if siret in sirets:
                errors.add(child(path, "siret"), f"SIRET en double (déjà {sirets[siret]}).")
            sirets.setdefault(siret, path)
        member_plan = MemberPlan(path, values)
        if isinstance(item, dict) and "figures" in item:
            member_plan.figures = _validate_figures(child(path, "figures"), item["figures"], errors)
        plan.members.append(member_plan)

    existing = (
        {m.code: m for m in session.scalars(select(Member).where(Member.code.in_(list(codes))))}
        if codes
        else {}
    )
    for member_plan in plan.members:
        values = member_plan.values
        stored = existing.get(values.get("code", ""))
        if stored is None and values.get("code"):
            for required in ("name", "joined_on"):
                if required not in values and not has_error(errors, member_plan.path, required):
                    errors.add(
                        child(member_plan.path, required),
                        "valeur obligatoire pour un nouvel adhérent.",
                    )
        joined = values.get("joined_on", stored.joined_on if stored else None)
        left = values.get("left_on", stored.left_on if stored else None)
        problem = membership_problem(joined, left)
        if problem:
            errors.add(child(member_plan.path, "left_on"), problem)
    if sirets:
        for siret, code in session.execute(
            select(Member.siret, Member.code).where(Member.siret.in_(list(sirets)))
        ):
            owner_path = sirets[siret]
            in_file = next(p for p in plan.members if p.path == owner_path)
            if in_file.values.get("code") != code:
                errors.add(child(owner_path, "siret"), f"SIRET déjà utilisé par l'adhérent {code}.")
    return set(codes)


def _validate_figures(path: str, raw: Any, errors: Errors) -> dict[int, dict[str, Any]]:
    if not isinstance(raw, dict):
        errors.add(path, "un tableau par année est attendu (2025: {revenue: ..., ...}).")
        return {}
    result: dict[int, dict[str, Any]] = {}
    for key, item in raw.items():
        year_path = child(path, key)
        try:
            year = parse_year(key)
        except InvalidValue as exc:
            errors.add(year_path, f"année invalide : {exc.message}")
            continue
        result[year] = errors.fields(year_path, item, FIGURE_KEYS)
    return result


def apply_members(session: Session, plans: list[MemberPlan]) -> dict[str, Member]:
    codes = [p.values["code"] for p in plans]
    existing = (
        {m.code: m for m in session.scalars(select(Member).where(Member.code.in_(codes)))}
        if codes
        else {}
    )
    for member_plan in plans:
        apply_member_values(session, existing.get(member_plan.values["code"]), member_plan.values)
    session.flush()
    if codes:
        existing = {
            m.code: m for m in session.scalars(select(Member).where(Member.code.in_(codes)))
        }
    keys = [(existing[p.values["code"]].id, y) for p in plans for y in p.figures]
    stored = existing_figures(session, keys)
    for member_plan in plans:
        member_id = existing[member_plan.values["code"]].id
        for year, values in member_plan.figures.items():
            apply_figure_values(session, stored.get((member_id, year)), member_id, year, values)
    session.flush()
    return existing


def export_members(session: Session) -> list[dict[str, Any]]:
    """Every member by code, with its figures by year."""
    figures_by_member: dict[int, dict[int, dict[str, Any]]] = {}
    for figures in session.scalars(select(MemberFigures).order_by(MemberFigures.year)):
        figures_by_member.setdefault(figures.member_id, {})[figures.year] = {
            name: plain(getattr(figures, name)) for name in FIGURE_FIELDS
        }
    members = []
    for member in session.scalars(select(Member).order_by(Member.code)):
        item = {name: plain(getattr(member, name)) for name in MEMBER_FIELDS}
        if member.id in figures_by_member:
            item["figures"] = figures_by_member[member.id]
        members.append(item)
    return members
