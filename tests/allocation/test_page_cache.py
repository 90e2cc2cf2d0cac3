"""The allocation pages reuse a computed preview while nothing changed (issue 16) and compute
again as soon as an input changes; a stored run's page compares its input digests with
today's data on every view, without computing the period.

The worked example of DESIGN §4 (conftest ``cluster``): 16 000 € shared 25 % equally and 75 %
by hours (10 h / 20 h / 30 h): A 3 333,34 (it takes the rounding cent), B 5 333,33,
C 7 333,33. An extra 800 € of costs makes 16 800 €: 1 400 each plus 2 100 / 4 200 / 6 300 by
hours, so A 3 500,00, B 5 600,00, C 7 700,00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from accounting.allocation.models import AllocationRun
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Role
from app.allocation import routes, services
from app.allocation.services import approve, store_period

PREVIEW = "/repartition/apercu?periode=2026-01"


def eur(amount: str) -> str:
    """An amount as the pages write it (a narrow no-break space between thousands)."""
    return amount.replace(" ", "\u202f")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def computations(monkeypatch) -> list[str]:
    """Each computation of an allocation the pages ask for (by period code)."""
    calls: list[str] = []
    real = services.allocate_period

    def counted(session, period, service=None):
        calls.append(period.code)
        return real(session, period, service)

    monkeypatch.setattr(routes, "allocate_period", counted)
    monkeypatch.setattr("app.allocation.corrections.allocate_period", counted)
    return calls


def _move_a_day(source: int, target: int) -> str:
    """SQL moving one work entry of member ``source`` to ``target``, run on the driver's own
    connection (ids are integers: no parameter style to guess between SQLite and psycopg)."""
    return (f"UPDATE work_entries SET member_id = {int(target)} WHERE id = "
            f"(SELECT min(id) FROM work_entries WHERE member_id = {int(source)})")


def _late_cost(db, cluster) -> None:
    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 20),
                           Decimal("800.00"), "606400", "Import tardif"))
    db.commit()


def test_paging_a_preview_computes_it_once_and_a_new_cost_computes_it_again(
    client, login_as, db, cluster, computations
):
    login_as(Role.TREASURER)
    first = page(client.get(PREVIEW))
    assert eur("3 333,34") in first and eur("7 333,33") in first
    page(client.get(PREVIEW + "&page=1"))
    page(client.get("/repartition/apercu/2026-01/COMPTA/B"))
    assert computations == ["2026-01"]
    _late_cost(db, cluster)
    again = page(client.get(PREVIEW))
    assert eur("3 500,00") in again and eur("5 600,00") in again and eur("7 700,00") in again
    assert computations == ["2026-01", "2026-01"]


def test_an_edit_the_process_did_not_see_shows_with_recalculer(
    client, login_as, db, cluster, computations
):
    """Another worker's edit of an existing row is not seen by this process's write count:
    the cached preview stays (at most ``TTL_SECONDS``) until « Recalculer » asks again."""
    login_as(Role.TREASURER)
    assert eur("7 333,33") in page(client.get(PREVIEW))
    raw = db.connection().connection.driver_connection  # below SQLAlchemy: no event fires
    cursor = raw.cursor()
    # One of C's three days of 10 h moves to A: 20 h each, so everyone has 1 333,33 (or ,34)
    # of the equal part plus 4 000 of the hours part.
    members = cluster["members"]
    cursor.execute(_move_a_day(members["C"].id, members["A"].id))
    cursor.close()
    assert eur("7 333,33") in page(client.get(PREVIEW))
    fresh = page(client.get(PREVIEW + "&recalculer=1"))
    matrix = fresh[fresh.index('id="matrice"'):]
    assert eur("5 333,3") in matrix and eur("7 333,3") not in matrix
    assert eur("3 333,3") not in matrix
    assert len(computations) == 2


def test_the_run_page_checks_its_inputs_without_computing_the_period(
    client, login_as, db, cluster, computations
):
    run = store_period(db, cluster["period"])
    approve(db, run)
    db.commit()
    login_as(Role.TREASURER)
    for _ in range(3):
        assert 'id="inputs-changed"' not in page(client.get(f"/repartition/{run.id}"))
    _late_cost(db, cluster)
    text = page(client.get(f"/repartition/{run.id}"))
    warning = text.split('id="inputs-changed"')[1].split("</p>")[0]
    assert "les charges" in warning and "les temps" not in warning
    assert eur("7 333,33") in text  # the run's stored amounts, not today's
    assert computations == []  # the stored digests against today's, never the engine


def test_explaining_one_cell_then_another_shows_each_members_own_figures(
    client, login_as, db, cluster
):
    run = store_period(db, cluster["period"])
    db.commit()
    login_as(Role.TREASURER)
    page(client.get(f"/repartition/{run.id}"))  # the run read back and cached
    a = page(client.get(f"/repartition/{run.id}/COMPTA/A"))
    c = page(client.get(f"/repartition/{run.id}/COMPTA/C"))
    assert "(10 h sur 60 h)" in a and "(30 h sur 60 h)" not in a
    assert "(30 h sur 60 h)" in c and "(10 h sur 60 h)" not in c
    # A took the rounding cent (3 333,333… rounded down, the largest remainder goes up)
    assert eur("3 333,34") in a and eur("7 333,33") in c
    matrix = page(client.get(f"/repartition/{run.id}"))
    assert eur("3 333,34") in matrix and eur("5 333,33") in matrix and eur("7 333,33") in matrix
    assert db.get(AllocationRun, run.id) is not None


def test_verifier_checks_a_run_again_after_an_edit_the_process_did_not_see(
    client, login_as, db, cluster
):
    """The digest of the period's work is reused while this process writes nothing (as the
    preview); an edit made behind its back shows with « Vérifier » (or after the TTL)."""
    run = store_period(db, cluster["period"])
    db.commit()
    login_as(Role.TREASURER)
    assert 'id="inputs-changed"' not in page(client.get(f"/repartition/{run.id}"))
    cursor = db.connection().connection.driver_connection.cursor()  # no event fires
    cursor.execute(_move_a_day(cluster["members"]["C"].id, cluster["members"]["A"].id))
    cursor.close()
    assert 'id="inputs-changed"' not in page(client.get(f"/repartition/{run.id}"))
    text = page(client.get(f"/repartition/{run.id}?verifier=1"))
    warning = text.split('id="inputs-changed"')[1].split("</p>")[0]
    assert "les temps" in warning and "les charges" not in warning


def test_a_run_stored_before_digests_is_checked_on_demand(client, login_as, db, cluster):
    """A run without input digests (stored before migration 0017): its page says the data was
    not compared; « Vérifier » computes the period again and names what changed."""
    run = store_period(db, cluster["period"])
    run.input_digests = None
    db.commit()
    login_as(Role.TREASURER)
    cursor = db.connection().connection.driver_connection.cursor()
    cursor.execute(_move_a_day(cluster["members"]["C"].id, cluster["members"]["A"].id))
    cursor.close()
    text = page(client.get(f"/repartition/{run.id}"))
    assert 'id="inputs-changed"' not in text and "Données non comparées" in text
    text = page(client.get(f"/repartition/{run.id}?verifier=1"))
    warning = text.split('id="inputs-changed"')[1].split("</p>")[0]
    assert "les temps" in warning and "les charges" not in warning


def test_the_key_editor_reads_the_work_once_and_again_after_an_edit(
    client, login_as, db, cluster, monkeypatch
):
    """« hours » alone: A 16 000 × 10/60 = 2 666,67 with 10 h / 20 h / 30 h; one of C's days
    moved to A makes 20 h / 20 h / 20 h, so A 16 000 × 20/60 = 5 333,33."""
    from app.allocation import routes_keys

    reads: list[str] = []
    real = routes_keys.work_totals

    def counted(session, period, **options):
        reads.append(period.code)
        return real(session, period, **options)

    monkeypatch.setattr(routes_keys, "work_totals", counted)
    login_as(Role.ADMIN)
    form = {"text": "hours", "valid_from": "2026-02-01", "periode": "2026-01",
            "action": "preview"}
    for _ in range(2):
        assert eur("2 666,67") in page(client.post("/repartition/cles/COMPTA", data=form))
    assert reads == ["2026-01"]
    members = cluster["members"]
    db.execute(text(_move_a_day(members["C"].id, members["A"].id)))  # seen by the write count
    db.commit()
    html = page(client.post("/repartition/cles/COMPTA", data=form))
    assert eur("5 333,33") in html and eur("2 666,67") not in html
    assert reads == ["2026-01", "2026-01"]
