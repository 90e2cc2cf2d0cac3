"""The run page after corrections (DESIGN §4): replacing needs a reason, the earlier run stays
readable and says it was replaced, a change of the inputs is announced, negative totals and
unvalidated work are shown before approving."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from html import unescape

from sqlalchemy import select

from accounting.allocation.models import AllocationRun, RunStatus
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Role
from app.allocation.services import approve, store_period
from timesheets.models import EntryStatus, WorkEntry


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_replacing_an_approved_run_on_screen_needs_a_reason(client, login_as, db, cluster):
    first = store_period(db, cluster["period"])
    approve(db, first)
    second = store_period(db, cluster["period"])
    db.commit()
    login_as(Role.TREASURER)
    text = page(client.get(f"/repartition/{second.id}"))
    assert 'name="reason"' in text and "celle-ci la remplace" in text
    text = page(client.post(f"/repartition/{second.id}/approuver", data={"reason": "  "},
                            follow_redirects=True))
    assert "la remplacer demande un motif écrit" in text
    text = page(client.post(f"/repartition/{second.id}/approuver",
                            data={"reason": "Erreur de saisie des heures"},
                            follow_redirects=True))
    assert f"Elle remplace la répartition n° {first.id}" in text
    db.expire_all()
    assert db.get(AllocationRun, first.id).status == RunStatus.REPLACED
    text = page(client.get(f"/repartition/{first.id}"))
    assert "Remplacée par la" in text and "Erreur de saisie des heures" in text
    assert "approuver" not in text.lower().split("<main")[1].split("montants à répartir")[0]


def test_the_run_page_warns_when_its_inputs_changed(client, login_as, db, cluster):
    run = store_period(db, cluster["period"])
    approve(db, run)
    db.commit()
    login_as(Role.TREASURER)
    assert 'id="inputs-changed"' not in page(client.get(f"/repartition/{run.id}"))
    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 20),
                           Decimal("800.00"), "606400", "Import tardif"))
    db.commit()
    text = page(client.get(f"/repartition/{run.id}"))
    assert 'id="inputs-changed"' in text and "les charges" in text
    assert "les temps" not in text.split('id="inputs-changed"')[1].split("</p>")[0]


def test_negative_totals_and_unvalidated_work_are_shown_before_approving(
    client, login_as, db, cluster
):
    add_cost(db, CostInput(CostKind.SUBSIDY, cluster["compta"].id, date(2026, 1, 5),
                           Decimal("30000.00"), "740000", "FSE"))  # pool 16 000 − 30 000
    entry = db.scalars(select(WorkEntry)).first()
    entry.status = EntryStatus.SUBMITTED.value
    run = store_period(db, cluster["period"])
    db.commit()
    login_as(Role.TREASURER)
    text = page(client.get(f"/repartition/{run.id}"))
    negative = text.split('id="negative-totals"')[1].split("</div>")[0]
    # pool −14 000: equal −3 500 (−1 166,67 each, rounded), hours −10 500: A, B, C all negative
    assert "A :" in negative and "B :" in negative and "C :" in negative
    assert "1 saisie de temps de la période n'est pas validée" in text
    text = page(client.post(f"/repartition/{run.id}/approuver", follow_redirects=True))
    assert "n'est pas validée (brouillon ou soumise) : validez-la d'abord" in unescape(text)
    text = page(client.post(f"/repartition/{run.id}/approuver",
                            data={"work_override": "Heures confirmées par la coordination"},
                            follow_redirects=True))
    assert "Approuvée avec des temps non validés — motif : Heures confirmées" in text
