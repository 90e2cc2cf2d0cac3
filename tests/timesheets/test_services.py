"""Timesheet services on a real session: logging, editing, splitting, approval, and every
refusal the issue lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounting.audit import AuditEvent
from accounting.periods import close_period, get_or_create_period
from timesheets import services
from timesheets.errors import (
    DayOverLimit,
    EntryInClosedPeriod,
    EntryLocked,
    EntryNotFound,
    InvalidEntry,
    MemberInactive,
    NotAllowed,
)
from timesheets.models import EntryStatus, WorkEntry
from timesheets.services import EntryData

DAY = date(2026, 3, 5)  # a Thursday


def _data(cluster, **fields):
    values = {
        "day": DAY,
        "service_id": cluster.compta.id,
        "minutes": 90,
        "member_id": cluster.a.id,
        "activity_id": cluster.bookkeeping.id,
    }
    values.update(fields)
    return EntryData(**values)


def test_an_accountant_logs_a_draft_and_it_is_audited(db, cluster):
    saved = services.create_entry(db, cluster.accountant, _data(cluster, note=" bilan "))
    entry = saved.entries[0]
    assert (entry.minutes, entry.status, entry.staff_id, entry.note) == (
        90,
        EntryStatus.DRAFT,
        cluster.accountant.id,
        "bilan",
    )
    assert saved.warnings == []
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == "work_entries", AuditEvent.object_id == str(entry.id)
        )
    ).all()
    assert [e.action for e in events] == ["create"]
    assert events[0].after["minutes"] == 90


def test_common_work_has_no_member(db, cluster):
    entry = services.create_entry(
        db,
        cluster.developer,
        _data(
            cluster, member_id=None, service_id=cluster.dev.id, activity_id=cluster.prospecting.id
        ),
    ).entries[0]
    assert entry.member_id is None


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"minutes": 0}, InvalidEntry, "supérieure à zéro"),
        ({"minutes": -30}, InvalidEntry, "négative"),
        ({"minutes": 1441}, DayOverLimit, "24 h"),
        ({"activity_id": 99999}, InvalidEntry, "Activité inconnue"),
        ({"unit_type_id": 99999, "quantity": Decimal(1)}, InvalidEntry, "Unité d'œuvre inconnue"),
        ({"member_id": 99999}, InvalidEntry, "Adhérent inconnu"),
        ({"service_id": 99999}, InvalidEntry, "Service inconnu"),
        ({"quantity": Decimal(2)}, InvalidEntry, "ensemble"),
    ],
)
def test_bad_entries_are_refused(db, cluster, fields, error, message):
    with pytest.raises(error, match=message):
        services.create_entry(db, cluster.accountant, _data(cluster, **fields))
    assert db.scalar(select(WorkEntry.id)) is None


def test_an_activity_of_another_service_is_refused(db, cluster):
    with pytest.raises(InvalidEntry, match="Activité inconnue pour le service"):
        services.create_entry(
            db, cluster.accountant, _data(cluster, activity_id=cluster.prospecting.id)
        )


def test_a_unit_type_of_another_service_is_refused(db, cluster):
    with pytest.raises(InvalidEntry, match="Unité d'œuvre inconnue"):
        services.create_entry(
            db,
            cluster.developer,
            _data(
                cluster,
                service_id=cluster.dev.id,
                activity_id=None,
                unit_type_id=cluster.payslip.id,
                quantity=Decimal(1),
            ),
        )


def test_units_only_entry_may_have_no_minutes(db, cluster):
    entry = services.create_entry(
        db,
        cluster.accountant,
        _data(cluster, minutes=0, unit_type_id=cluster.payslip.id, quantity=Decimal("12")),
    ).entries[0]
    assert (entry.minutes, entry.quantity) == (0, Decimal("12.000"))


def test_a_member_who_had_left_at_that_date_is_refused(db, cluster):
    services.create_entry(
        db, cluster.accountant, _data(cluster, member_id=cluster.left.id, day=date(2026, 2, 28))
    )
    with pytest.raises(MemberInactive) as caught:
        services.create_entry(db, cluster.accountant, _data(cluster, member_id=cluster.left.id))
    assert str(caught.value) == (
        "Partie (L) n'était plus adhérent le 05/03/2026 (départ le 28/02/2026)."
    )


def test_a_member_who_had_not_joined_yet_is_refused(db, cluster, make_member):
    late = make_member("N", name="Nouveau", joined_on=date(2026, 4, 1))
    with pytest.raises(MemberInactive, match="pas encore adhérent le 05/03/2026"):
        services.create_entry(db, cluster.accountant, _data(cluster, member_id=late.id))


def test_more_than_24_hours_a_day_is_refused_and_more_than_12_is_warned(db, cluster):
    first = services.create_entry(db, cluster.accountant, _data(cluster, minutes=600))
    assert first.warnings == []
    second = services.create_entry(db, cluster.accountant, _data(cluster, minutes=180))
    assert second.warnings == [
        "Attention : 13 h saisies le 05/03/2026 pour Utilisateur de test (plus de 12 h)."
    ]
    with pytest.raises(
        DayOverLimit, match=r"Plus de 24 h saisies le 05/03/2026 .*\(24 h 01 au total\)"
    ):
        services.create_entry(db, cluster.accountant, _data(cluster, minutes=661))
    # Another person's day is counted apart.
    assert services.create_entry(db, cluster.developer, _data(cluster, minutes=600)).warnings == []


def test_editing_an_entry_does_not_count_its_old_minutes_twice(db, cluster):
    entry = services.create_entry(db, cluster.accountant, _data(cluster, minutes=1000)).entries[0]
    saved = services.update_entry(db, cluster.accountant, entry.id, _data(cluster, minutes=1440))
    assert saved.entries[0].minutes == 1440


def test_a_date_in_a_closed_period_is_refused_for_everyone(db, cluster):
    entry = services.create_entry(db, cluster.accountant, _data(cluster)).entries[0]
    close_period(db, get_or_create_period(db, "2026-03"))
    with pytest.raises(EntryInClosedPeriod, match="mars 2026 est clôturée"):
        services.create_entry(db, cluster.accountant, _data(cluster))
    with pytest.raises(EntryInClosedPeriod):
        services.update_entry(db, cluster.admin, entry.id, _data(cluster, day=date(2026, 4, 1)))
    with pytest.raises(EntryInClosedPeriod):
        services.delete_entry(db, cluster.admin, entry.id)
    with pytest.raises(EntryInClosedPeriod):
        services.update_entry(db, cluster.accountant, entry.id, _data(cluster))


def test_moving_an_entry_into_a_closed_period_is_refused(db, cluster):
    entry = services.create_entry(db, cluster.accountant, _data(cluster)).entries[0]
    close_period(db, get_or_create_period(db, "2026-02"))
    with pytest.raises(EntryInClosedPeriod):
        services.update_entry(
            db, cluster.accountant, entry.id, _data(cluster, day=date(2026, 2, 2))
        )


def test_a_member_accountant_logs_only_for_their_member(db, cluster):
    own = services.create_entry(db, cluster.member_accountant, _data(cluster)).entries[0]
    assert own.member_id == cluster.a.id
    with pytest.raises(NotAllowed, match="votre adhérent"):
        services.create_entry(db, cluster.member_accountant, _data(cluster, member_id=cluster.b.id))
    with pytest.raises(NotAllowed, match="pas de travail commun"):
        services.create_entry(db, cluster.member_accountant, _data(cluster, member_id=None))


def test_a_member_accountant_sees_only_their_member(db, cluster):
    other = services.create_entry(
        db, cluster.accountant, _data(cluster, member_id=cluster.b.id)
    ).entries[0]
    common = services.create_entry(db, cluster.accountant, _data(cluster, member_id=None)).entries[
        0
    ]
    mine = services.create_entry(db, cluster.accountant, _data(cluster)).entries[0]
    visible = db.scalars(services.visible_entries(cluster.member_accountant)).all()
    assert [e.id for e in visible] == [mine.id]
    for hidden in (other, common):
        with pytest.raises(EntryNotFound):
            services.get_entry(db, cluster.member_accountant, hidden.id)
    assert services.get_entry(db, cluster.treasurer, other.id) is other


def test_staff_change_only_their_own_entries_but_the_admin_fixes_anyones(db, cluster):
    entry = services.create_entry(db, cluster.accountant, _data(cluster)).entries[0]
    with pytest.raises(NotAllowed):
        services.update_entry(db, cluster.developer, entry.id, _data(cluster, minutes=30))
    services.update_entry(db, cluster.admin, entry.id, _data(cluster, minutes=30))
    assert entry.minutes == 30 and entry.updated_by_id == cluster.admin.id


def test_the_treasurer_logs_nothing_and_only_the_admin_logs_for_others(db, cluster):
    with pytest.raises(NotAllowed):
        services.create_entry(db, cluster.treasurer, _data(cluster))
    with pytest.raises(NotAllowed):
        services.create_entry(db, cluster.accountant, _data(cluster), staff_id=cluster.developer.id)
    entry = services.create_entry(db, cluster.admin, _data(cluster), staff_id=cluster.developer.id)
    assert entry.entries[0].staff_id == cluster.developer.id


def test_split_by_percent_gives_whole_minutes_adding_up(db, cluster, make_member):
    c = make_member("C", name="Gamma")
    saved = services.split_entry(
        db,
        cluster.accountant,
        _data(cluster, minutes=100, member_id=None),
        [(cluster.a.id, 33), (cluster.b.id, 33), (c.id, 34)],
        by="percent",
    )
    # 33 % of 100 = 33, 33, 34: exact.
    assert [(e.member_id, e.minutes) for e in saved.entries] == [
        (cluster.a.id, 33),
        (cluster.b.id, 33),
        (c.id, 34),
    ]
    saved = services.split_entry(
        db,
        cluster.accountant,
        _data(cluster, minutes=100, member_id=None),
        [
            (cluster.a.id, Decimal("33.34")),
            (cluster.b.id, Decimal("33.33")),
            (c.id, Decimal("33.33")),
        ],
        by="percent",
    )
    # 33.34, 33.33, 33.33 -> floors 33, 33, 33, the last minute to the largest remainder (A).
    assert [e.minutes for e in saved.entries] == [34, 33, 33]


def test_split_by_minutes_splits_units_in_proportion(db, cluster):
    saved = services.split_entry(
        db,
        cluster.accountant,
        _data(
            cluster, member_id=None, unit_type_id=cluster.entry_booked.id, quantity=Decimal("10")
        ),
        [(cluster.a.id, 60), (cluster.b.id, 30)],
    )
    assert [(e.minutes, e.quantity) for e in saved.entries] == [
        (60, Decimal("6.667")),
        (30, Decimal("3.333")),
    ]


@pytest.mark.parametrize(
    ("shares", "by", "message"),
    [
        ([], "minutes", "au moins un"),
        ([("A", 50), ("A", 50)], "percent", "deux fois"),
        ([("A", 50), ("B", 40)], "percent", "100 %"),
        ([("A", 0), ("B", 100)], "percent", "supérieure à zéro"),
        ([("A", 30.5)], "minutes", "entiers"),
    ],
)
def test_bad_splits_are_refused(db, cluster, shares, by, message):
    ids = {"A": cluster.a.id, "B": cluster.b.id}
    shares = [(ids[code], Decimal(str(value))) for code, value in shares]
    with pytest.raises(InvalidEntry, match=message):
        services.split_entry(db, cluster.accountant, _data(cluster, member_id=None), shares, by=by)
    assert db.scalar(select(WorkEntry.id)) is None


def test_a_split_including_a_member_who_had_left_saves_nothing(db, cluster):
    with pytest.raises(MemberInactive):
        services.split_entry(
            db,
            cluster.accountant,
            _data(cluster, member_id=None),
            [(cluster.a.id, 50), (cluster.left.id, 50)],
            by="percent",
        )
    assert db.scalar(select(WorkEntry.id)) is None


def test_submit_approve_and_send_back(db, cluster):
    entry = services.create_entry(db, cluster.accountant, _data(cluster)).entries[0]
    with pytest.raises(InvalidEntry, match="brouillon"):
        services.approve_entries(db, cluster.treasurer, [entry.id])
    assert services.submit_week(db, cluster.accountant, date(2026, 3, 2)) == 1
    assert entry.status == EntryStatus.SUBMITTED
    with pytest.raises(EntryLocked, match="soumise"):
        services.update_entry(db, cluster.accountant, entry.id, _data(cluster, minutes=10))
    with pytest.raises(NotAllowed):
        services.approve_entries(db, cluster.accountant, [entry.id])
    assert services.approve_entries(db, cluster.treasurer, [entry.id]) == 1
    assert entry.status == EntryStatus.APPROVED
    with pytest.raises(EntryLocked, match="validée"):
        services.update_entry(db, cluster.admin, entry.id, _data(cluster, minutes=10))
    with pytest.raises(InvalidEntry, match="commentaire"):
        services.send_back(db, cluster.admin, [entry.id], "  ")
    assert services.send_back(db, cluster.admin, [entry.id], "Mauvais adhérent") == 1
    assert (entry.status, entry.review_comment) == (EntryStatus.DRAFT, "Mauvais adhérent")
    services.update_entry(db, cluster.accountant, entry.id, _data(cluster, member_id=cluster.b.id))
    assert entry.member_id == cluster.b.id


def test_submitting_an_empty_week_says_so(db, cluster):
    with pytest.raises(InvalidEntry, match="semaine du 02/03/2026"):
        services.submit_week(db, cluster.accountant, DAY)


def test_bulk_approval_of_a_month_approves_every_submitted_entry_and_nothing_else(db, cluster):
    march = [
        services.create_entry(db, user, _data(cluster, day=date(2026, 3, d))).entries[0]
        for user, d in ((cluster.accountant, 2), (cluster.developer, 31))
    ]
    april = services.create_entry(
        db, cluster.accountant, _data(cluster, day=date(2026, 4, 1))
    ).entries[0]
    draft = services.create_entry(
        db, cluster.developer, _data(cluster, day=date(2026, 3, 30))
    ).entries[0]
    for entry in [*march, april]:
        entry.status = EntryStatus.SUBMITTED
    db.flush()
    assert services.approve_month(db, cluster.admin, 2026, 3) == 2
    assert [e.status for e in march] == [EntryStatus.APPROVED] * 2
    assert april.status == EntryStatus.SUBMITTED
    assert draft.status == EntryStatus.DRAFT
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "approve_month")).one()
    assert (event.object_id, event.after["approved"]) == ("2026-03", 2)
