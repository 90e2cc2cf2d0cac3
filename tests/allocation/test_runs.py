"""Allocation from the database: costs, periods, keys, step-down, stored and approved runs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from accounting.allocation import KeySyntaxError, MissingFigures
from accounting.allocation.errors import AllocationError, InvalidFixedPercentages, RunError
from accounting.allocation.models import AllocationLine, AllocationRunService, RunStatus
from accounting.allocation.runs import delete_run, replay, run_amounts, set_key
from accounting.audit import AuditEvent
from accounting.costs import CostError, CostInput, CostKind, add_cost, delete_cost, update_cost
from accounting.org import MemberFigures
from accounting.periods import (
    REOPEN_CHECKS,
    PeriodClosed,
    PeriodError,
    close_period,
    get_or_create_period,
    reopen_period,
)
from app.allocation.services import allocate_period, approve, store_period, work_totals
from tests.allocation.conftest import D
from timesheets.models import UnitType, WorkEntry


def test_the_worked_example_is_allocated_from_the_database(db, cluster):
    result = allocate_period(db, cluster["period"])
    assert result.errors == []
    assert result.amounts() == {
        "A": {"COMPTA": D("3333.34")}, "B": {"COMPTA": D("5333.33")}, "C": {"COMPTA": D("7333.33")},
    }
    item = result.service("COMPTA")
    assert (item.costs, item.subsidies, item.pool) == (D("20000.00"), D("4000.00"), D("16000.00"))
    assert result.total == D("16000.00")


def test_work_is_aggregated_per_service_and_member_with_units_weighted(db, cluster):
    compta, staff = cluster["compta"], cluster["staff"]
    payslip = UnitType(service_id=compta.id, name="Bulletin", weight=D("2.5"))
    db.add(payslip)
    db.flush()
    db.add_all([
        WorkEntry(staff_id=staff.id, day=date(2026, 1, 12), minutes=30, member_id=None,
                  service_id=compta.id),
        WorkEntry(staff_id=staff.id, day=date(2026, 1, 12), minutes=0,
                  member_id=cluster["members"]["A"].id, service_id=compta.id,
                  unit_type_id=payslip.id, quantity=D("4")),
        WorkEntry(staff_id=staff.id, day=date(2026, 2, 1), minutes=600,  # outside the period
                  member_id=cluster["members"]["A"].id, service_id=compta.id),
    ])
    db.flush()
    totals = work_totals(db, cluster["period"])
    a = cluster["members"]["A"].id
    assert totals.minutes[(compta.id, a)] == 600
    assert totals.minutes[(compta.id, None)] == 30
    assert totals.units[(compta.id, a)] == D("10.000")
    assert totals.unapproved == 2


def test_overheads_are_stepped_down_onto_the_services_before_members(
    db, cluster, make_service
):
    # Overheads 1 000 € by costs: COMPTA costs 20 000, DEV 10 000 -> 666,67 / 333,33.
    frais = make_service("FRAIS", name="Frais de structure", overheads_by="costs")
    dev = make_service("DEV", name="Chargé de développement")
    add_cost(db, CostInput(CostKind.COST, frais.id, date(2026, 1, 5), D("1000.00"),
                           "613200", "Loyer"))
    add_cost(db, CostInput(CostKind.COST, dev.id, date(2026, 1, 5), D("10000.00"),
                           "641100", "Salaire"))
    set_key(db, dev, "equal", date(2026, 1, 1))
    result = allocate_period(db, cluster["period"])
    assert result.errors == []
    assert {c: s.amount for c, s in result.overheads.shares.items()} == {
        "COMPTA": D("666.67"), "DEV": D("333.33"),
    }
    assert result.service("COMPTA").pool == D("16666.67")
    # DEV 10 333,33 equally: 3 444,44 + 1 cent to A.
    assert result.service("DEV").allocation.amounts == {
        "A": D("3444.45"), "B": D("3444.44"), "C": D("3444.44"),
    }
    assert result.total == D("27000.00")  # 20 000 + 10 000 + 1 000 − 4 000


def test_a_missing_key_with_money_to_share_is_an_error_but_not_without(
    db, cluster, make_service
):
    make_service("IDLE")  # no costs, no key: nothing to say
    dev = make_service("DEV", name="Développement")
    add_cost(db, CostInput(CostKind.COST, dev.id, date(2026, 1, 5), D("10.00"), "625100", "Train"))
    result = allocate_period(db, cluster["period"])
    assert result.errors == [
        "Développement : aucune clé de répartition en vigueur au 01/01/2026. "
        "Définissez-la dans « Clés »."
    ]
    assert [s.service.code for s in result.services] == ["COMPTA", "DEV"]
    assert result.service("COMPTA").allocation is not None


def test_a_key_changing_inside_the_period_splits_it_into_key_periods(db, cluster):
    set_key(db, cluster["compta"], "hours", date(2026, 1, 15))
    result = allocate_period(db, cluster["period"])
    # each key period stands on its own: 15–31 January has the 16 000 € net but no hours
    # logged (they are on the 11th–13th), so the « hours » key has nothing to share it by
    assert len(result.errors) == 1
    assert result.errors[0].startswith("du 15/01/2026 au 31/01/2026 : ")
    assert any("2 périodes de clé" in w for w in result.warnings)
    # month by month: February uses the new key
    feb = allocate_period(db, get_or_create_period(db, "2026-02"))
    assert feb.service("COMPTA").key.text == "hours"


def test_missing_revenue_names_the_members_and_year(db, cluster):
    set_key(db, cluster["compta"], "revenue", date(2026, 2, 1))
    db.add(MemberFigures(member_id=cluster["members"]["A"].id, year=2026, revenue=D("1000.00")))
    db.flush()
    feb = get_or_create_period(db, "2026-02")
    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 2, 3), D("90.00"),
                           "606400", "Fournitures"))
    result = allocate_period(db, feb)
    assert isinstance(result.service("COMPTA").error, MissingFigures)
    assert "Chiffre d'affaires 2026 manquant pour : B, C" in result.errors[0]
    with pytest.raises(RunError, match="rien n'est enregistré"):
        store_period(db, feb)


def test_a_stored_run_keeps_inputs_and_explanations_and_replays_exactly(db, cluster):
    run = store_period(db, cluster["period"], note="janvier")
    assert run.status == RunStatus.STORED
    assert run.total == D("16000.00")
    assert run_amounts(db, run) == {
        ("A", "COMPTA"): D("3333.34"), ("B", "COMPTA"): D("5333.33"),
        ("C", "COMPTA"): D("7333.33"),
    }
    (service,) = run.services
    assert service.key_text == "25% equal + 75% hours"
    again = replay(service.inputs, service.pool)
    assert again.amounts == {"A": D("3333.34"), "B": D("5333.33"), "C": D("7333.33")}
    line = db.scalars(
        select(AllocationLine).where(AllocationLine.member_id == cluster["members"]["A"].id)
    ).one()
    assert line.exact == "10000/3"
    assert line.adjustment == D("0.01")
    assert line.explanation["parts"][1]["value"] == "600"
    events = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "allocation_runs")
    ).all()
    assert "store" in events and "create" in events


def test_approving_freezes_the_run_and_a_second_approval_is_refused(db, cluster, make_user):
    treasurer = make_user()
    run = store_period(db, cluster["period"])
    approve(db, run, user_id=treasurer.id)
    assert run.is_approved and run.approved_by_id == treasurer.id
    assert all(s.approved for s in run.services)
    with pytest.raises(RunError, match="déjà approuvée"):
        approve(db, run)
    with pytest.raises(RunError, match="figée"):
        delete_run(db, run)
    other = store_period(db, cluster["period"])
    with pytest.raises(RunError, match="la remplacer demande un motif écrit"):
        approve(db, other)
    with pytest.raises(RunError, match="la remplacer demande un motif écrit"):
        approve(db, other, reason="   ")
    quarter = store_period(db, get_or_create_period(db, "2026-T1"))
    with pytest.raises(RunError, match="janvier 2026"):
        approve(db, quarter)


def test_the_database_refuses_two_approved_runs_of_one_service_and_period(db, cluster):
    run = store_period(db, cluster["period"])
    approve(db, run)
    other = store_period(db, cluster["period"])
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(
            text("UPDATE allocation_run_services SET approved = :yes WHERE run_id = :run"),
            {"yes": True, "run": other.id},
        )


def test_approval_is_refused_when_the_data_changed_since_the_run_was_stored(db, cluster):
    run = store_period(db, cluster["period"])
    add_cost(db, CostInput(CostKind.COST, cluster["compta"].id, date(2026, 1, 20), D("3.00"),
                           "626000", "Timbres"))
    with pytest.raises(RunError, match="Les données ont changé") as caught:
        approve(db, run)
    # pool 16 003: A = 16 003 × (1/12 + 3/4 × 1/6) = 16 003 × 5/24 = 3 333,958…
    assert "A / COMPTA : 3333.34 → 3333.96" in str(caught.value)


def test_a_stored_run_can_be_deleted_before_approval(db, cluster):
    run = store_period(db, cluster["period"])
    run_id = run.id
    delete_run(db, run)
    assert db.scalar(select(func.count()).select_from(AllocationLine)
                     .where(AllocationLine.run_id == run_id)) == 0
    assert db.scalar(select(func.count()).select_from(AllocationRunService)
                     .where(AllocationRunService.run_id == run_id)) == 0


def test_keys_never_rewrite_the_past(db, cluster):
    compta = cluster["compta"]
    close_period(db, cluster["period"])
    with pytest.raises(AllocationError, match="jusqu'au 31/01/2026"):
        set_key(db, compta, "hours", date(2026, 1, 15))
    key = set_key(db, compta, "hours", date(2026, 2, 1), agreed_by="AG")
    assert key.text == "hours"
    assert set_key(db, compta, "units", date(2026, 2, 1)).id == key.id  # same date: replaced
    with pytest.raises(KeySyntaxError):
        set_key(db, compta, "hour", date(2026, 3, 1))
    with pytest.raises(InvalidFixedPercentages, match="inconnus : ZZ"):
        set_key(db, compta, "fixed(A=50%, ZZ=50%)", date(2026, 3, 1))


def test_a_closed_period_refuses_costs_and_runs(db, cluster):
    compta = cluster["compta"]
    line = add_cost(db, CostInput(CostKind.COST, compta.id, date(2026, 1, 3), D("5.00"),
                                  "626000", "Timbres"))
    close_period(db, cluster["period"])
    new = CostInput(CostKind.COST, compta.id, date(2026, 1, 4), D("5.00"), "626000", "Timbres")
    with pytest.raises(PeriodClosed):
        add_cost(db, new)
    with pytest.raises(PeriodClosed):
        update_cost(db, line, new)
    with pytest.raises(PeriodClosed):
        delete_cost(db, line)
    moved = CostInput(CostKind.COST, compta.id, date(2026, 1, 4), D("5.00"), "626000", "T")
    with pytest.raises(PeriodClosed):
        add_cost(db, moved)
    with pytest.raises(RunError, match="clôturée"):
        store_period(db, cluster["period"])
    # February stays open
    add_cost(db, CostInput(CostKind.COST, compta.id, date(2026, 2, 1), D("5.00"), "626000", "T"))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"amount": D("0")}, "positif"),
        ({"amount": D("1.005")}, "deux décimales"),
        ({"account": "41100"}, "classe 6"),
        ({"account": "abc"}, "plan comptable"),
        ({"label": " "}, "Libellé obligatoire"),
    ],
)
def test_bad_costs_are_refused_with_a_french_message(db, cluster, change, words):
    fields = dict(kind=CostKind.COST, service_id=cluster["compta"].id, day=date(2026, 1, 3),
                  amount=D("5.00"), account="626000", label="Timbres")
    with pytest.raises(CostError, match=words):
        add_cost(db, CostInput(**(fields | change)))


def test_closing_and_reopening_are_audited_and_reopening_obeys_the_checks(db, cluster, make_user):
    admin = make_user()
    period = cluster["period"]
    close_period(db, period, admin.id)
    assert period.is_closed and period.closed_by_id == admin.id
    with pytest.raises(PeriodError, match="déjà clôturée"):
        close_period(db, period)
    with pytest.raises(PeriodError, match="pourquoi"):
        reopen_period(db, period, "  ")

    def invoices_issued(session, p):
        return "3 factures de la période sont émises" if p.id == period.id else None

    REOPEN_CHECKS.append(invoices_issued)
    try:
        with pytest.raises(PeriodError, match="3 factures de la période sont émises"):
            reopen_period(db, period, "erreur de saisie")
    finally:
        REOPEN_CHECKS.remove(invoices_issued)
    reopen_period(db, period, "erreur de saisie")
    assert not period.is_closed
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "periods",
                                        AuditEvent.object_id == str(period.id))
    ).all()
    assert {"close", "reopen"} <= set(actions)
