"""No user text is rendered unescaped: hostile markup stored in every free-text column of every
table (names, labels, notes, addresses...) never reaches a page as markup.

Generated, not listed: the columns are found in the metadata by their names, so a table or a
template added by any area is covered. The pages are every GET route plus what their links
reach, as the admin and as a member accountant. The payloads must show up escaped somewhere
(otherwise the test proves nothing).
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from accounting.ledger.catchup import post_missing
from accounting.org import Role
from app.models import metadata
from tests.foundation.test_access_matrix import M, World, _login
from tests.security.crawl import crawl, get_pages, inline_code

SCRIPT = "<script>alert('xss')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
#: Free-text columns, by the words of their names.
TEXT_WORDS = ("name", "label", "note", "address", "designation", "comment", "reason", "title",
              "description", "legal_form", "reference", "party", "lib", "mention")
#: Columns that are text but read back by code (codes, e-mails, enums, hashes, JSON).
NOT_FREE = ("code", "email", "hash", "roles", "status", "kind", "regime", "key", "number")


def _free_text_columns() -> list[tuple[str, str]]:
    found = []
    for table_name, table in sorted(metadata.tables.items()):
        for column in table.columns:
            name = column.name.lower()
            if not isinstance(column.type, String | Text) or column.primary_key:
                continue
            if any(word in name for word in NOT_FREE) or column.foreign_keys:
                continue
            if any(word in name for word in TEXT_WORDS):
                found.append((table_name, column.name))
    return found


def _poison(db: Session) -> list[str]:
    """Write the payloads into every free-text column of every row; returns what was filled.

    Issued invoices and posted entries are frozen by triggers: they are turned off first, as
    someone with the database's rights could (the test's transaction restores them)."""
    post_missing(db)  # the ledger's entries of the issued invoices and payments
    _triggers_off(db)
    filled = []
    for number, (table_name, column_name) in enumerate(_free_text_columns()):
        table = metadata.tables[table_name]
        column = table.c[column_name]
        payload = SCRIPT if number % 2 == 0 else ATTRIBUTE
        if column.type.length is not None and column.type.length < len(payload):
            payload = payload[: column.type.length]
        if _write(db, update(table).values({column_name: payload})):
            filled.append(f"{table_name}.{column_name}")
            continue
        # Some rows refuse (an issued invoice): fill the others one by one.
        pk = next(iter(table.primary_key.columns))
        ids = db.scalars(select(pk)).all()
        if sum(_write(db, update(table).where(pk == i).values({column_name: payload}))
               for i in ids):
            filled.append(f"{table_name}.{column_name}")
    db.expire_all()
    return filled


def _triggers_off(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # no deferred check left pending
        for name in metadata.tables:
            db.execute(text(f'ALTER TABLE "{name}" DISABLE TRIGGER USER'))
        return
    for name in db.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
        db.execute(text(f'DROP TRIGGER "{name}"'))


def _write(db: Session, statement: object) -> bool:
    savepoint = db.begin_nested()
    try:
        db.execute(statement)
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _pages(app: Flask, client: FlaskClient) -> dict:
    return crawl(client, ["/accueil", *get_pages(app)], limit=400, per_endpoint=3)


def test_hostile_text_in_every_column_is_escaped_on_every_page(
    app: Flask, client: FlaskClient, db: Session, world: World
) -> None:
    filled = _poison(db)
    assert {"members.name", "services.name", "users.name"} <= set(filled)
    seen_escaped = False
    problems: list[str] = []
    for role in (Role.ADMIN, M):
        client = app.test_client()  # a fresh browser per role
        _login(client, world, role)
        pages = _pages(app, client)
        assert len(pages) > 10
        for url, page in pages.items():
            if page.status >= 500:
                problems.append(f"{role}: GET {url}: {page.status}")
                continue
            text = page.text
            if page.is_html:
                if SCRIPT in text or "<img src=x" in text:
                    problems.append(f"{role}: GET {url} renders the payload as markup")
                found = inline_code(text)
                if found:
                    problems.append(f"{role}: GET {url}: {found}")
                seen_escaped |= "&lt;script&gt;" in text or "&#34;&gt;&lt;img" in text
            elif (SCRIPT in text or "<img src=x" in text) and "html" in page.content_type:
                problems.append(f"{role}: GET {url} ({page.content_type}) carries markup")
    assert problems == []
    assert seen_escaped, "no page showed the payloads at all: the test proves nothing"
