"""French plurals for messages: « 1 saisie », « 3 saisies », never « saisie(s) ».

In the domain (no Flask, no Babel): the web layer's ``app.formatting.plural`` uses the same
rule with Babel's number format. French: 0 and 1 take the singular.
"""

from __future__ import annotations


def plural_words(singular: str) -> str:
    """Each word takes an « s » unless it ends in s, x or z (« mois », « prix »)."""
    return " ".join(w if w.endswith(("s", "x", "z")) or not w[-1:].isalpha() else w + "s"
                    for w in singular.split(" "))


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 saisie soumise », « 2 saisies soumises », « 1 500 lignes » (thin space groups)."""
    word = singular if abs(count) < 2 else (plural_form or plural_words(singular))
    return f"{count:,}".replace(",", "\u202f") + f" {word}"
