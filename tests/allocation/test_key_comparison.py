"""Candidate keys side by side (the key editor and the comparison page), on the worked example
of DESIGN §4 (conftest ``cluster``): 16 000 € shared « 25 % equal + 75 % hours » with
10 h / 20 h / 30 h gives A 3 333,34, B 5 333,33, C 7 333,33; shared equally it gives
5 333,33 each and the cent left to the tie's first code, A 5 333,34.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounting.allocation.runs import compare_keys
from accounting.costs import CostInput, CostKind, add_cost
from accounting.org import Role
from app.allocation import routes_keys
from app.allocation.services import work_totals


def test_each_candidate_gives_every_members_amount_and_a_refused_one_none(db, cluster):
    period = cluster["period"]
    comparison = compare_keys(db, period, work_totals(db, period), "COMPTA",
                              ["25% equal + 75% hours", "equal", "revenue", "25% equal +"])
    rows = {ref.code: amounts for ref, amounts in comparison.rows()}
    assert rows == {
        "A": [Decimal("3333.34"), Decimal("5333.34"), None, None],
        "B": [Decimal("5333.33"), Decimal("5333.33"), None, None],
        "C": [Decimal("7333.33"), Decimal("5333.33"), None, None],
    }
    refused, unreadable = comparison.candidates[2:]
    assert "Chiffre d'affaires 2026 manquant pour : A, B, C" in str(refused.error)
    assert unreadable.key is None and unreadable.error is not None


def test_the_key_in_force_in_either_wording_is_the_allocation_already_made(db, cluster):
    """The editor compares the stored text with the French one it writes in the form: the same
    key, allocated once by the period's computation and shown in both columns."""
    period = cluster["period"]
    comparison = compare_keys(db, period, work_totals(db, period), "COMPTA",
                              ["25% equal + 75% hours", "25 % part égale + 75 % heures"])
    in_force = comparison.result.service("COMPTA").allocation
    assert all(c.allocation is in_force for c in comparison.candidates)
    assert [amounts for _, amounts in comparison.rows()] == [
        [Decimal("3333.34")] * 2, [Decimal("5333.33")] * 2, [Decimal("7333.33")] * 2,
    ]


def test_the_key_editor_compares_once_until_an_input_changes(
    client, login_as, db, cluster, monkeypatch
):
    """Two views of the editor compute the comparison once; 800 € more of costs (16 800 €:
    1 400 each plus 2 100 / 4 200 / 6 300 by hours) computes it again: A 3 500,00."""
    calls: list[str] = []
    real = routes_keys.compare_keys

    def counted(session, period, work, service_code, texts):
        calls.append(service_code)
        return real(session, period, work, service_code, texts)

    monkeypatch.setattr(routes_keys, "compare_keys", counted)
    login_as(Role.ADMIN)
    url = "/repartition/cles/COMPTA?periode=2026-01"
    for _ in range(2):
        html = client.get(url).get_data(as_text=True)
        assert 'data-value="3333.34"' in html and 'data-value="7333.33"' in html
    assert calls == ["COMPTA"]
    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 20),
                           Decimal("800.00"), "606400", "Import tardif"))
    db.commit()
    html = client.get(url).get_data(as_text=True)
    assert 'data-value="3500.00"' in html and 'data-value="3333.34"' not in html
    assert calls == ["COMPTA", "COMPTA"]
