"""The navigation, filtered by role and by the endpoints that exist, in groups.

The menu bar holds single links and groups (« Temps », « Répartition », « Facturation »,
« Pilotage »): a group is a ``<details>`` whose ``<summary>`` opens the list of its links, so it
works with the keyboard (Enter / Space on the summary) and without JavaScript; app.js only closes
the other open groups and closes one on Escape. A group with a single visible link (a member
accountant's « Répartitions ») is shown as that link. Grouping keeps the bar on one line at
1280 px for the longest menus (admin, treasurer).

Every page draws the menu, so what depends only on the roles is computed once per process
(:func:`_visible`: the items, the groups, their addresses) and the menu's markup once per role
set and current item (:func:`nav_html`, the template ``_nav.html``): it cost ~4 ms of the ~9 ms
of CPU of the simplest page (16 role checks and ~30 ``url_for`` per request; see README, Load).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user
from markupsafe import Markup

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
    "Répartition": ("allocation.costs", "allocation.keys", "allocation.periods", "allocation.runs"),
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


#: Rendered menus kept per app (role sets x current items: a few dozen at most).
_CACHE_LIMIT = 512


@dataclass(frozen=True)
class _Visible:
    """What a role set sees: the items, the menu (groups), and each item's address."""

    items: tuple[NavItem, ...]
    menu: tuple[NavItem | NavGroup, ...]
    hrefs: dict[str, str]


def _cache() -> dict[Any, Any]:
    return current_app.extensions.setdefault("mutualise.nav", {})


def _visible() -> _Visible | None:
    """The current user's items, menu and addresses, computed once per role set and script
    root (the app's endpoints do not change once it runs); None when nobody is logged in."""
    if not current_user.is_authenticated:
        return None
    roles = current_user.role_set
    key = ("visible", roles, request.script_root)
    cache = _cache()
    found = cache.get(key)
    if found is None:
        views = current_app.view_functions
        items = tuple(item for item in NAV if item.endpoint in views and roles & item.roles)
        hrefs = {item.endpoint: url_for(item.endpoint) for item in items}
        found = _Visible(items, tuple(_grouped(items)), hrefs)
        _remember(cache, key, found)
    return found


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def visible_nav() -> list[NavItem]:
    visible = _visible()
    return list(visible.items) if visible else []


def visible_menu() -> list[NavItem | NavGroup]:
    """The visible items in menu order, grouped (a group of one item is that item)."""
    visible = _visible()
    return list(visible.menu) if visible else []


def _grouped(items: tuple[NavItem, ...]) -> list[NavItem | NavGroup]:
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


def current_item(visible: _Visible, path: str, blueprint: str | None) -> NavItem | None:
    """The item of this page: the one whose address is the longest start of the page's
    address, else the first item of the page's area (e.g. /repartition/cles/COMPTA -> Clés)."""
    best, length = None, 0
    for item in visible.items:
        href = visible.hrefs[item.endpoint]
        if path.startswith(href) and len(href) > length:
            best, length = item, len(href)
    if best is not None:
        return best
    area = f"{blueprint or '-'}."
    return next((item for item in visible.items if item.endpoint.startswith(area)), None)


def nav_html() -> Markup:
    """The main menu's markup (``_nav.html``), rendered once per role set and current item."""
    visible = _visible()
    if visible is None:
        return Markup("")
    current = current_item(visible, request.path, request.blueprint)
    key = ("html", current_user.role_set, request.script_root, current)
    cache = _cache()
    html = cache.get(key)
    if html is None:
        template = current_app.jinja_env.get_template("_nav.html")
        html = Markup(template.render(menu=visible.menu, hrefs=visible.hrefs, current=current))
        _remember(cache, key, html)
    return html
