"""Fixtures of the timesheets tests: a small cluster with one service, its activities and
unit types, and staff of each role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from accounting.org import Member, Role, Service, User
from timesheets.models import Activity, UnitType


@dataclass
class Cluster:
    compta: Service
    dev: Service
    bookkeeping: Activity
    payroll: Activity
    prospecting: Activity
    entry_booked: UnitType
    payslip: UnitType
    a: Member
    b: Member
    left: Member
    accountant: User
    developer: User
    admin: User
    treasurer: User
    member_accountant: User


@pytest.fixture
def cluster(db: Session, make_member, make_service, make_user) -> Cluster:
    compta = make_service("COMPTA", name="Comptabilité / gestion")
    dev = make_service("DEV", name="Chargé de développement")
    bookkeeping = Activity(service_id=compta.id, name="Tenue comptable")
    payroll = Activity(service_id=compta.id, name="Paie")
    prospecting = Activity(service_id=dev.id, name="Prospection")
    entry_booked = UnitType(service_id=compta.id, name="Écriture", weight=Decimal("1"))
    payslip = UnitType(service_id=compta.id, name="Bulletin de paie", weight=Decimal("5"))
    db.add_all([bookkeeping, payroll, prospecting, entry_booked, payslip])
    a = make_member("A", name="Alpha")
    b = make_member("B", name="Bêta")
    left = make_member("L", name="Partie", joined_on=date(2020, 1, 1), left_on=date(2026, 2, 28))
    db.flush()
    return Cluster(
        compta=compta,
        dev=dev,
        bookkeeping=bookkeeping,
        payroll=payroll,
        prospecting=prospecting,
        entry_booked=entry_booked,
        payslip=payslip,
        a=a,
        b=b,
        left=left,
        accountant=make_user(Role.ACCOUNTANT, email="compta@test.fr"),
        developer=make_user(Role.DEVELOPER, email="dev@test.fr"),
        admin=make_user(Role.ADMIN, email="admin@test.fr"),
        treasurer=make_user(Role.TREASURER, email="tresorier@test.fr"),
        member_accountant=make_user(Role.MEMBER_ACCOUNTANT, member=a, email="ca@test.fr"),
    )
