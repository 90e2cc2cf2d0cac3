"""A key voted in the middle of a period: the period is allocated as its key periods, each
exact on its own, summed per member (DESIGN §4). The cluster fixture: January 2026, costs
20 000 € on the 31st, a 4 000 € subsidy on the 15th, A 10 h, B 20 h, C 30 h logged on the
11th–13th, key « 25 % equal + 75 % hours » from 01/01; here « equal » from 16/01."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounting.allocation.keyperiods import split_bounds
from accounting.allocation.runs import load_run, set_key
from app.allocation.services import allocate_period, approve, store_period


def D(text: str) -> Decimal:
    return Decimal(text)


def test_split_bounds_cuts_before_each_new_version_inside_the_period():
    assert split_bounds([date(2025, 11, 1), date(2025, 1, 1), date(2026, 1, 1)],
                        date(2025, 10, 1), date(2025, 12, 31)) == [
        (date(2025, 10, 1), date(2025, 10, 31)), (date(2025, 11, 1), date(2025, 12, 31)),
    ]
    assert split_bounds([date(2025, 10, 1)], date(2025, 10, 1), date(2025, 12, 31)) == [
        (date(2025, 10, 1), date(2025, 12, 31))
    ]


def test_a_key_changing_mid_month_allocates_each_key_period_exactly(db, cluster):
    set_key(db, cluster["compta"], "equal", date(2026, 1, 16))
    result = allocate_period(db, cluster["period"])
    assert result.ok, result.errors
    # 1–15 Jan: pool −4 000 by 25 % equal + 75 % hours: exact A −833,333…, B −1 333,333…,
    #   C −1 833,333…; floors (towards −∞) −833,34 −1 333,34 −1 833,34 = −4 000,02: the two
    #   cents go to the equal remainders by code, A and B → A −833,33, B −1 333,33, C −1 833,34
    # 16–31 Jan: pool 20 000 equally: 6 666,66 each + A, B one cent → 6 666,67 6 666,67 6 666,66
    item = result.service("COMPTA")
    assert [(p["start"], p["key"], p["pool"]) for p in item.inputs["key_periods"]] == [
        ("2026-01-01", "25% equal + 75% hours", "-4000.00"),
        ("2026-01-16", "equal", "20000.00"),
    ]
    assert item.inputs["key_periods"][0]["amounts"] == {
        "A": "-833.33", "B": "-1333.33", "C": "-1833.34"
    }
    assert result.amounts() == {
        "A": {"COMPTA": D("5833.34")}, "B": {"COMPTA": D("5333.34")},
        "C": {"COMPTA": D("4833.32")},
    }
    assert result.total == D("16000.00")
    assert any("2 périodes de clé" in w for w in result.warnings)
    share = item.allocation["C"]
    assert [p[3].amount for p in share.periods] == [D("-1833.34"), D("6666.66")]


def test_a_run_over_key_periods_is_stored_approved_and_read_back(db, cluster):
    set_key(db, cluster["compta"], "equal", date(2026, 1, 16))
    run = store_period(db, cluster["period"])
    approve(db, run)
    loaded = load_run(db, run)
    assert loaded.amounts()["A"]["COMPTA"] == D("5833.34")
    line = loaded.service("COMPTA").allocation["A"]
    assert len(line.parts) == 3  # equal + hours of the first key period, equal of the second
    stored = run.services[0].inputs["key_periods"]
    assert [s["end"] for s in stored] == ["2026-01-15", "2026-01-31"]


def test_a_version_no_approved_run_used_is_deleted_and_audited_else_refused(db, cluster):
    from sqlalchemy import select

    from accounting.allocation.errors import AllocationError
    from accounting.allocation.runs.key_versions import delete_key, key_version
    from accounting.audit import AuditEvent

    compta = cluster["compta"]
    set_key(db, compta, "equal", date(2026, 1, 16))
    mid = key_version(db, compta.id, date(2026, 1, 16))
    delete_key(db, mid)  # January is not approved yet: the mistake is simply removed
    assert key_version(db, compta.id, date(2026, 1, 16)) is None
    assert db.scalars(select(AuditEvent).where(
        AuditEvent.action == "delete", AuditEvent.object_type == "allocation_keys")).one()
    run = store_period(db, cluster["period"])
    approve(db, run)
    first = key_version(db, compta.id, date(2026, 1, 1))
    try:
        delete_key(db, first)
    except AllocationError as error:
        assert f"répartition approuvée n° {run.id} (janvier 2026)" in str(error)
    else:  # pragma: no cover - the assertion is the refusal
        raise AssertionError("a key used by an approved run was deleted")


def test_the_run_page_and_the_explanation_show_each_key_period(client, login_as, db, cluster):
    from accounting.org import Role

    set_key(db, cluster["compta"], "equal", date(2026, 1, 16))
    run = store_period(db, cluster["period"])
    db.commit()
    login_as(Role.TREASURER)
    text = client.get(f"/repartition/{run.id}").get_data(as_text=True)
    assert "période de clé du 01/01/2026 au 15/01/2026" in text
    assert "période de clé du 16/01/2026 au 31/01/2026" in text
    text = client.get(f"/repartition/{run.id}/COMPTA/C").get_data(as_text=True)
    table = text.split('id="periodes-de-cle"')[1].split("</table>")[0]
    compact = table.replace("\u202f", " ").replace("\xa0", " ")
    assert "−1 833,34 €" in compact or "-1 833,34 €" in compact
    assert "6 666,66 €" in compact and "4 833,32 €" in compact


def test_the_workbook_has_a_column_per_key_period(db, cluster, tmp_path):
    from openpyxl import load_workbook

    from app.allocation.workbook import workbook_for

    set_key(db, cluster["compta"], "equal", date(2026, 1, 16))
    run = store_period(db, cluster["period"])
    path = tmp_path / "repartition.xlsx"
    with path.open("wb") as out:
        workbook_for(db, cluster["period"], out, run=run)
    book = load_workbook(path)
    sheet = next(ws for ws in book.worksheets if ws["A1"].value and "Comptabilité" in
                 str(ws["A1"].value))
    header = [c.value for c in sheet[10]]
    assert "période de clé du 01/01/2026 au 15/01/2026 (25% equal + 75% hours)" in header[4]
    assert "période de clé du 16/01/2026 au 31/01/2026 (equal)" in header[5]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=11, max_row=13)}
    assert [D(str(rows["C"][4].value)), D(str(rows["C"][5].value))] == [
        D("-1833.34"), D("6666.66")]
