"""Rendered Excel downloads kept per app and keyed by their rows (app/download_cache.py).

The same rows give the same bytes without rendering again; any change in what the query
returns (an edited note, a renamed member) gives a new file; two users who see different rows
never get each other's file; large exports are never kept.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

import app.download_cache as download_cache
import app.timesheets.routes as timesheet_routes
from app.download_cache import RenderedDownloads, content_key, small_rows
from tests.conftest import TEST_PASSWORD
from timesheets.models import EntryStatus, WorkEntry

URL = "/temps/saisies/export.xlsx?du=2026-03-01&au=2026-03-31"


def _login(client: Any, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each real rendering of the entries workbook wrote."""
    calls: list[int] = []
    real = timesheet_routes.write_entries_xlsx

    def counting(rows: Any, target: Any) -> int:
        count = real(rows, target)
        calls.append(count)
        return count

    monkeypatch.setattr(timesheet_routes, "write_entries_xlsx", counting)
    return calls


def _entry(db: Any, cluster: Any, member: Any, day: int, note: str) -> WorkEntry:
    entry = WorkEntry(staff_id=cluster.accountant.id, day=date(2026, 3, day), minutes=90,
                      member_id=member.id, service_id=cluster.compta.id, note=note,
                      status=EntryStatus.DRAFT.value, created_by_id=cluster.accountant.id)
    db.add(entry)
    db.commit()
    return entry


def _get(client: Any) -> bytes:
    """The downloaded file; the response closed (a large export's temporary file with it)."""
    response = client.get(URL)
    assert response.status_code == 200
    data = response.data
    response.close()
    return data


def _notes(data: bytes) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    column = header.index("Commentaire")
    return [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)
            if row[0] != "Total"]


def test_the_same_rows_are_rendered_once_and_a_change_renders_again(
    client: Any, cluster: Any, db: Any, renders: list[int]
) -> None:
    entry = _entry(db, cluster, cluster.a, 5, "première version")
    _entry(db, cluster, cluster.b, 6, "autre adhérent")
    _login(client, cluster.admin.email)
    first = _get(client)
    second = _get(client)
    assert renders == [2]  # rendered once, sent twice
    assert first == second and _notes(first) == ["première version", "autre adhérent"]

    entry.note = "corrigée"
    db.commit()
    third = _get(client)
    assert renders == [2, 2]
    assert _notes(third) == ["corrigée", "autre adhérent"]

    cluster.b.name = "Bêta renommée"
    db.commit()
    fourth = openpyxl.load_workbook(io.BytesIO(_get(client))).active
    assert renders == [2, 2, 2]
    assert [row[4] for row in fourth.iter_rows(min_row=2, max_row=3, values_only=True)] == [
        "Alpha", "Bêta renommée"]


def test_a_member_accountant_never_gets_the_file_rendered_for_the_staff(
    client: Any, app: Any, cluster: Any, db: Any, renders: list[int]
) -> None:
    _entry(db, cluster, cluster.a, 5, "chez Alpha")
    _entry(db, cluster, cluster.b, 6, "chez Bêta")
    _login(client, cluster.admin.email)
    assert _notes(_get(client)) == ["chez Alpha", "chez Bêta"]
    other = app.test_client()  # another browser, same app (same cache)
    member_accountant = cluster.member_accountant  # of member A
    assert member_accountant.member_id == cluster.a.id
    _login(other, member_accountant.email)
    assert _notes(_get(other)) == ["chez Alpha"]
    assert renders == [2, 1]


def _three_days_over_the_limit(client: Any, cluster: Any, db: Any,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Three entries, exports over two rows counted as large, the admin logged in."""
    for day in (5, 6, 7):
        _entry(db, cluster, cluster.a, day, f"jour {day}")
    monkeypatch.setattr(download_cache, "MAX_ROWS", 2)
    _login(client, cluster.admin.email)


def test_large_exports_are_not_kept(
    client: Any, cluster: Any, db: Any, renders: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _three_days_over_the_limit(client, cluster, db, monkeypatch)
    assert _notes(_get(client)) == ["jour 5", "jour 6", "jour 7"]
    assert _notes(_get(client)) == ["jour 5", "jour 6", "jour 7"]
    assert renders == [3, 3]


def test_the_cache_can_be_turned_off(client: Any, app: Any, cluster: Any, db: Any,
                                     renders: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "DOWNLOAD_CACHE_BYTES", 0)
    _entry(db, cluster, cluster.a, 5, "x")
    _login(client, cluster.admin.email)
    _get(client)
    _get(client)
    assert renders == [1, 1]


def test_the_key_depends_on_every_value_and_its_type() -> None:
    row = (date(2026, 3, 5), "Alpha", 90, Decimal("1.50"), None)
    same = content_key("entries.xlsx", [row])
    assert same == content_key("entries.xlsx", [tuple(row)])
    others = [
        content_key("entries.csv", [row]),
        content_key("entries.xlsx", [(date(2026, 3, 5), "Alpha", 90, Decimal("1.5"), None)]),
        content_key("entries.xlsx", [(date(2026, 3, 5), "Alpha", "90", Decimal("1.50"), None)]),
        content_key("entries.xlsx", [("2026-03-05", "Alpha", 90, Decimal("1.50"), None)]),
        content_key("entries.xlsx", [row, row]),
        content_key("entries.xlsx", []),
    ]
    assert len({same, *others}) == 7


def test_the_cache_is_bounded_in_bytes_and_forgets_the_oldest() -> None:
    cache = RenderedDownloads(max_bytes=250)
    for name in "abc":
        assert cache.get_or_render(name, lambda name=name: name.encode() * 100) == \
            name.encode() * 100
    assert len(cache) == 2 and cache.misses == 3  # "a" went to make room for "c"
    assert cache.get_or_render("c", lambda: b"never rendered") == b"c" * 100
    assert cache.get_or_render("a", lambda: b"again") == b"again"
    assert cache.get_or_render("huge", lambda: b"h" * 1000) == b"h" * 1000  # sent, not kept
    assert cache.get_or_render("huge", lambda: b"rendered again") == b"rendered again"


def test_small_rows_keeps_every_row_of_a_large_export_in_order() -> None:
    small, rest = small_rows(iter([(1,), (2,)]), limit=2)
    assert small == [(1,), (2,)] and list(rest) == []
    small, rest = small_rows(iter([(1,), (2,), (3,), (4,)]), limit=2)
    assert small is None and list(rest) == [(1,), (2,), (3,), (4,)]


# ---------------------------------------------------------------- the CSV export

CSV_URL = "/temps/saisies/export.csv?du=2026-03-01&au=2026-03-31"


@pytest.fixture
def csv_renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each real formatting of the entries CSV read."""
    calls: list[int] = []
    real = timesheet_routes.entries_csv_lines

    def counting(rows: Any) -> Any:
        rows = list(rows)
        calls.append(len(rows))
        return real(rows)

    monkeypatch.setattr(timesheet_routes, "entries_csv_lines", counting)
    return calls


def _csv_notes(client: Any) -> list[str]:
    """The « Commentaire » column of the downloaded CSV (sent whole, with its length)."""
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="temps_2026-03-01_2026-03-31.csv"')
    assert int(response.headers["Content-Length"]) == len(response.data)
    lines = response.data.decode("utf-8-sig").split("\r\n")
    column = lines[0].split(";").index("Commentaire")
    return [line.split(";")[column] for line in lines[1:] if line]


def test_the_same_csv_rows_are_formatted_once_and_a_change_formats_again(
    client: Any, cluster: Any, db: Any, csv_renders: list[int]
) -> None:
    entry = _entry(db, cluster, cluster.a, 5, "première version")
    _entry(db, cluster, cluster.b, 6, "autre adhérent")
    _login(client, cluster.admin.email)
    assert _csv_notes(client) == ["première version", "autre adhérent"]
    assert _csv_notes(client) == ["première version", "autre adhérent"]
    assert csv_renders == [2]  # formatted once, sent twice
    entry.note = "corrigée"
    db.commit()
    assert _csv_notes(client) == ["corrigée", "autre adhérent"]
    assert csv_renders == [2, 2]


def test_a_member_accountant_never_gets_the_csv_formatted_for_the_staff(
    client: Any, app: Any, cluster: Any, db: Any, csv_renders: list[int]
) -> None:
    _entry(db, cluster, cluster.a, 5, "chez Alpha")
    _entry(db, cluster, cluster.b, 6, "chez Bêta")
    _login(client, cluster.admin.email)
    assert _csv_notes(client) == ["chez Alpha", "chez Bêta"]
    other = app.test_client()
    _login(other, cluster.member_accountant.email)
    assert _csv_notes(other) == ["chez Alpha"]
    assert csv_renders == [2, 1]


def test_a_large_csv_is_streamed_and_never_kept(
    client: Any, cluster: Any, db: Any, csv_renders: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _three_days_over_the_limit(client, cluster, db, monkeypatch)
    assert _csv_notes(client) == ["jour 5", "jour 6", "jour 7"]
    assert _csv_notes(client) == ["jour 5", "jour 6", "jour 7"]
    assert csv_renders == [3, 3]
