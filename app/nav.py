"""The navigation, filtered by role and by the endpoints that exist."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_login import current_user

from accounting.org import Role

A, C, M, D, T = (
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.MEMBER_ACCOUNTANT,
    Role.DEVELOPER,
    Role.TREASURER,
)


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[Role]


NAV: list[NavItem] = [
    NavItem("Tableau de bord", "main.home", frozenset({A, C, M, D, T})),
    NavItem("Saisie des temps", "timesheets.week", frozenset({A, C, M, D})),
    NavItem("Temps saisis", "timesheets.entries", frozenset({A, C, M, D, T})),
    NavItem("Validation", "timesheets.approvals", frozenset({A, T})),
    NavItem("Charges", "allocation.costs", frozenset({A, C, T})),
    NavItem("Clés", "allocation.keys", frozenset({A, T})),
    NavItem("Périodes", "allocation.periods", frozenset({A, T})),
    NavItem("Répartitions", "allocation.runs", frozenset({A, C, T, M})),
    NavItem("Factures", "invoices.index", frozenset({A, C, T, M})),
    NavItem("Paiements", "invoices.payments", frozenset({A, C, T})),
    NavItem("Comptabilité", "ledger.journal", frozenset({A, C, T, M})),
    NavItem("Nos chiffres", "admin.my_figures", frozenset({M})),
    NavItem("Chiffres des adhérents", "admin.figures", frozenset({T})),
    NavItem("Journal des modifications", "admin.audit", frozenset({T})),
    NavItem("Administration", "admin.index", frozenset({A})),
]


def visible_nav() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    return [
        item
        for item in NAV
        if item.endpoint in views and current_user.has_role(*item.roles)
    ]
