"""French wording across the app: no « (s) » plurals, one word per state.

The states' words live in one table (accounting/wording.py:STATES); these tests grep every
template and every string literal of the four packages for the words that must not name a
state (``FORBIDDEN``) and for « (s) »-style plurals, and check that each place that names a
state reads the table.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path
from types import SimpleNamespace

import pytest

from accounting.allocation.models import RunStatus
from accounting.invoicing.amounts import InvoiceStatus
from accounting.periods import PeriodStatus
from accounting.wording import FORBIDDEN, STATES, count_en, plural, state_word
from app.admin.audit_text import changes, event_kind, value_text
from app.formatting import badge_word
from timesheets.models import EntryStatus

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "accounting", "timesheets", "imports")
#: « saisie(s) », « envoyé(e)s », « entr(y/ies) »: a word glued to a bracketed ending.
BRACKET_PLURAL = re.compile(r"[A-Za-zÀ-ÿ]\((s|e|es|x|y/ies)\)")
RAW = re.compile(r"[bBfF]?[rR]")  # a regular expression, not a message


#: A JavaScript string literal, double or single quoted (messages shown by the scripts).
JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
#: A template's expressions and statements are code (``text.event_kind(e)``), not text.
JINJA_CODE = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)


def _texts() -> list[tuple[str, str]]:
    """(where, text) of every template, script and Python string literal users may read."""
    found: list[tuple[str, str]] = []
    for package in PACKAGES:
        for pattern in ("*.html", "*.js"):
            for path in sorted((ROOT / package).rglob(pattern)):
                if "vendor" in path.parts:  # Chart.js, Swagger UI: not our words
                    continue
                text = path.read_text(encoding="utf-8")
                if path.suffix == ".js":  # a script's messages are its string literals
                    text = "\n".join(JS_STRING.findall(text))
                found.append((str(path.relative_to(ROOT)), text))
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "wording.py":  # the table of forbidden words itself
                continue
            source = path.read_text(encoding="utf-8")
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type == tokenize.STRING:
                    found.append((f"{path.relative_to(ROOT)}:{token.start[0]}", token.string))
    return found


TEXTS = _texts()


def test_the_grep_sees_the_templates_and_the_messages() -> None:
    wheres = {where.split(":")[0] for where, _ in TEXTS}
    assert "app/templates/_macros.html" in wheres
    assert "imports/timesheets/report.py" in wheres
    assert "app/static/timesheets.js" in wheres
    assert len(TEXTS) > 5000


def test_no_bracketed_plural_anywhere_users_read() -> None:
    texts = [(where, JINJA_CODE.sub(" ", text) if where.endswith(".html") else text)
             for where, text in TEXTS if not RAW.match(text)]
    found = [f"{where}: {BRACKET_PLURAL.search(text)[0]}" for where, text in texts
             if BRACKET_PLURAL.search(text)]
    assert found == []


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_no_synonym_names_a_state(pattern: str) -> None:
    compiled = re.compile(pattern, re.IGNORECASE)
    found = [f"{where}: {compiled.search(text)[0]}" for where, text in TEXTS
             if compiled.search(text)]
    assert found == [], f"use « {FORBIDDEN[pattern]} »"


@pytest.mark.parametrize("text", [
    "3 saisies approuvées", "Facture validée", "Répartition validée", "Payée en partie",
    "la période est fermée", "Renvoyé : à refaire",
])
def test_the_forbidden_patterns_catch_the_reported_synonyms(text: str) -> None:
    assert any(re.search(p, text, re.IGNORECASE) for p in FORBIDDEN)


@pytest.mark.parametrize("text", [
    "3 saisies validées", "Répartition approuvée", "Partiellement payée", "Période clôturée",
    "Renvoyée : à refaire", "Vos autres sessions sont fermées",
])
def test_the_right_words_pass(text: str) -> None:
    assert not any(re.search(p, text, re.IGNORECASE) for p in FORBIDDEN)


@pytest.mark.parametrize(("kind", "enum"), [
    ("entry", EntryStatus), ("run", RunStatus), ("invoice", InvoiceStatus),
    ("period", PeriodStatus),
])
def test_every_state_has_its_word(kind: str, enum: type) -> None:
    assert {s.value for s in enum} <= set(STATES[kind])


def test_the_enums_and_the_badges_read_the_one_table() -> None:
    assert EntryStatus.APPROVED.label == "Validée"
    assert RunStatus.APPROVED.label == "Approuvée"
    assert InvoiceStatus.PARTLY_PAID.label == "Partiellement payée"
    assert badge_word(None, "approved") == "Validée"
    assert badge_word("run", "approved") == "Approuvée"
    assert badge_word(None, "closed") == "Clôturée"
    assert badge_word(None, "issued") == "Émise"
    assert state_word("invoice", "overdue", capital=False) == "en retard"


def test_the_audit_log_says_the_word_of_the_object() -> None:
    run = SimpleNamespace(action="update", object_type="allocation_runs",
                          before={"status": "stored"}, after={"status": "approved"})
    entry = SimpleNamespace(action="update", object_type="work_entries",
                            before={"status": "submitted"}, after={"status": "approved"})
    assert [(c.before, c.after) for c in changes(run)] == [("enregistrée", "approuvée")]
    assert [(c.before, c.after) for c in changes(entry)] == [("soumise", "validée")]
    assert value_text("status", "paid", "invoices") == "payée"
    approve = SimpleNamespace(action="approve", object_type="allocation_runs", after={})
    assert event_kind(approve) == "Approbation"


def test_plurals_agree_in_number() -> None:
    assert plural(0, "ligne importée") == "0 ligne importée"
    assert plural(1, "ligne importée") == "1 ligne importée"
    assert plural(3, "ligne importée") == "3 lignes importées"
    assert count_en(0, "line") == "0 lines"
    assert count_en(1, "entry", "entries") == "1 entry"
    assert count_en(2, "entry", "entries") == "2 entries"
