"""The cluster's configuration as a YAML file: read, validated whole, applied idempotently,
exported in the same form (``mutualise setup FILE.yaml`` / ``mutualise setup --export``).

Design:

- The file is parsed with PyYAML's *composer* only, and values are built here: floats become
  exact ``Decimal`` (``12.50`` never goes through a float), ``0612`` stays the text ``0612``,
  dates must be ``YYYY-MM-DD``, and aliases, merge keys, duplicate keys and custom tags are
  refused. Each key's line is kept, so an error reads ``services[1].code (ligne 14) : ...``.
- :func:`validate_configuration` checks the whole file before anything is written and returns
  a :class:`Plan` of parsed values, or raises :class:`ConfigRefused` with *every* bad field,
  each named by its path (``carrier.siret``, ``services[1].code``, ``members[3].figures.2025``;
  list indexes start at 0).
- :func:`apply_configuration` applies a plan: it creates what is new and sets only the fields
  that differ, so applying the same file twice changes nothing. A key absent from the file
  leaves the stored value untouched; ``null`` clears it. Nothing is ever deleted: a service or
  member missing from the file stays as it is. The number of changes is the number of audit
  events the apply wrote (every change of an audited model writes one, see accounting.audit).

Extension point: other areas add keys without editing this module. A *service section* is a key
of each ``services[]`` item (``activities``, ``unit_types``, ``keys``...); a *section* is a
top-level key. Each area registers its handlers in ``app/<area>/configuration.py`` (imported
here on first use)::

    from app.configuration import ConfigError, register_service_section

    def validate(path: str, value: Any) -> list[ConfigError]: ...      # no database
    def apply(session: Session, service: Service, value: Any) -> None:  # ORM changes, flush only
    def export(session: Session, service: Service) -> Any: ...          # None: key omitted

    register_service_section("activities", validate=validate, apply=apply, export=export)

``apply`` may raise :class:`ConfigRefused` (:func:`refuse`) for problems that need the
database; the whole file is then refused and the caller rolls back. A registered handler takes
precedence over a core field of the same name (``overheads_by`` is core because the column is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent, record_audit
from accounting.org import Service
from app.configuration import carrier, members, services
from app.configuration.errors import ConfigError, ConfigRefused
from app.configuration.fields import Errors, locate
from app.configuration.plan import Plan, Section, ServiceSection
from app.configuration.yaml_io import MAX_BYTES as MAX_BYTES
from app.configuration.yaml_io import load_configuration

VERSION = 1


TOP_LEVEL_CORE = ("version", "carrier", "members", "services")


_SERVICE_SECTIONS: dict[str, ServiceSection] = {}


_SECTIONS: dict[str, Section] = {}


_extensions_loaded = False


def register_service_section(
    name: str,
    *,
    validate: Callable[[str, Any], list[ConfigError]],
    apply: Callable[[Session, Service, Any], None],
    export: Callable[[Session, Service], Any],
) -> None:
    """Add a key to every ``services[]`` item (applied in registration order, after the core
    fields of the service, which exists and has an id by then)."""
    _SERVICE_SECTIONS[name] = ServiceSection(name, validate, apply, export)


def register_section(
    name: str,
    *,
    validate: Callable[[str, Any], list[ConfigError]],
    apply: Callable[[Session, Any], None],
    export: Callable[[Session], Any],
) -> None:
    """Add a top-level key (applied after members, carrier and services)."""
    if name in TOP_LEVEL_CORE:
        raise ValueError(f"{name!r} is a core section of the configuration file")
    _SECTIONS[name] = Section(name, validate, apply, export)


def load_extensions() -> None:
    """Import ``app.<area>.configuration`` of every area, where they register their keys."""
    global _extensions_loaded
    if _extensions_loaded:
        return
    from app import AREAS

    for area in AREAS:
        try:
            import_module(f"app.{area}.configuration")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.{area}.configuration":
                raise
    _extensions_loaded = True


def service_sections() -> dict[str, ServiceSection]:
    load_extensions()
    return dict(_SERVICE_SECTIONS)


def sections() -> dict[str, Section]:
    load_extensions()
    return dict(_SECTIONS)


def validate_configuration(
    session: Session, data: Any, lines: Mapping[str, int] | None = None
) -> Plan:
    """Check the whole file; the plan of parsed values, or ConfigRefused with every error."""
    lines = dict(lines or {})
    errors = Errors()
    plan = Plan(lines=lines)
    if not isinstance(data, dict):
        raise ConfigRefused([ConfigError("", "le fichier doit être un tableau de clés.", 1)])
    extra_sections = sections()
    for key in data:
        if key not in TOP_LEVEL_CORE and key not in extra_sections:
            accepted = ", ".join([*TOP_LEVEL_CORE, *extra_sections])
            errors.add(key, f"clé inconnue (clés acceptées : {accepted}).")
    if "version" in data and data["version"] != VERSION:
        errors.add("version", f"version {data['version']!r} inconnue : {VERSION} attendu.")

    member_codes = members.validate_members(session, data.get("members"), errors, plan)
    if "carrier" in data:
        plan.carrier = carrier.validate_carrier(session, data["carrier"], errors, member_codes)
    services.validate_services(session, data.get("services"), errors, plan, service_sections())
    for name, section in extra_sections.items():
        if name in data:
            errors.items.extend(section.validate(name, data[name]))
            plan.sections[name] = data[name]
    if errors.items:
        raise ConfigRefused(locate(errors.items, lines))
    return plan


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """How many changes (audit events) applying the file made; 0: it was already applied."""

    changes: int

    @property
    def changed(self) -> bool:
        return self.changes > 0


def audit_mark(session: Session) -> int:
    """The last audit event id: :func:`changes_since` counts the changes made after it."""
    session.flush()
    return session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0


def changes_since(session: Session, mark: int) -> int:
    """How many audit events (so, changes) were written since :func:`audit_mark`."""
    session.flush()
    return session.scalar(select(func.count()).where(AuditEvent.id > mark)) or 0


def apply_configuration(
    session: Session,
    source: str | bytes | dict[str, Any],
    *,
    filename: str = "",
    lines: Mapping[str, int] | None = None,
) -> ApplyResult:
    """Validate then apply a configuration (text, or data already loaded with its ``lines``).
    Flushes only: the caller commits, or rolls back on :class:`ConfigRefused`."""
    if isinstance(source, dict):
        data, lines = source, dict(lines or {})
    else:
        data, lines = load_configuration(source)
    plan = validate_configuration(session, data, lines)
    start = audit_mark(session)
    try:
        _apply_plan(session, plan)
    except ConfigRefused as exc:
        raise ConfigRefused(locate(exc.errors, plan.lines)) from None
    changes = changes_since(session, start)
    if changes:
        record_audit(
            session, "setup", "configuration", after={"file": filename, "changes": changes}
        )
        session.flush()
    return ApplyResult(changes)


def _apply_plan(session: Session, plan: Plan) -> None:
    """Members first (the carrier may be one), then the carrier, the services, the sections."""
    stored_members = members.apply_members(session, plan.members)
    if plan.carrier is not None:
        carrier.apply_carrier(session, plan.carrier, stored_members)
    services.apply_services(session, plan.services, service_sections())
    for name, section in sections().items():
        if name in plan.sections:
            section.apply(session, plan.sections[name])


def export_configuration(session: Session) -> dict[str, Any]:
    """The current configuration, in the form :func:`apply_configuration` reads."""
    data: dict[str, Any] = {"version": VERSION}
    exported_carrier = carrier.export_carrier(session)
    if exported_carrier is not None:
        data["carrier"] = exported_carrier
    exported_members = members.export_members(session)
    if exported_members:
        data["members"] = exported_members
    exported_services = services.export_services(session, service_sections())
    if exported_services:
        data["services"] = exported_services
    for name, section in sections().items():
        value = section.export(session)
        if value is not None:
            data[name] = value
    return data
