"""Postal addresses, structured: street lines, postcode, city, ISO 3166-1 country code.

The Factur-X XML (EN 16931 BG-5 / BG-8) wants the postcode, the city and the country apart.
Addresses used to be one free text; :func:`split_address` takes such a text apart when its
last lines read as a French address (``01600 Trévoux``, optionally followed by a country
name), and says ``None`` when it cannot: the caller keeps the text as it is and reports it
(migration 0009, ``mutualise addresses``, the members page).

Pure functions over strings: no database, no Flask.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: ``01600 Trévoux``, ``F-01600 Trévoux``, ``69002 Lyon Cedex 02``.
_POSTCODE_CITY = re.compile(r"^(?:F-|FR-)?(\d{5})\s+(\S.*)$")

#: Country names read at the end of an address (upper-cased, without accents).
COUNTRY_NAMES = {
    "FRANCE": "FR",
    "BELGIQUE": "BE",
    "SUISSE": "CH",
    "LUXEMBOURG": "LU",
    "ALLEMAGNE": "DE",
    "ESPAGNE": "ES",
    "ITALIE": "IT",
    "MONACO": "MC",
}
COUNTRY_LABELS = {"FR": "France", "BE": "Belgique", "CH": "Suisse", "LU": "Luxembourg",
                  "DE": "Allemagne", "ES": "Espagne", "IT": "Italie", "MC": "Monaco"}

#: Most street lines an address keeps (CII has LineOne, LineTwo, LineThree).
MAX_LINES = 3


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    postcode: str | None
    city: str | None
    country_code: str = "FR"

    @property
    def street(self) -> str:
        return "\n".join(self.lines)

    @property
    def complete(self) -> bool:
        return bool(self.lines and self.postcode and self.city and self.country_code)

    def text_lines(self) -> list[str]:
        """The address as printed on a document: street lines, « 01600 Trévoux », the
        country only when it is not France."""
        out = list(self.lines)
        last = " ".join(part for part in (self.postcode, self.city) if part)
        if last:
            out.append(last)
        if self.country_code and self.country_code != "FR":
            out.append(COUNTRY_LABELS.get(self.country_code, self.country_code))
        return out


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper().strip()


def clean_lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def split_address(text: str | None) -> Address | None:
    """A free-text address taken apart, or None when it cannot be (no « 01600 Trévoux » line
    at the end, no street line before it, or more than three street lines)."""
    lines = clean_lines(text)
    country = "FR"
    if lines and _plain(lines[-1]) in COUNTRY_NAMES:
        country = COUNTRY_NAMES[_plain(lines[-1])]
        lines = lines[:-1]
    if len(lines) < 2:
        return None
    match = _POSTCODE_CITY.match(lines[-1])
    if match is None or len(lines) - 1 > MAX_LINES:
        return None
    return Address(tuple(lines[:-1]), match.group(1), match.group(2).strip(), country)


def structured(street: str | None, postcode: str | None, city: str | None,
               country_code: str | None) -> Address:
    """The stored fields as an :class:`Address`; a text never split (postcode and city
    empty) is taken apart on the fly when it can be."""
    if not postcode and not city:
        found = split_address(street)
        if found is not None:
            return found
    return Address(tuple(clean_lines(street)), postcode or None, city or None,
                   (country_code or "FR").upper())


def electronic_address(explicit: str | None, siren: str | None) -> tuple[str, str] | None:
    """(scheme, identifier) of an electronic address (BT-34 / BT-49): the one set, written
    ``SCHEME:ID``, else ``0225:<SIREN>`` as the French directory assigns it; None without
    either."""
    if explicit and ":" in explicit:
        scheme, _, identifier = explicit.partition(":")
        return scheme.strip(), identifier.strip()
    if explicit:
        return "0225", explicit.strip()
    if siren:
        return "0225", siren
    return None


_COUNTRY = re.compile(r"^[A-Z]{2}$")


def validate_country(value: str | None) -> str:
    """An ISO 3166-1 alpha-2 code (« FR »; « France », « Belgique »… are read too); empty means
    France."""
    text = (value or "").strip().upper()
    if not text:
        return "FR"
    if _plain(text) in COUNTRY_NAMES:
        return COUNTRY_NAMES[_plain(text)]
    if not _COUNTRY.match(text):
        raise ValueError(f"code pays « {value} » invalide : deux lettres (FR, BE…).")
    return text


_POSTCODE = re.compile(r"^[0-9A-Z][0-9A-Z -]{1,9}$")


def validate_postcode(value: str | None) -> str | None:
    text = (value or "").strip().upper()
    if not text:
        return None
    if not _POSTCODE.match(text):
        raise ValueError(f"code postal « {value} » invalide.")
    return text


def expand_address(values: dict[str, object]) -> dict[str, object]:
    """Field values with a one-text ``address`` whose last lines read « 01600 Trévoux » split
    into ``address`` (street lines), ``postcode``, ``city`` and ``country_code`` — fields
    given explicitly (not empty) win. An import or a configuration file compared field by
    field with what is stored then sees no change when the same address comes again."""
    text = values.get("address")
    found = split_address(text) if isinstance(text, str) else None
    if found is None:
        return dict(values)
    out = dict(values)
    out["address"] = found.street
    for key, value in (("postcode", found.postcode), ("city", found.city),
                       ("country_code", found.country_code)):
        if not out.get(key) or (key == "country_code" and "postcode" not in values):
            out[key] = value
    return out
