"""French words for messages: plurals (« 1 saisie », « 3 saisies », never « saisie(s) ») and
the one word of each state.

In the domain (no Flask, no Babel): the web layer's ``app.formatting.plural`` uses the same
rule with Babel's number format. French: 0 and 1 take the singular.

:data:`STATES` is the single table of state words: the enums' ``label``, the pages' badges
(``status_badge``), the audit log and the workbooks read it, and ``tests/test_wording.py`` greps
the templates and messages for the synonyms of :data:`FORBIDDEN` so that a state keeps its word.
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


def count_en(count: int, singular: str, plural_form: str | None = None) -> str:
    """English output of the command line: « 1 line », « 0 lines », « 2 entries » (English
    takes the plural for zero, unlike French)."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


#: One word per state, per kind of object, lower case (``state_word`` capitalises). A time
#: entry is « validée » by the coordination; an allocation run « approuvée » by the treasurer.
STATES: dict[str, dict[str, str]] = {
    "entry": {"draft": "brouillon", "submitted": "soumise", "approved": "validée",
              "sent_back": "renvoyée"},
    "run": {"stored": "enregistrée", "approved": "approuvée", "replaced": "remplacée"},
    "invoice": {"draft": "brouillon", "issued": "émise", "partly_paid": "partiellement payée",
                "paid": "payée", "cancelled": "annulée par avoir", "overdue": "en retard"},
    "period": {"open": "ouverte", "closed": "clôturée"},
}  # fmt: skip

#: The kind of object of each audited table whose ``status`` is one of :data:`STATES`.
STATE_KIND_OF_TABLE = {"work_entries": "entry", "allocation_runs": "run", "invoices": "invoice",
                       "credit_notes": "invoice", "periods": "period"}  # fmt: skip

#: Words that must not name a state (regular expressions, matched case-insensitively in the
#: templates and messages by tests/test_wording.py), with the word to use instead.
FORBIDDEN: dict[str, str] = {
    r"\b(saisies?|temps) (sont |est )?approuvée?s?\b": "validée (a time entry)",
    r"\bpayées? en partie\b": "partiellement payée",
    r"\brépartitions? (sont |est |non )?validées?\b": "approuvée (an allocation run)",
    r"\bpériodes? (sont |est )?fermées?\b": "clôturée",
    r"\b(saisies?|factures?) (rejetées?|refusées?)\b": "renvoyée",
    r"\bfactures? (sont |est )?(validées?|approuvées?)\b": "émise",
    r"\bRenvoyé :": "Renvoyée (a time entry)",
}


def state_word(kind: str, status: str, *, capital: bool = True) -> str:
    """« Validée » for an approved time entry, « Approuvée » for an approved run; an unknown
    state is shown as stored rather than hidden."""
    word = STATES.get(kind, {}).get(str(status), str(status))
    return word[:1].upper() + word[1:] if capital else word
