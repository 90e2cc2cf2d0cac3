"""Every GET page of the app as a URL, found in the URL map (so a new page is covered without
editing any list): shared by the query-count test (``tests/test_page_queries.py``), the browser
crawls and the pages benchmark (``bench/bench_pages.py``).

A page's URL arguments come from a ``values`` dict (argument name → value) the caller builds
from its data; a few pages also need a query string (``QUERY``), whose placeholders are taken
from ``values`` too (``PLACEHOLDERS``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from werkzeug.routing import Rule

#: Query strings some pages need to show anything.
QUERY: dict[str, dict[str, Any]] = {
    # A new row of the week grid: a service and a member (the member accountant's own).
    "timesheets.week_row": {"nouvelle-service": "SERVICE", "nouvelle-adherent": "MEMBER"},
    "allocation.key_compare": {"service": "COMPTA", "periode": "PERIOD", "cle": ["equal", "hours"]},
    "allocation.key_compare_xlsx": {
        "service": "COMPTA", "periode": "PERIOD", "cle": ["equal", "hours"],
    },
}
#: Query values of QUERY taken from the caller's values (an id known only once arranged).
PLACEHOLDERS = {"PERIOD": "period_code", "SERVICE": "service_id", "MEMBER": "member_id"}
#: Pages left out, and why.
SKIPPED = {
    "static": "files, no database",
    "auth.login": "anonymous page, no data",
    "main.index": "a redirect",
    "delivery.reset": "anonymous page behind an e-mailed single-use token (tests/facturx)",
}


class MissingValue(LookupError):
    """A page's URL argument has no value in the caller's ``values``."""


def fill(rule: Rule, values: dict[str, Any]) -> dict[str, Any] | None:
    """URL values for a rule, or None when one argument has no known value."""
    filled = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)  # an any(...) converter lists its choices
        choices = getattr(converter, "items", None)
        if choices:
            filled[name] = sorted(choices)[0]
        elif name in values:
            filled[name] = values[name]
        else:
            return None
    return filled


def pages(app: Flask, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(« endpoint rule », URL) of every GET page but the JSON API and ``SKIPPED``, sorted.

    Raises :class:`MissingValue` naming the page whose arguments ``values`` cannot fill.
    """
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED:
                continue
            if rule.rule.startswith("/api/"):
                continue  # JSON with Bearer tokens, not pages: tests/api, bench/bench_api.py
            args = fill(rule, values)
            if args is None:
                raise MissingValue(f"{rule.endpoint} ({rule.rule}): no value for its "
                                   "arguments; add one to the values given")
            query = {k: (values[PLACEHOLDERS[v]] if isinstance(v, str) and v in PLACEHOLDERS
                         else v)
                     for k, v in QUERY.get(rule.endpoint, {}).items()}
            found.append((f"{rule.endpoint} {rule.rule}", url_for(rule.endpoint, **args, **query)))
    return sorted(set(found))
