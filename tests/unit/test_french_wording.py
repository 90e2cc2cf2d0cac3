"""French words of the pages: the audit log's labels, values and dates, plurals, months,
percentages, and titles that agree with the user's civility."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

from accounting.db import Base
from accounting.org import Gender, Role, User
from app.admin import audit_text
from app.formatting import month_fr, percent, plural


@dataclass
class Event:
    action: str
    object_type: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def test_every_audited_column_has_a_french_label() -> None:
    import accounting.cost_models
    import accounting.invoicing.models
    import accounting.ledger.models  # noqa: F401
    import timesheets.models  # noqa: F401

    missing = set()
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if not getattr(model, "__audited__", False):
            continue
        assert model.__tablename__ in audit_text.OBJECT_LABELS, model.__tablename__
        excluded = getattr(model, "__audit_exclude__", frozenset())
        missing |= {f"{model.__tablename__}.{a.key}" for a in inspect(model).column_attrs
                    if a.key not in excluded and a.key not in audit_text.FIELD_LABELS}
    assert not missing, sorted(missing)


def test_a_status_change_reads_in_words() -> None:
    event = Event("update", "work_entries", {"status": "draft"}, {"status": "submitted"})
    [change] = audit_text.changes(event)
    assert (change.label, change.before, change.after) == ("Statut", "brouillon", "soumise")
    assert audit_text.event_kind(event) == "Modification"


def test_dates_are_french_in_paris_time_without_microseconds() -> None:
    # 13:05 UTC on 2 December is 14:05 in Paris (winter time, UTC+1)
    assert audit_text.value_text("locked_until", "2026-12-02T13:05:41.123456+00:00") == (
        "02/12/2026 14:05"
    )
    # summer time: UTC+2
    assert audit_text.value_text("closed_at", "2026-07-01T08:30:00") == "01/07/2026 10:30"
    assert audit_text.value_text("day", "2026-11-30") == "30/11/2026"
    assert audit_text.value_text("note", "2026 – bilan") == "2026 – bilan"  # not a date


def test_values_in_words() -> None:
    assert audit_text.value_text("active", False) == "non"
    assert audit_text.value_text("minutes", 90) == "1 h 30"
    assert audit_text.value_text("minutes", 120) == "2 h"
    assert audit_text.value_text("amount", "1234.5") == "1\u202f234,50 €"
    assert audit_text.value_text("roles", ["developer", "treasurer"]) == (
        "chargé de développement, trésorier"
    )
    assert audit_text.value_text("roles", "admin treasurer") == "administrateur, trésorier"
    assert audit_text.value_text("member_id", None) == "—"
    assert audit_text.field_label("last_login_at") == "Dernière connexion"


def test_a_login_is_its_own_kind_of_event_even_in_old_rows() -> None:
    new = Event("login", "users")
    old = Event("update", "users", {"last_login_at": None, "failed_logins": 2},
                {"last_login_at": "2026-12-02T13:05:00", "failed_logins": 0})
    for event in (new, old):
        assert audit_text.event_kind(event) == "Connexion"
        assert audit_text.changes(event) == []
    renamed = Event("update", "users", {"name": "Claire"}, {"name": "Claire Dumas"})
    assert audit_text.event_kind(renamed) == "Modification"


def test_plurals_months_and_percentages() -> None:
    assert plural(0, "événement") == "0 événement"
    assert plural(1, "événement") == "1 événement"
    assert plural(2, "saisie soumise") == "2 saisies soumises"
    assert plural(3, "mois") == "3 mois"
    assert plural(1500, "ligne") == "1\u202f500 lignes"
    assert plural(2, "travail", "travaux") == "2 travaux"
    assert month_fr(date(2026, 11, 1)) == "novembre 2026"
    assert percent(Decimal("10.0000")) == "10\u00a0%"
    assert percent(Decimal("16.148600")) == "16,1486\u00a0%"
    assert percent(Decimal("12.5")) == "12,5\u00a0%"


def test_titles_agree_with_the_civility() -> None:
    user = User(email="s@b.fr", name="Sophie Bernard", roles="developer treasurer")
    assert user.role_titles == ["Chargé de développement", "Trésorier"]
    user.gender = Gender.FEMALE.value
    assert user.role_titles == ["Chargée de développement", "Trésorière"]
    assert user.role_title(Role.ADMIN) == "Coordination (administratrice)"
