"""The navigation, filtered by role and by the endpoints that exist, in groups.

The menu bar holds single links and groups (« Temps », « Répartition », « Facturation »,
« Pilotage »): a group is a ``<details>`` whose ``<summary>`` opens the list of its links, so it
works with the keyboard (Enter / Space on the summary) and without JavaScript; app.js only closes
the other open groups and closes one on Escape. A group with a single visible link (a member
accountant's « Répartitions ») is shown as that link. Grouping keeps the bar on one line at
1280 px for the longest menus (admin, treasurer).
"""

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


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: tuple[NavItem, ...]


#: The groups, by the endpoints of their items (the others are single links).
GROUPS: dict[str, tuple[str, ...]] = {
    "Temps": ("timesheets.week", "timesheets.entries", "timesheets.approvals"),
    "Répartition": ("allocation.costs", "allocation.keys", "allocation.periods",
                    "allocation.runs"),
    "Facturation": ("invoices.index", "invoices.payments", "budgets.index"),
    "Pilotage": ("admin.figures", "admin.audit"),
}


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
    NavItem("Budget et appels", "budgets.index", frozenset({A, C, T})),
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


def visible_menu() -> list[NavItem | NavGroup]:
    """The visible items in menu order, grouped (a group of one item is that item)."""
    items = visible_nav()
    group_of = {endpoint: label for label, endpoints in GROUPS.items() for endpoint in endpoints}
    menu: list[NavItem | NavGroup] = []
    done: set[str] = set()
    for item in items:
        label = group_of.get(item.endpoint)
        if label is None:
            menu.append(item)
        elif label not in done:
            done.add(label)
            members = tuple(i for i in items if group_of.get(i.endpoint) == label)
            menu.append(members[0] if len(members) == 1 else NavGroup(label, members))
    return menu
