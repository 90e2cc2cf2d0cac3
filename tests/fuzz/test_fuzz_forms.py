"""Fuzzing every form of the app with random values, as a user holding every role.

The forms are found, not listed: the pages reachable from every GET route are crawled and each
``<form method="post">`` they show is collected with its fields (a new form of any area is
fuzzed without editing this file). For each form, hypothesis posts values drawn per field:
the real choices of a select or random text, numbers and dates in every format, huge and
hostile strings, tampered hidden ids, random uploads. Outcomes allowed: anything but a 500
(in tests an exception propagates and fails with its traceback); and a refusal (4xx) writes
nothing. Each example runs in a savepoint rolled back afterwards.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.org import Role
from app.models import metadata
from tests.fuzz.strategies import NASTY, cell_text, count, fuzz_settings
from tests.security.crawl import crawl, get_pages

#: Forms not fuzzed, and why.
SKIPPED_ACTIONS = {
    "/logout": "ends the session the fuzzing needs",
    "/logout/partout": "ends every session of the account, the fuzzing's too",
}


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    fields: dict[str, Field]
    multipart: bool

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return urlsplit(self.action).path, tuple(sorted(self.fields))


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.page, a.get("action") or self.page)
                self._form = Form(self.page, action, {},
                                  "multipart" in a.get("enctype", ""))
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "reset", "image"):
                if kind == "submit" and name not in self._form.fields:
                    self._form.fields[name] = Field(name, "submit", a.get("value", ""))
                return
            existing = self._form.fields.get(name)
            if existing and kind in ("radio", "checkbox"):
                existing.options.append(a.get("value", "on"))
                return
            self._form.fields[name] = Field(name, kind, a.get("value", ""),
                                            [a.get("value", "on")] if kind in ("radio", "checkbox")
                                            else [])
        elif tag == "textarea" and name:
            self._form.fields[name] = Field(name, "textarea")
        elif tag == "select" and name:
            self._select = Field(name, "select")
            self._form.fields[name] = self._select
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self._form.fields.setdefault(name, Field(name, "submit", a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def discover_forms(app: Flask, client: FlaskClient) -> list[Form]:
    pages = crawl(client, ["/accueil", *get_pages(app)], limit=300, per_endpoint=2)
    found: dict[tuple[str, tuple[str, ...]], Form] = {}
    for url, page in pages.items():
        if not (page.is_html and page.status == 200):
            continue
        parser = _Forms(url)
        parser.feed(page.text)
        for form in parser.forms:
            if urlsplit(form.action).path in SKIPPED_ACTIONS:
                continue
            found.setdefault(form.key, form)
    return list(found.values())


# ---------------------------------------------------------------- values

_ANY_TEXT = st.one_of(
    cell_text,
    st.text(min_size=0, max_size=300),
    st.sampled_from([n.decode("utf-8", "replace") for n in NASTY]),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " ", "0", "-1", "1e9", "2026-02-30", "31/12/9999", "0000-00-00",
                     "99:99", "1,5", "1.5", "NaN", "inf", "null", "None", "true", "🙂"]),
)


def value_for(f: Field) -> st.SearchStrategy[Any]:
    if f.kind == "file":
        return st.binary(max_size=2048).map(lambda b: (b, "fichier.csv"))
    if f.kind in ("select", "radio", "checkbox") and f.options:
        choice = st.sampled_from(f.options)
        return st.one_of(choice, choice, _ANY_TEXT) if f.kind != "checkbox" else st.one_of(
            choice, st.none()
        )
    if f.kind == "submit":
        return st.just(f.value)
    if f.kind == "hidden":
        return st.one_of(st.just(f.value), st.just(f.value), _ANY_TEXT)
    return _ANY_TEXT


def payload(f: Form) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: value_for(fld) for name, fld in f.fields.items()})


def sizes(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        name: db.scalar(select(func.count()).select_from(table))
        for name, table in metadata.tables.items()
        if name not in ("rate_limits", "audit_events")
    }


ACCEPTABLE = {200, 302, 303, 400, 403, 404, 405, 409, 413, 422, 429}


@pytest.fixture(params=["cluster", "billing"])
def data_set(request: pytest.FixtureRequest) -> Any:
    """Two data sets, so that the forms of both show up: timesheets (members, services,
    activities, units, staff) and invoicing (an approved allocation, drafts to issue)."""
    return request.getfixturevalue(request.param)


def test_every_form_survives_random_values(
    app: Flask, client: FlaskClient, login_as: Any, db: Session, data_set: Any,
) -> None:
    login_as(*Role)
    forms = discover_forms(app, client)
    assert len(forms) >= 5, [f.action for f in forms]
    failures: list[str] = []
    for form in forms:
        fuzz_form(form, client, db, failures)
    assert not failures, "\n\n".join(failures)


def fuzz_form(form: Form, client: FlaskClient, db: Session, failures: list[str]) -> None:
    @fuzz_settings(share=0.25)
    @given(values=payload(form))
    def run(values: dict[str, Any]) -> None:
        count("web forms")
        data = {
            k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v
            for k, v in values.items()
            if v is not None
        }
        savepoint = db.begin_nested()
        try:
            before = sizes(db)
            response = client.post(
                form.action, data=data,
                content_type="multipart/form-data" if form.multipart or any(
                    isinstance(v, tuple) for v in data.values()) else None,
            )
            response.close()
            status = response.status_code
            assert status in ACCEPTABLE, f"{form.action}: {status}"
            if status >= 400:
                assert sizes(db) == before, f"{form.action}: refused ({status}) yet wrote"
        finally:
            if savepoint.is_active:
                savepoint.rollback()

    try:
        run()
    except Exception as error:  # collected, so every form is fuzzed before the test fails
        notes = " ".join(getattr(error, "__notes__", []))  # hypothesis: the falsifying example
        failures.append(f"{form.action} ({', '.join(form.fields)}): {error!r} {notes}"[:3000])

