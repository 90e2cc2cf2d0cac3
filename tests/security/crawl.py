"""Helpers shared by the security tests: URLs built from the app's URL map, and a crawler.

Generated from the URL map so that a route added by any area is covered without editing these
tests: every rule is called with placeholder arguments, and the crawler follows the links the
pages show (which reach the routes that need real object ids).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: A value per URL converter, for rules that take arguments.
PLACEHOLDERS = {"int": 1, "string": "x", "default": "x", "path": "x", "any": None, "float": 1.0}


def rules(app: Flask) -> Iterator[Rule]:
    """Every rule but the static files, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        # The JSON API authenticates by Bearer token only (no cookie, hence no CSRF token) and
        # answers JSON: tests/api checks it (access matrix, contract fuzzing, cookies refused).
        if rule.endpoint != "static" and not rule.rule.startswith("/api/"):
            yield rule


def placeholder_url(app: Flask, rule: Rule, **values: object) -> str:
    """The rule's URL with a placeholder for each argument (``values`` override them)."""
    args: dict[str, object] = {}
    for name in rule.arguments:
        if name in values:
            args[name] = values[name]
            continue
        converter = type(rule._converters[name]).__name__.lower()
        kind = next((k for k in PLACEHOLDERS if converter.startswith(k)), "default")
        value = PLACEHOLDERS[kind]
        if value is None:  # AnyConverter: take its first choice
            value = sorted(rule._converters[name].items)[0]  # type: ignore[attr-defined]
        args[name] = value
    args.update({k: v for k, v in (rule.defaults or {}).items() if k not in args})
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, args, method=next(iter(rule.methods or {"GET"})))


def state_changing_rules(app: Flask) -> list[tuple[str, Rule]]:
    """(method, rule) for every POST/PUT/PATCH/DELETE route of the app."""
    return [
        (method, rule)
        for rule in rules(app)
        for method in sorted((rule.methods or set()) & STATE_CHANGING)
    ]


@dataclass
class Page:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def links(page: Page) -> list[str]:
    parser = _Links()
    parser.feed(page.text)
    return parser.links


SKIP = re.compile(r"^/static/|^/logout")


def crawl(
    client: FlaskClient, starts: Iterable[str], *, limit: int = 400, per_endpoint: int = 3
) -> dict[str, Page]:
    """GET every page reachable from ``starts`` by links, up to ``limit`` pages.

    At most ``per_endpoint`` URLs per route (paginated lists and one page per member would
    otherwise take the whole budget); query strings count as the same route.
    """
    seen: dict[str, Page] = {}
    per_route: dict[str, int] = {}
    queue = list(starts)
    app = client.application
    adapter = app.url_map.bind("localhost")
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen or SKIP.search(url):
            continue
        path = urlsplit(url).path
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except Exception:
            endpoint = path
        if per_route.get(endpoint, 0) >= per_endpoint:
            continue
        per_route[endpoint] = per_route.get(endpoint, 0) + 1
        response = client.get(url)
        page = Page(url, response.status_code, response.content_type or "", response.data)
        response.close()  # downloads are sent from temporary files
        seen[url] = page
        if page.is_html and page.status == 200:
            for href in links(page):
                target = urljoin(url, href)
                parts = urlsplit(target)
                if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                    continue
                local = parts.path + (f"?{parts.query}" if parts.query else "")
                if local not in seen:
                    queue.append(local)
    return seen


def get_pages(app: Flask) -> list[str]:
    """URLs of every GET route without arguments."""
    return [
        placeholder_url(app, rule)
        for rule in rules(app)
        if "GET" in (rule.methods or set()) and not rule.arguments
    ]


class _InlineCode(HTMLParser):
    """Finds what a strict CSP would block: inline scripts, style attributes and elements,
    event-handler attributes and ``javascript:`` URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if (
            tag == "script"
            and not attributes.get("src")
            and attributes.get("type") not in ("application/json", "application/ld+json")
        ):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style attribute on <{tag}>: {value!r}")
            elif name.startswith("on"):
                self.found.append(f"{name} attribute on <{tag}>")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found
