"""Fixtures of the Factur-X and delivery tests.

* ``en16931``: the official EN 16931 checker of ``../shared/tools/en16931`` (beside the
  clone, as CI lays it out), its stylesheet compiled once; skipped with the reason where it is
  absent, failed under CI=true.
* ``smtp``: a real SMTP server (aiosmtpd) on the loopback, recording what it received;
  ``MUTUALISE_SMTP_URL`` and ``MUTUALISE_MAIL_FROM`` point at it. Addresses listed in
  ``smtp.refuse`` are refused with 550.
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import os
import socket
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.invoices.conftest import billing, carrier, unapproved  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
#: ``../shared`` beside the clone (CI); MUTUALISE_SHARED_DIR names another place (a worktree).
SHARED = Path(os.environ.get("MUTUALISE_SHARED_DIR") or REPO.parent / "shared")
CHECKER = SHARED / "tools" / "en16931" / "check.py"


def _require_checker() -> Path:
    if not CHECKER.exists():
        message = f"the EN 16931 checker is not at {CHECKER} (shared/ beside the clone)"
        if IN_CI:
            pytest.fail(f"{message}, and CI=true requires it")
        pytest.skip(message)
    return CHECKER


class Checker:
    """check.py's rules with the stylesheet compiled once (check.py compiles per call)."""

    def __init__(self, path: Path) -> None:
        spec = importlib.util.spec_from_file_location("en16931_check", path)
        assert spec is not None and spec.loader is not None
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        self.path = path
        from saxonche import PySaxonProcessor

        self.processor = PySaxonProcessor(license=False)
        self.xslt = self.processor.new_xslt30_processor().compile_stylesheet(
            stylesheet_file=str(self.module.XSLT)
        )

    def fatal(self, xml: bytes) -> list[str]:
        import xml.etree.ElementTree as ET

        node = self.processor.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = ET.fromstring(self.xslt.transform_to_string(xdm_node=node))
        svrl_ns = self.module.SVRL
        return [
            f"{fa.get('id')}: {' '.join((fa.findtext(svrl_ns + 'text') or '').split())}"
            for fa in svrl.iter(svrl_ns + "failed-assert")
            if (fa.get("flag") or "fatal") == "fatal"
        ]


@pytest.fixture(scope="session")
def en16931() -> Checker:
    return Checker(_require_checker())


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("MUTUALISE_SMTP_URL", f"smtp://127.0.0.1:{port}?timeout=5")
    monkeypatch.setenv("MUTUALISE_MAIL_FROM", "Pôle Val Horizon <compta@valhorizon.example>")
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Point the settings at a port where nothing listens."""

    def down() -> None:
        monkeypatch.setenv("MUTUALISE_SMTP_URL", f"smtp://127.0.0.1:{free_port()}?timeout=2")
        monkeypatch.setenv("MUTUALISE_MAIL_FROM", "compta@valhorizon.example")

    return down


def pdf_attachments(message: Message) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    }
