"""The ``services`` section: each service's core fields; the keys other areas register on a
service (activities, unit types, keys...) are validated and applied by their handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.org import Service
from app.configuration.errors import child
from app.configuration.fields import (
    CODE_AND_NAME,
    Errors,
    account_field,
    as_list,
    boolean_field,
    choice_field,
    has_error,
    plain,
    set_fields,
    wrap,
)
from app.configuration.plan import Plan, ServicePlan, ServiceSection

#: The core keys of a ``services[]`` item (a registered key of the same name takes precedence).
SERVICE_CORE_FIELDS: dict[str, Callable[[Any], Any]] = {
    **CODE_AND_NAME,
    "revenue_account": wrap(account_field),
    "expense_account": wrap(account_field),
    "overheads_by": choice_field(["costs", "hours"], nullable=True),
    "active": boolean_field,
}


def validate_services(
    session: Session, raw: Any, errors: Errors, plan: Plan, handlers: dict[str, ServiceSection]
) -> None:
    """Parse ``services``: the core fields here, the registered keys by their ``handlers``."""
    core = {k: v for k, v in SERVICE_CORE_FIELDS.items() if k not in handlers}
    codes: dict[str, str] = {}
    for index, item in enumerate(as_list(raw, "services", errors)):
        path = child("services", index)
        values = errors.fields(path, item, core, extra=handlers)
        if not isinstance(item, dict):
            continue
        if "code" not in item:
            errors.add(child(path, "code"), "valeur obligatoire.")
        code = values.get("code")
        if code:
            if code in codes:
                errors.add(child(path, "code"), f"code « {code} » en double (déjà {codes[code]}).")
            codes.setdefault(code, path)
        service_plan = ServicePlan(path, values)
        for name, handler in handlers.items():
            if name in item:
                errors.items.extend(handler.validate(child(path, name), item[name]))
                service_plan.sections[name] = item[name]
        plan.services.append(service_plan)
    if codes:
        known = set(session.scalars(select(Service.code).where(Service.code.in_(list(codes)))))
        for service_plan in plan.services:
            code = service_plan.values.get("code")
            missing = code and code not in known and "name" not in service_plan.values
            if missing and not has_error(errors, service_plan.path, "name"):
                errors.add(
                    child(service_plan.path, "name"), "valeur obligatoire pour un nouveau service."
                )


def apply_services(
    session: Session, plans: list[ServicePlan], handlers: dict[str, ServiceSection]
) -> None:
    """Create or update each service, then apply its registered keys (in registration order)."""
    for service_plan in plans:
        service = session.scalars(
            select(Service).where(Service.code == service_plan.values["code"])
        ).one_or_none()
        if service is None:
            service = Service(**service_plan.values)
            session.add(service)
        else:
            set_fields(service, service_plan.values)
        session.flush()
        for name, handler in handlers.items():
            if name in service_plan.sections:
                handler.apply(session, service, service_plan.sections[name])


def export_services(session: Session, handlers: dict[str, ServiceSection]) -> list[dict[str, Any]]:
    """Every service by code: its core fields, then the value of each registered key."""
    services = []
    for service in session.scalars(select(Service).order_by(Service.code)):
        item = {
            name: plain(getattr(service, name))
            for name in SERVICE_CORE_FIELDS
            if name not in handlers
        }
        for name, handler in handlers.items():
            value = handler.export(session, service)
            if value is not None:
                item[name] = value
        services.append(item)
    return services
