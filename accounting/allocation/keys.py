"""Allocation keys: the text members agree on, parsed into frozen values, and said back in French.

Grammar (DESIGN §4, issue 4)::

    KEY   = PART { " + " PART } [ ", common_by=" BASIS ]
    PART  = [ PERCENT "% " ] BASIS
    BASIS = equal | hours | units | revenue | headcount | fixed(CODE=PERCENT%, ...)

Percentages take a decimal comma or point and an optional space before ``%``; spaces around
``+``, ``,`` and ``=`` are free and keywords are case-insensitive, because keys are typed by people
reading from meeting minutes. Invariants, checked both by the parser (with the position of the
wrong character) and by the constructors (for keys built in code): the parts' weights add up to
100 %, each weight is in ]0, 100], no basis appears twice, the percentages of ``fixed(...)`` add up
to 100 % with no code twice, and ``common_by`` only comes with an ``hours`` or ``units`` part.

``format_key`` writes the canonical text (decimal comma, one space around ``+``, ``100%`` of a
lone part left out) that parses back to an equal ``Key``; ``describe_key_fr`` gives the words used
on invoices (« 25 % part égale + 75 % au prorata des heures »). The values themselves
(``Basis``, ``KeyPart``, ``Key``) and their canonical text live in ``key_model.py``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from accounting.allocation.errors import InvalidKey, KeySyntaxError
from accounting.allocation.key_model import (
    _NBSP,
    _SPACES,
    EQUAL,  # noqa: F401 - callers import the values from keys
    HEADCOUNT,  # noqa: F401 - callers import the values from keys
    HOURS,  # noqa: F401 - callers import the values from keys
    HUNDRED,
    REVENUE,  # noqa: F401 - callers import the values from keys
    UNITS,  # noqa: F401 - callers import the values from keys
    Basis,
    BasisName,
    Key,
    KeyPart,
    fixed,  # noqa: F401 - callers import the values from keys
    format_basis,  # noqa: F401 - callers import the values from keys
    format_key,  # noqa: F401 - callers import the values from keys
    format_percent,
)
from accounting.allocation.key_words import BASES_SHOWN, Folded

# --------------------------------------------------------------------------- parsing

_BASIS_WORDS = [
    "part égale", "heures", "unités", "chiffre d'affaires", "effectif", "pourcentages fixes",
    *(b.value for b in BasisName),
]


class _Parser:
    """Recursive descent over the text, with the position of every token for error carets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.words = Folded(text)

    def fail(self, message: str, position: int | None = None) -> KeySyntaxError:
        return KeySyntaxError(message, self.pos if position is None else position, self.text)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACES:
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def shown(self) -> str:
        return f"« {self.peek()} »" if self.peek() else "la fin du texte"

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            raise self.fail(f"{what} attendu, trouvé {self.shown()}.")
        self.pos += 1

    def word(self) -> tuple[str, int]:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.text[start : self.pos], start

    def number(self) -> tuple[Decimal, int]:
        """Digits, then optionally a decimal comma or point followed by digits."""
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        if self.pos == start:
            raise self.fail(f"Nombre attendu, trouvé {self.shown()}.")
        after = self.text[self.pos + 1 : self.pos + 2]
        if self.peek() in ",." and after.isdigit():
            self.pos += 1
            while self.peek().isdigit():
                self.pos += 1
        raw = self.text[start : self.pos].replace(",", ".")
        try:
            return Decimal(raw), start
        except InvalidOperation:  # pragma: no cover - digits only reach here
            raise self.fail("Nombre illisible.", start) from None

    def percent(self) -> tuple[Decimal, int]:
        value, start = self.number()
        self.skip_spaces()
        if self.peek() != "%":
            number = self.text[start : self.pos].strip()
            raise self.fail(f"« % » attendu après {number}, trouvé {self.shown()}.")
        self.pos += 1
        if value > HUNDRED:
            raise self.fail(
                f"Un pourcentage ne dépasse pas 100 % (ici {format_percent(value)} %).", start
            )
        return value, start

    def basis(self) -> Basis:
        """A basis in French or English words, after an optional connector (« au prorata
        des heures », « à parts égales », ``hours``)."""
        self.skip_spaces()
        start = self.pos
        self.pos = self.words.connector(self.pos)
        self.skip_spaces()
        found = self.words.basis(self.pos)
        if found is None:
            word, word_start = self.word()
            self.pos = word_start
            if not word:
                raise self.fail(f"Base attendue ({BASES_SHOWN}), trouvé {self.shown()}.")
            close = difflib.get_close_matches(word.lower(), _BASIS_WORDS, n=1)
            hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
            raise self.fail(f"Base inconnue « {word} » : attendu {BASES_SHOWN}.{hint}")
        words_start = self.pos
        name, self.pos = found
        if name != BasisName.FIXED:
            return Basis(BasisName(name))
        return self.fixed_body(start, self.text[words_start : self.pos])

    def fixed_body(self, start: int, written: str) -> Basis:
        self.skip_spaces()
        self.expect("(", f"« ( » après {written}")
        entries: list[tuple[str, Decimal]] = []
        seen: set[str] = set()
        while True:
            self.skip_spaces()
            code_start = self.pos
            while self.pos < len(self.text) and (
                self.text[self.pos].isalnum() or self.text[self.pos] in "_-."
            ):
                self.pos += 1
            code = self.text[code_start : self.pos]
            if not code:
                raise self.fail(f"Code d'adhérent attendu, trouvé {self.shown()}.")
            if code in seen:
                raise self.fail(
                    f"L'adhérent {code} est nommé deux fois dans fixed(...).", code_start
                )
            seen.add(code)
            self.skip_spaces()
            self.expect("=", f"« = » après {code}")
            self.skip_spaces()
            value, _ = self.percent()
            entries.append((code, value))
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == ")":
                self.pos += 1
                break
            raise self.fail(f"« , » ou « ) » attendu, trouvé {self.shown()}.")
        total = sum((p for _, p in entries), Decimal(0))
        if total != HUNDRED:
            raise self.fail(
                f"Les pourcentages de fixed(...) totalisent {format_percent(total)} % "
                "au lieu de 100 %.",
                start,
            )
        return Basis(BasisName.FIXED, tuple(entries))

    def part(self) -> tuple[Decimal | None, int, Basis, int]:
        self.skip_spaces()
        weight: Decimal | None = None
        weight_pos = self.pos
        if self.peek().isdigit():
            weight, weight_pos = self.percent()
            if weight == 0:
                raise self.fail("Une part de 0 % ne sert à rien : retirez-la.", weight_pos)
        self.skip_spaces()
        basis_pos = self.pos
        return weight, weight_pos, self.basis(), basis_pos

    def key(self) -> Key:
        self.skip_spaces()
        if not self.peek():
            raise self.fail(
                "La clé est vide : écrivez par exemple « heures » ou "
                "« 25 % part égale + 75 % heures »."
            )
        parts = [self.part()]
        while True:
            self.skip_spaces()
            if self.peek() != "+":
                break
            self.pos += 1
            parts.append(self.part())
        common_by: Basis | None = None
        common_pos = self.pos
        if self.peek() == ",":
            self.pos += 1
            self.skip_spaces()
            common_pos = self.pos
            found = self.words.common(self.pos)
            if found is None:
                word, _ = self.word()
                self.pos = common_pos
                raise self.fail(
                    "« travail commun … » (ou « common_by= ») attendu après la virgule, "
                    f"trouvé « {word or self.peek()} ».",
                )
            english, self.pos = found
            if english:
                self.skip_spaces()
                self.expect("=", "« = » après common_by")
            common_by = self.basis()
        self.skip_spaces()
        if self.peek():
            raise self.fail(f"Texte inattendu {self.shown()} : une part se joint par « + ».")
        return self.check(parts, common_by, common_pos)

    def check(
        self,
        parts: list[tuple[Decimal | None, int, Basis, int]],
        common_by: Basis | None,
        common_pos: int,
    ) -> Key:
        if len(parts) > 1:
            for weight, _, _, basis_pos in parts:
                if weight is None:
                    raise self.fail(
                        "Chaque part d'une clé composée commence par son pourcentage "
                        "(par exemple « 25 % part égale + 75 % heures »).",
                        basis_pos,
                    )
        seen: set[BasisName] = set()
        for _, _, basis, basis_pos in parts:
            if basis.name in seen:
                raise self.fail(
                    f"La base « {_FR_BASIS[basis.name]} » apparaît deux fois : "
                    "additionnez ses pourcentages.",
                    basis_pos,
                )
            seen.add(basis.name)
        weights = [HUNDRED if w is None else w for w, _, _, _ in parts]
        total = sum(weights, Decimal(0))
        if total != HUNDRED:
            raise self.fail(
                f"Les parts totalisent {format_percent(total)} % au lieu de 100 %.", parts[-1][1]
            )
        if common_by is not None and not any(n.measured for n in seen):
            raise self.fail(
                "Le travail commun se partage dans une part heures ou unités : "
                "cette clé n'en a pas.",
                common_pos,
            )
        return Key(
            tuple(KeyPart(w, b) for w, (_, _, b, _) in zip(weights, parts, strict=True)),
            common_by,
        )


def parse_key(text: str) -> Key:
    """Read a key as people write it; raise ``KeySyntaxError`` pointing at the wrong character."""
    return _Parser(text).key()


def parse_basis(text: str) -> Basis:
    """Read one basis (``hours``, ``fixed(A=50%, B=50%)``), e.g. from a stored explanation."""
    parser = _Parser(text)
    basis = parser.basis()
    parser.skip_spaces()
    if parser.peek():
        raise parser.fail(f"Texte inattendu {parser.shown()} après la base.")
    return basis


# --------------------------------------------------------------------------- formatting


#: The French words of each basis in a key's text (they parse back to the basis).
_FR_BASIS = {
    BasisName.EQUAL: "part égale",
    BasisName.HOURS: "heures",
    BasisName.UNITS: "unités",
    BasisName.REVENUE: "chiffre d'affaires",
    BasisName.HEADCOUNT: "effectif",
    BasisName.FIXED: "pourcentages fixes",
}
_FR_COMMON = {
    BasisName.EQUAL: "à parts égales",
    BasisName.HOURS: "au prorata des heures",
    BasisName.UNITS: "au prorata des unités",
    BasisName.REVENUE: "au prorata du chiffre d'affaires",
    BasisName.HEADCOUNT: "au prorata de l'effectif",
    BasisName.FIXED: "selon les pourcentages fixes",
}


def format_basis_fr(basis: Basis, *, common: bool = False) -> str:
    """One basis in the French words of a key: « heures », « pourcentages fixes (A=50 %,
    B=50 %) »; ``common``: as the way common work is shared (« à parts égales »)."""
    text = (_FR_COMMON if common else _FR_BASIS)[basis.name]
    if basis.name is BasisName.FIXED:
        inner = ", ".join(f"{code}={format_percent(p)} %" for code, p in basis.fixed)
        text += f" ({inner})"
    return text


def format_key_fr(key: Key) -> str:
    """A key as shown to people: « 20 % part égale + 80 % unités, travail commun à parts
    égales » (parses back to an equal key; the stored text stays ``format_key``'s)."""
    if len(key.parts) == 1:
        text = format_basis_fr(key.parts[0].basis)
    else:
        text = " + ".join(
            f"{format_percent(p.weight)} % {format_basis_fr(p.basis)}" for p in key.parts
        )
    if key.common_by is not None:
        text += f", travail commun {format_basis_fr(key.common_by, common=True)}"
    return text


def key_text_fr(text: str | None) -> str:
    """A stored key text in French words (the text as is when it does not parse)."""
    if not text:
        return ""
    try:
        return format_key_fr(parse_key(text))
    except (KeySyntaxError, InvalidKey):
        return text


# --------------------------------------------------------------------------- French words

_WORDS = {
    BasisName.EQUAL: "part égale",
    BasisName.HOURS: "au prorata des heures",
    BasisName.UNITS: "au prorata des unités d'œuvre",
    BasisName.REVENUE: "au prorata du chiffre d'affaires",
    BasisName.HEADCOUNT: "au prorata des effectifs (ETP)",
    BasisName.FIXED: "selon les pourcentages convenus",
}

_COMMON_WORDS = {
    BasisName.EQUAL: "à parts égales",
    BasisName.HOURS: "au prorata des heures directes",
    BasisName.UNITS: "au prorata des unités d'œuvre directes",
    BasisName.REVENUE: "au prorata du chiffre d'affaires",
    BasisName.HEADCOUNT: "au prorata des effectifs (ETP)",
    BasisName.FIXED: "selon les pourcentages convenus",
}


def describe_basis_fr(basis: Basis, *, common: bool = False) -> str:
    """The French words of one basis (``common=True``: as the way common work is shared)."""
    words = (_COMMON_WORDS if common else _WORDS)[basis.name]
    if basis.name is BasisName.FIXED:
        inner = ", ".join(f"{code} {format_percent(p)} %" for code, p in basis.fixed)
        words += f" ({inner})"
    return words


def format_number_fr(
    value: Decimal | Fraction | int, places: int = 2, *, trim: bool = False
) -> str:
    """A number the French way: non-breaking space between thousands, decimal comma.

    ``trim`` drops trailing zeros (for counts like 3,5 ETP); money keeps its two places.
    """
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    value = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{value:,.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", _NBSP).replace(".", ",")


def format_minutes_fr(minutes: int | Fraction) -> str:
    """Minutes as people say them: « 30 h », « 12 h 15 », « 45 min »."""
    minutes = int(minutes)
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    if hours == 0 and rest:
        return f"{sign}{rest} min"
    head = f"{sign}{format_number_fr(hours, 0)} h"
    return f"{head} {rest:02d}" if rest else head


def format_basis_value_fr(
    basis: Basis, value: Fraction | Decimal | int, *, total: bool = False
) -> str:
    """A basis value with its unit, as shown in explanations: « 30 h », « 120 000,00 € »;
    an equal share is « 1 part » and its total a bare « 3 » (« 1 part sur 3 »)."""
    name = basis.name
    if name is BasisName.HOURS and Fraction(value).denominator == 1:
        return format_minutes_fr(int(value))
    if name is BasisName.REVENUE:
        return f"{format_number_fr(value, 2)} €"
    if name is BasisName.HEADCOUNT:
        return f"{format_number_fr(value, 4, trim=True)} ETP"
    if name is BasisName.UNITS:
        return f"{format_number_fr(value, 4, trim=True)} unités"
    if name is BasisName.FIXED:
        return f"{format_number_fr(value, 4, trim=True)} %"
    if name is BasisName.EQUAL:
        number = format_number_fr(value, 4, trim=True)
        return number if total else f"{number} part"
    return format_number_fr(value, 4, trim=True)  # pragma: no cover - minutes as a fraction


def _part_lines(bases: Any) -> Sequence[Any]:
    return tuple(getattr(bases, "parts", bases))


def describe_key_fr(key: Key, bases: Any = None) -> str:
    """The key in the words of an invoice designation.

    Without ``bases``: « 25 % part égale + 75 % au prorata des heures ». With ``bases`` — one
    member's explanation (an engine ``MemberShare`` or its ``parts``) — each part is followed by
    that member's figures: « au prorata des heures (30 h sur 60 h) ».
    """
    lines = _part_lines(bases) if bases is not None else ()
    pieces = []
    for part in key.parts:
        words = describe_basis_fr(part.basis)
        if part.basis.name.measured and key.common_by is not None:
            words += f", travail commun {describe_basis_fr(key.common_by, common=True)}"
        if len(key.parts) > 1 or part.weight != HUNDRED:
            words = f"{format_percent(part.weight)} % {words}"
        own = [line for line in lines if line.part_basis == part.basis]
        if own:
            words += f" ({_figures_fr(own)})"
        pieces.append(words)
    return " + ".join(pieces)


def _figures_fr(lines: Sequence[Any]) -> str:
    """« 30 h sur 80 h » for a plain part; with common work « 30 h sur 80 h, dont 20 h de
    travail commun partagé : 1 part sur 3 » (80 h counts the common hours)."""
    texts = []
    for line in lines:
        value = format_basis_value_fr(line.basis, line.value)
        total = format_basis_value_fr(line.basis, line.total, total=True)
        if line.common:
            quantity = format_basis_value_fr(line.part_basis, line.common_quantity)
            texts.append(f"dont {quantity} de travail commun partagé : {value} sur {total}")
        else:
            texts.append(f"{value} sur {total}")
    return ", ".join(texts)
