"""The README's curl examples, run as written: the block after ``<!-- api-examples -->`` is
executed line by line by ``bash`` with the real ``curl`` against the app served on 127.0.0.1
(a fresh database, migrated, with ``mutualise demo``), ``$MUTUALISE`` and ``$TOKEN`` set to
the server and an admin's token. Each call must answer 2xx (the status a line announces in its
trailing comment, when it does), and the downloaded invoice must be a workbook and a PDF."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from accounting.org import Role, User
from app.api.tokens import create_token
from tests.browser.conftest import LiveServer, build_server
from tests.conftest import require_tool

README = Path(__file__).resolve().parents[2] / "README.md"


def curl_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- api-examples -->", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("curl ")]


@pytest.fixture
def served(fresh_db_url: str) -> Iterator[LiveServer]:
    server = build_server(fresh_db_url)
    assert server.demo_loaded
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_readme_has_examples_of_each_area() -> None:
    joined = "\n".join(curl_lines())
    for path in ("/me", "/members", "/work-entries", "/work-entries/bulk", "/timesheets",
                 "/allocation-runs", "/invoices", "/xlsx", "/pdf", "/payments", "/trial-balance"):
        assert f"/api/v1{path}" in joined or path in joined, path


def test_the_readme_curl_examples_run(served: LiveServer, tmp_path: Path) -> None:
    curl = require_tool("curl")
    with served.session() as db:
        admin = db.scalars(select(User).where(User.roles.contains(Role.ADMIN.value))).first()
        secret = create_token(db, admin, name="README").secret
        db.commit()
    env = {**os.environ, "MUTUALISE": served.base_url.rstrip("/"), "TOKEN": secret,
           "PATH": f"{Path(curl).parent}:{os.environ.get('PATH', '')}"}
    lines = curl_lines()
    assert len(lines) >= 10
    for line in lines:
        expected = re.search(r"#\s*(\d{3})\s*$", line)
        command = line.split("   #", 1)[0]
        result = subprocess.run(
            ["bash", "-c", command + " -w '\\n%{http_code}'"], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=60, check=False,
        )
        status = int(result.stdout.strip().rsplit("\n", 1)[-1])
        assert 200 <= status < 300, f"{line}\n-> {status} {result.stdout[:500]}"
        if expected:
            assert status == int(expected[1]), line
    assert (tmp_path / "facture.xlsx").read_bytes()[:2] == b"PK"
    assert (tmp_path / "facture.pdf").read_bytes()[:5] == b"%PDF-"
