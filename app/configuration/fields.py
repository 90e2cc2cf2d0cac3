"""Field parsers of the configuration sections, and the helpers they share: collecting every
error, locating it, assigning only what differs, plain values for export."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from stdnum import bic as std_bic
from stdnum.exceptions import ValidationError as StdnumError

from accounting.org import OrgError
from app.configuration.errors import ConfigError, child
from imports.errors import InvalidValue
from imports.members import clean_text, normalize_code
from imports.parsing import parse_decimal


class Invalid(Exception):
    """A value refused by a field parser (French message)."""


def wrap(parser: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if isinstance(value, dict | list):
            raise Invalid("une valeur simple est attendue, pas une liste ni un tableau.")
        try:
            return parser(value)
        except InvalidValue as exc:
            raise Invalid(exc.message) from None
        except (OrgError, ValueError) as exc:
            raise Invalid(str(exc)) from None

    return parse


def text_field(limit: int, *, required: bool = False) -> Callable[[Any], Any]:
    def parse(value: Any) -> str:
        if isinstance(value, bool):
            raise Invalid("texte attendu.")
        return clean_text(value, limit=limit, required="valeur obligatoire." if required else None)

    return wrap(parse)


def optional_field(parser: Callable[[str], str | None]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise Invalid("texte attendu.")
        return parser(str(value))

    return parse


def choice_field(choices: Iterable[str], *, nullable: bool = False) -> Callable[[Any], Any]:
    allowed = tuple(choices)

    def parse(value: Any) -> Any:
        if value is None and nullable:
            return None
        if value not in allowed:
            shown = ", ".join(allowed) + (", null" if nullable else "")
            raise Invalid(f"« {value} » n'est pas accepté (valeurs possibles : {shown}).")
        return value

    return parse


def boolean_field(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true ou false attendu.")
    return value


def account_field(value: Any) -> str:
    text = "" if value is None or isinstance(value, bool) else str(value).strip()
    if not re.fullmatch(r"[0-9]{3,20}", text):
        raise Invalid(f"numéro de compte « {text} » invalide : 3 à 20 chiffres.")
    return text


def bic_value(value: str) -> str:
    try:
        return std_bic.validate(value.upper())
    except StdnumError:
        raise Invalid(f"BIC invalide : « {value} ».") from None


def rate_field(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise Invalid("taux attendu.")
    return parse_decimal(value, max_places=2, allow_negative=False, maximum=Decimal(100)).quantize(
        Decimal("0.01")
    )


class Errors:
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
            except Invalid as exc:
                self.add(child(path, key), str(exc))
        return values


def locate(errors: Iterable[ConfigError], lines: Mapping[str, int]) -> list[ConfigError]:
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


def as_list(value: Any, path: str, errors: Errors) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "une liste est attendue (éléments commençant par « - »).")
        return []
    return value


def has_error(errors: Errors, path: str, key: str) -> bool:
    return any(e.path == child(path, key) for e in errors.items)


def set_fields(obj: Any, values: Mapping[str, Any]) -> None:
    """Assign only what differs, so an unchanged field is never marked dirty."""
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


def plain(value: Any) -> Any:
    """Decimals without useless zeros (170000.00 -> 170000), for a file people read."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return Decimal(format(value.normalize(), "f"))
    return value


#: The keys a carrier and a service both start with: its code and its name.
CODE_AND_NAME: dict[str, Callable[[Any], Any]] = {
    "code": wrap(normalize_code),
    "name": text_field(200, required=True),
}
