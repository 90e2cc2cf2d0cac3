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

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import import_module
from typing import Any, NoReturn

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import bic as std_bic
from stdnum.exceptions import ValidationError as StdnumError

from accounting.audit import AuditEvent, record_audit
from accounting.ledger.fiscal_year import parse_start_month
from accounting.org import (
    Carrier,
    Member,
    MemberFigures,
    OrgError,
    Service,
    VatRegime,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat_number,
)
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
    clean_text,
    membership_problem,
    normalize_code,
    parse_email,
    parse_member_value,
)
from imports.parsing import parse_decimal, parse_int

VERSION = 1
#: Largest configuration file accepted (a 1 000-member cluster with figures is ~0.5 MB).
MAX_BYTES = 5 * 1024 * 1024

# --------------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One bad field of a configuration file: its path, its line when known, what is wrong."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "fichier"
        if self.line is not None:
            where += f" (ligne {self.line})"
        return f"{where} : {self.message}"


class ConfigRefused(Exception):
    """The configuration file was refused whole; ``errors`` lists every reason."""

    def __init__(self, errors: Iterable[ConfigError]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        head = (
            "Configuration refusée : 1 erreur, rien n'a été modifié."
            if count == 1
            else f"Configuration refusée : {count} erreurs, rien n'a été modifié."
        )
        super().__init__("\n".join([head, *(f"- {e}" for e in self.errors)]))


def refuse(path: str, message: str) -> NoReturn:
    """Refuse the whole file from inside a handler's ``apply``."""
    raise ConfigRefused([ConfigError(path, message)])


def child(path: str, key: str | int) -> str:
    """``child("services[1]", "code")`` -> ``services[1].code``; ints index a list."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


# ------------------------------------------------------------------------ extension point


@dataclass(frozen=True, slots=True)
class ServiceSection:
    """Handlers of one key of ``services[]`` items."""

    name: str
    validate: Callable[[str, Any], list[ConfigError]]
    apply: Callable[[Session, Service, Any], None]
    export: Callable[[Session, Service], Any]


@dataclass(frozen=True, slots=True)
class Section:
    """Handlers of one top-level key."""

    name: str
    validate: Callable[[str, Any], list[ConfigError]]
    apply: Callable[[Session, Any], None]
    export: Callable[[Session], Any]


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


# ------------------------------------------------------------------------------- reading

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Loader(yaml.SafeLoader):
    """Refuses aliases while parsing: no shared nodes, no exponential « billion laughs »."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "les alias YAML (*nom) ne sont pas acceptés", event.start_mark
            )
        return super().compose_node(parent, index)


_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def load_configuration(source: str | bytes) -> tuple[Any, dict[str, int]]:
    """The file's data and the line of each path; raises ConfigRefused when it is not YAML."""
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise ConfigRefused([ConfigError("", "Fichier trop volumineux (au plus 5 Mo).")])
        if b"\x00" in source:
            raise ConfigRefused([ConfigError("", "Ce n'est pas un fichier texte YAML.")])
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigRefused(
                [ConfigError("", "Le fichier doit être encodé en UTF-8.")]
            ) from None
    if len(source) > MAX_BYTES:
        raise ConfigRefused([ConfigError("", "Fichier trop volumineux (au plus 5 Mo).")])
    try:
        root = yaml.compose(source, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigRefused(
            [ConfigError("", f"YAML illisible : {problem}", mark.line + 1 if mark else None)]
        ) from None
    except RecursionError:
        raise ConfigRefused([ConfigError("", "YAML trop imbriqué.")]) from None
    if root is None:
        raise ConfigRefused([ConfigError("", "Le fichier est vide.")])
    builder = _Builder()
    try:
        data = builder.build(root, "")
    except RecursionError:
        raise ConfigRefused([ConfigError("", "YAML trop imbriqué.")]) from None
    if builder.errors:
        raise ConfigRefused(builder.errors)
    return data, builder.lines


class _Builder:
    """Python values from composed YAML nodes, with the line of each path."""

    def __init__(self) -> None:
        self.lines: dict[str, int] = {}
        self.errors: list[ConfigError] = []

    def error(self, path: str, node: yaml.Node, message: str) -> None:
        self.errors.append(ConfigError(path, message, node.start_mark.line + 1))

    def build(self, node: yaml.Node, path: str, line: int | None = None) -> Any:
        """The value of ``node``; ``line`` is where it is named (its key, or its list item)."""
        self.lines.setdefault(path, line or node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.error(path, node, f"type YAML {node.tag} non pris en charge.")
                return None
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.error(path, node, f"type YAML {node.tag} non pris en charge.")
                return None
            return [self.build(item, child(path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                self.error(path, key_node, "clé non prise en charge (ni « << », ni clé complexe).")
                continue
            key = str(key_node.value)
            if key in result:
                self.error(child(path, key), key_node, f"clé « {key} » en double.")
                continue
            result[key] = self.build(value_node, child(path, key), key_node.start_mark.line + 1)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: str) -> Any:
        tag, raw = node.tag, node.value
        if tag == _STR:
            return raw
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return yaml.constructor.SafeConstructor.bool_values[raw.lower()]
        if tag.endswith(":int"):
            # 0612 (octal in YAML 1.1), 0x1F, 1_000: kept as the text the person wrote.
            return int(raw) if _INT.fullmatch(raw) else raw
        if tag.endswith(":float"):
            if _FLOAT.fullmatch(raw):
                return Decimal(raw)
            self.error(path, node, f"nombre « {raw} » non pris en charge.")
            return None
        if tag.endswith(":timestamp"):
            if _DATE.fullmatch(raw):
                try:
                    return date.fromisoformat(raw)
                except ValueError:
                    pass
            self.error(path, node, f"date « {raw} » invalide : écrivez AAAA-MM-JJ.")
            return None
        self.error(path, node, f"type YAML {tag} non pris en charge.")
        return None


# ---------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A value refused by a field parser (French message)."""


def _wrap(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, dict | list):
            raise _Invalid("une valeur simple est attendue, pas une liste ni un tableau.")
        try:
            return parser(value)
        except InvalidValue as exc:
            raise _Invalid(exc.message) from None
        except (OrgError, ValueError) as exc:
            raise _Invalid(str(exc)) from None

    return parse


def _text(limit: int, *, required: bool = False) -> Callable[[Any], Any]:
    def parse(value: Any) -> str:
        if isinstance(value, bool):
            raise _Invalid("texte attendu.")
        return clean_text(value, limit=limit, required="valeur obligatoire." if required else None)

    return _wrap(parse)


def _optional(parser: Callable[[str], str | None]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise _Invalid("texte attendu.")
        return parser(str(value))

    return parse


def _choice(choices: Iterable[str], *, nullable: bool = False) -> Callable[[Any], Any]:
    allowed = tuple(choices)

    def parse(value: Any) -> Any:
        if value is None and nullable:
            return None
        if value not in allowed:
            shown = ", ".join(allowed) + (", null" if nullable else "")
            raise _Invalid(f"« {value} » n'est pas accepté (valeurs possibles : {shown}).")
        return value

    return parse


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true ou false attendu.")
    return value


def _account(value: Any) -> str:
    text = "" if value is None or isinstance(value, bool) else str(value).strip()
    if not re.fullmatch(r"[0-9]{3,20}", text):
        raise _Invalid(f"numéro de compte « {text} » invalide : 3 à 20 chiffres.")
    return text


def _bic(value: str) -> str:
    try:
        return std_bic.validate(value.upper())
    except StdnumError:
        raise _Invalid(f"BIC invalide : « {value} ».") from None


def _rate(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _Invalid("taux attendu.")
    return parse_decimal(value, max_places=2, allow_negative=False, maximum=Decimal(100)).quantize(
        Decimal("0.01")
    )


CARRIER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "code": _wrap(normalize_code),
    "name": _text(200, required=True),
    "address": _text(2000),
    "siren": _wrap(_optional(validate_siren)),
    "siret": _wrap(_optional(validate_siret)),
    "vat_number": _wrap(_optional(validate_vat_number)),
    "iban": _wrap(_optional(validate_iban)),
    "bic": _wrap(_optional(_bic)),
    "email": _wrap(parse_email),
    "vat_regime": _choice([v.value for v in VatRegime]),
    "vat_exemption_mention": _text(300, required=True),
    "payment_terms_days": _wrap(lambda v: parse_int(v, minimum=0, maximum=60)),
    "late_penalty_rate": _wrap(_rate),
    #: First month of the fiscal year, 1 (January, the default) to 12.
    "fiscal_year_start_month": _wrap(parse_start_month),
    #: Code of the member that is the carrier itself (it uses the services too).
    "member": _wrap(lambda v: None if v is None else normalize_code(v)),
}
CARRIER_REQUIRED_ON_CREATE = ("code", "name")

SERVICE_CORE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "code": _wrap(normalize_code),
    "name": _text(200, required=True),
    "revenue_account": _wrap(_account),
    "expense_account": _wrap(_account),
    "overheads_by": _choice(["costs", "hours"], nullable=True),
    "active": _boolean,
}

MEMBER_KEYS: dict[str, Callable[[Any], Any]] = {
    name: _wrap(lambda v, name=name: parse_member_value(name, v)) for name in MEMBER_FIELDS
}
FIGURE_KEYS: dict[str, Callable[[Any], Any]] = {
    name: _wrap(lambda v, name=name: parse_figure_value(name, v)) for name in FIGURE_FIELDS
}

TOP_LEVEL_CORE = ("version", "carrier", "members", "services")


@dataclass
class ServicePlan:
    path: str
    values: dict[str, Any]
    #: Raw values of the registered service sections present in the file.
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemberPlan:
    path: str
    values: dict[str, Any]
    #: year -> parsed figures of that year.
    figures: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Plan:
    """A configuration file parsed and validated, ready to apply."""

    carrier: dict[str, Any] | None = None
    members: list[MemberPlan] = field(default_factory=list)
    services: list[ServicePlan] = field(default_factory=list)
    sections: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


class _Errors:
    def __init__(self) -> None:
        self.items: list[ConfigError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(ConfigError(path, message))

    def fields(
        self,
        path: str,
        mapping: Any,
        parsers: Mapping[str, Callable[[Any], Any]],
        extra: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Parse every known key of ``mapping``; unknown keys are errors."""
        if not isinstance(mapping, dict):
            self.add(path, "un tableau de clés est attendu (clé: valeur).")
            return {}
        extra = set(extra)
        values: dict[str, Any] = {}
        for key, raw in mapping.items():
            if key in extra:
                continue
            parser = parsers.get(key)
            if parser is None:
                accepted = ", ".join([*parsers, *sorted(extra)])
                self.add(child(path, key), f"clé inconnue (clés acceptées : {accepted}).")
                continue
            try:
                values[key] = parser(raw)
            except _Invalid as exc:
                self.add(child(path, key), str(exc))
        return values


def _locate(errors: Iterable[ConfigError], lines: Mapping[str, int]) -> list[ConfigError]:
    """Give each error the line of its path (or of the nearest enclosing path)."""
    located = []
    for error in errors:
        if error.line is None:
            path = error.path
            while path and path not in lines:
                shorter = re.sub(r"(\.[^.\[]*|\[[^\]]*\])$", "", path)
                if shorter == path:  # e.g. "services[COMPTA]": nothing left to strip
                    break
                path = shorter
            line = lines.get(path)
            if line is not None:
                error = ConfigError(error.path, error.message, line)
        located.append(error)
    return located


def validate_configuration(
    session: Session, data: Any, lines: Mapping[str, int] | None = None
) -> Plan:
    """Check the whole file; the plan of parsed values, or ConfigRefused with every error."""
    lines = dict(lines or {})
    errors = _Errors()
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

    members = _validate_members(session, data.get("members"), errors, plan)
    if "carrier" in data:
        plan.carrier = _validate_carrier(session, data["carrier"], errors, members)
    _validate_services(session, data.get("services"), errors, plan)
    for name, section in extra_sections.items():
        if name in data:
            errors.items.extend(section.validate(name, data[name]))
            plan.sections[name] = data[name]
    if errors.items:
        raise ConfigRefused(_locate(errors.items, lines))
    return plan


def _list(value: Any, path: str, errors: _Errors) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "une liste est attendue (éléments commençant par « - »).")
        return []
    return value


def _validate_members(session: Session, raw: Any, errors: _Errors, plan: Plan) -> set[str]:
    """Parse ``members``; returns the member codes the file names."""
    codes: dict[str, str] = {}
    sirets: dict[str, str] = {}
    for index, item in enumerate(_list(raw, "members", errors)):
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
                if required not in values and not _has_error(errors, member_plan.path, required):
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


def _has_error(errors: _Errors, path: str, key: str) -> bool:
    return any(e.path == child(path, key) for e in errors.items)


def _validate_figures(path: str, raw: Any, errors: _Errors) -> dict[int, dict[str, Any]]:
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


def _validate_carrier(
    session: Session, raw: Any, errors: _Errors, member_codes: set[str]
) -> dict[str, Any]:
    values = errors.fields("carrier", raw, CARRIER_FIELDS)
    if not isinstance(raw, dict):
        return values
    if session.scalar(select(Carrier.id).limit(1)) is None:
        for required in CARRIER_REQUIRED_ON_CREATE:
            if required not in raw:
                errors.add(
                    child("carrier", required), "valeur obligatoire (première configuration)."
                )
    siren, siret = values.get("siren"), values.get("siret")
    if siren and siret and siret[:9] != siren:
        errors.add("carrier.siret", f"le SIRET {siret} ne commence pas par le SIREN {siren}.")
    member = values.get("member")
    if member and member not in member_codes:
        exists = session.scalar(select(Member.id).where(Member.code == member))
        if exists is None:
            errors.add("carrier.member", f"adhérent « {member} » inconnu.")
    return values


def _validate_services(session: Session, raw: Any, errors: _Errors, plan: Plan) -> None:
    handlers = service_sections()
    core = {k: v for k, v in SERVICE_CORE_FIELDS.items() if k not in handlers}
    codes: dict[str, str] = {}
    for index, item in enumerate(_list(raw, "services", errors)):
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
            if missing and not _has_error(errors, service_plan.path, "name"):
                errors.add(
                    child(service_plan.path, "name"), "valeur obligatoire pour un nouveau service."
                )


# ------------------------------------------------------------------------------- applying


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


def _set_fields(obj: Any, values: Mapping[str, Any]) -> None:
    """Assign only what differs, so an unchanged field is never marked dirty."""
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


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
        raise ConfigRefused(_locate(exc.errors, plan.lines)) from None
    changes = changes_since(session, start)
    if changes:
        record_audit(
            session, "setup", "configuration", after={"file": filename, "changes": changes}
        )
        session.flush()
    return ApplyResult(changes)


def _apply_plan(session: Session, plan: Plan) -> None:
    members = _apply_members(session, plan.members)
    if plan.carrier is not None:
        _apply_carrier(session, plan.carrier, members)
    handlers = service_sections()
    for service_plan in plan.services:
        service = session.scalars(
            select(Service).where(Service.code == service_plan.values["code"])
        ).one_or_none()
        if service is None:
            service = Service(**service_plan.values)
            session.add(service)
        else:
            _set_fields(service, service_plan.values)
        session.flush()
        for name, handler in handlers.items():
            if name in service_plan.sections:
                handler.apply(session, service, service_plan.sections[name])
    for name, section in sections().items():
        if name in plan.sections:
            section.apply(session, plan.sections[name])


def _apply_members(session: Session, plans: list[MemberPlan]) -> dict[str, Member]:
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


def _apply_carrier(session: Session, values: dict[str, Any], members: dict[str, Member]) -> None:
    fields = dict(values)
    if "member" in fields:
        code = fields.pop("member")
        if code is None:
            fields["member_id"] = None
        else:
            member = (
                members.get(code)
                or session.scalars(select(Member).where(Member.code == code)).one()
            )
            fields["member_id"] = member.id
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).one_or_none()
    if carrier is None:
        session.add(Carrier(**fields))
    else:
        _set_fields(carrier, fields)
    session.flush()


# ------------------------------------------------------------------------------- export


def _plain(value: Any) -> Any:
    """Decimals without useless zeros (170000.00 -> 170000), for a file people read."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return Decimal(format(value.normalize(), "f"))
    return value


def export_configuration(session: Session) -> dict[str, Any]:
    """The current configuration, in the form :func:`apply_configuration` reads."""
    data: dict[str, Any] = {"version": VERSION}
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).one_or_none()
    if carrier is not None:
        data["carrier"] = {
            name: _plain(getattr(carrier, name)) for name in CARRIER_FIELDS if name != "member"
        }
        data["carrier"]["member"] = carrier.member.code if carrier.member else None
    figures_by_member: dict[int, dict[int, dict[str, Any]]] = {}
    for figures in session.scalars(select(MemberFigures).order_by(MemberFigures.year)):
        figures_by_member.setdefault(figures.member_id, {})[figures.year] = {
            name: _plain(getattr(figures, name)) for name in FIGURE_FIELDS
        }
    members = []
    for member in session.scalars(select(Member).order_by(Member.code)):
        item = {name: _plain(getattr(member, name)) for name in MEMBER_FIELDS}
        if member.id in figures_by_member:
            item["figures"] = figures_by_member[member.id]
        members.append(item)
    if members:
        data["members"] = members
    handlers = service_sections()
    services = []
    for service in session.scalars(select(Service).order_by(Service.code)):
        item = {
            name: _plain(getattr(service, name))
            for name in SERVICE_CORE_FIELDS
            if name not in handlers
        }
        for name, handler in handlers.items():
            value = handler.export(session, service)
            if value is not None:
                item[name] = value
        services.append(item)
    if services:
        data["services"] = services
    for name, section in sections().items():
        value = section.export(session)
        if value is not None:
            data[name] = value
    return data


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (several times faster), else the Python one."""


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar(_STR, value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(str, _represent_str)

EXPORT_HEADER = """\
# Mutualise configuration (mutualise setup FILE.yaml applies it; --export writes it).
# Applying it twice changes nothing; keys left out are left untouched; nothing is deleted.
"""


def dump_configuration(data: Mapping[str, Any]) -> str:
    """The YAML text of a configuration mapping."""
    body = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return EXPORT_HEADER + body
