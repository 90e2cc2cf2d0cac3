"""The words of allocation keys, in French and English: what the parser of
:mod:`accounting.allocation.keys` recognises as a basis (« part égale », « heures »,
``hours``...), the connectors people put before it (« au prorata des », « à »), and the
phrase that introduces common work (« travail commun », ``common_by=``).

Matching ignores case, accents, the kind of apostrophe and the number of spaces, and works on
the original text's positions, so an error caret points at what the user typed."""

from __future__ import annotations

import re
import unicodedata

#: Basis name (``BasisName`` value) -> the words that name it, folded (no accent, lower case).
BASIS_WORDS: dict[str, tuple[str, ...]] = {
    "equal": ("parts egales", "part egale", "egalitaire", "equal"),
    "hours": ("heures", "heure", "hours"),
    "units": ("unites d'oeuvre", "unite d'oeuvre", "unites", "unite", "units"),
    "revenue": ("chiffre d'affaires", "ca", "revenue"),
    "headcount": ("effectifs", "effectif", "etp", "headcount"),
    "fixed": ("pourcentages fixes", "pourcentage fixe", "fixes", "fixe", "fixed"),
}

#: The bases as listed in error messages, French first.
BASES_SHOWN = (
    "part égale, heures, unités, chiffre d'affaires, effectif ou pourcentages fixes (…) "
    "(en anglais : equal, hours, units, revenue, headcount, fixed(…))"
)

_CONNECTORS = (
    "au prorata des",
    "au prorata du",
    "au prorata de l'",
    "au prorata de",
    "selon les",
    "selon",
    "aux",
    "au",
    "a",
    "en",
    "par",
)
_COMMON = ("travail commun",)
_COMMON_BY = ("common_by",)


def _pattern(phrase: str) -> str:
    """A folded phrase as a regex: any run of spaces between words, a space or none after an
    apostrophe, and a word boundary at the end (unless it ends with an apostrophe)."""
    words = [re.escape(word) for word in phrase.split(" ")]
    body = r"\s+".join(words).replace("'", r"'\s*")
    return body if phrase.endswith("'") else body + r"(?![0-9a-z_])"


def _alternatives(phrases: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted(phrases, key=len, reverse=True)
    return re.compile("|".join(f"({_pattern(p)})" for p in ordered))


_BASES = [(name, _alternatives(words)) for name, words in BASIS_WORDS.items()]
_CONNECTOR = re.compile(
    "|".join(_pattern(c) + (r"" if c.endswith("'") else r"\s+") for c in _CONNECTORS)
)
_COMMON_RE = _alternatives(_COMMON)
_COMMON_BY_RE = _alternatives(_COMMON_BY)


def _fold_char(char: str) -> str:
    if char in "’‘`´":
        return "'"
    if char in "œŒ":
        return "oe"
    if char in " \t\u00a0\u202f":
        return " "
    decomposed = unicodedata.normalize("NFKD", char.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)) or char


class Folded:
    """A text folded for matching, with the way back to the original positions."""

    def __init__(self, text: str) -> None:
        pieces: list[str] = []
        self.starts: list[int] = []  # original index -> folded index
        self.origins: list[int] = []  # folded index -> original index
        for index, char in enumerate(text):
            folded = _fold_char(char)
            self.starts.append(len(self.origins))
            pieces.append(folded)
            self.origins.extend([index] * len(folded))
        self.starts.append(len(self.origins))
        self.origins.append(len(text))
        self.text = "".join(pieces)

    def _match(self, pattern: re.Pattern[str], pos: int) -> re.Match[str] | None:
        return pattern.match(self.text, self.starts[pos])

    def _end(self, match: re.Match[str]) -> int:
        return self.origins[match.end()]

    def connector(self, pos: int) -> int:
        """The position after a connector (« au prorata des », « à »...) at ``pos``, or
        ``pos`` when there is none."""
        match = self._match(_CONNECTOR, pos)
        return self._end(match) if match else pos

    def basis(self, pos: int) -> tuple[str, int] | None:
        """(basis name, position after its words) of the basis named at ``pos``."""
        found: tuple[str, int] | None = None
        for name, pattern in _BASES:
            match = self._match(pattern, pos)
            if match and (found is None or self._end(match) > found[1]):
                found = (name, self._end(match))
        return found

    def common(self, pos: int) -> tuple[bool, int] | None:
        """At ``pos``: « travail commun » (False, end) or ``common_by`` (True, end)."""
        if match := self._match(_COMMON_BY_RE, pos):
            return True, self._end(match)
        if match := self._match(_COMMON_RE, pos):
            return False, self._end(match)
        return None
