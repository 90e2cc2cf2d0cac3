"""Hypothesis strategies for fuzzing: random files, files mutated from real samples, workbooks.

The number of examples comes from ``MUTUALISE_FUZZ_EXAMPLES`` (CI: a few dozen per target, a
few hundred in all; ``make fuzz``: ten thousand per target), so the same tests serve both.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"

#: Examples per fuzz target (CI: 20, a few hundred cases in all); `make fuzz` raises it so that
#: about ten thousand cases run. The total is printed at the end of the run.
EXAMPLES = int(os.environ.get("MUTUALISE_FUZZ_EXAMPLES", "20"))
#: Cases run, per area fuzzed (printed by tests/fuzz/conftest.py).
CASES: Counter[str] = Counter()


def count(area: str) -> None:
    CASES[area] += 1


def fuzz_settings(share: float = 1.0) -> settings:
    """Settings of a fuzz target: ``share`` of :data:`EXAMPLES`, no deadline (database work
    and shared machines), function-scoped fixtures allowed (each example runs in a savepoint)."""
    return settings(
        max_examples=max(1, int(EXAMPLES * share)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


def sample(relative: str) -> bytes:
    return (SAMPLES / relative).read_bytes()


#: Bytes that break naive readers: quotes, separators, line ends, BOMs, NUL, invalid UTF-8,
#: formula starters, a very long cell, markup.
NASTY = [
    b'"', b'""', b";", b",", b"\t", b"|", b"\r\n", b"\r", b"\n\n", b"\x00", b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xff", b"\xc3", b"=cmd|' /C calc'!A0", b"+1", b"-1", b"@SUM(A1)",
    b"x" * 5000, b"<script>alert(1)</script>", b"\xe2\x80\xae", b"9" * 30, b"1e309", b"NaN",
    b"-0,00", b"31/02/2026", b"25:61", b"\\", b"%s%n", b"\x1a",
]


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, max_ops: int = 6) -> bytes:
    """``seed`` with a few random edits: flips, deletions, insertions of nasty or random bytes,
    duplicated or swapped slices, truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        size = len(data)
        at = draw(st.integers(0, size)) if size else 0
        op = draw(st.sampled_from(["flip", "delete", "nasty", "random", "dup", "truncate", "line"]))
        if op == "flip" and size:
            index = min(at, size - 1)
            data[index] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete" and size:
            data[at : at + draw(st.integers(1, 64))] = b""
        elif op == "nasty":
            data[at:at] = draw(st.sampled_from(NASTY))
        elif op == "random":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == "dup" and size:
            length = draw(st.integers(1, 200))
            data[at:at] = data[at : at + length]
        elif op == "truncate":
            del data[at:]
        elif op == "line" and size:
            # Repeat or drop a whole line: duplicates and missing rows.
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = size if end < 0 else end + 1
            if draw(st.booleans()):
                data[start:start] = data[start:end]
            else:
                del data[start:end]
    return bytes(data)


cell_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from([n.decode("utf-8", "replace") for n in NASTY]),
    st.from_regex(r"-?\d{1,6}([.,]\d{1,4})?", fullmatch=True),
    st.from_regex(r"\d{1,2}[:h]\d{2}", fullmatch=True),
    st.from_regex(r"(19|20|21)\d{2}-\d{2}-\d{2}", fullmatch=True),
    st.from_regex(r"\d{2}/\d{2}/\d{4}", fullmatch=True),
)

xlsx_cell = st.one_of(
    st.none(),
    cell_text.map(lambda s: "".join(ch for ch in s if ch >= " " or ch in "\t\n")),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9),
                max_value=10**9),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.times(),
    st.booleans(),
)


def workbook_bytes(rows: list[list[Any]], title: str = "Feuil1") -> bytes:
    """An XLSX holding ``rows`` (openpyxl, as a spreadsheet program would save it)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return _deterministic(out.getvalue())


_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _deterministic(workbook: bytes) -> bytes:
    """The same rows give the same bytes (openpyxl stamps the time in docProps/core.xml and in
    the zip): hypothesis replays examples and needs them identical."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name in source.namelist():
            content = source.read(name)
            if name == "docProps/core.xml":
                content = _STAMP.sub(b"2026-01-01T00:00:00Z", content)
            rebuilt.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), content,
                             compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # what a spreadsheet stores: a binary float
    if isinstance(value, time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


@st.composite
def mutated_workbook(draw: st.DrawFn, seed: bytes) -> bytes:
    """A workbook with one of its XML parts mutated and the zip rebuilt (valid CRCs, so the
    damage reaches the XML reader), or the zip bytes themselves mutated."""
    if draw(st.booleans()):
        return draw(mutated(seed))
    source = zipfile.ZipFile(io.BytesIO(seed))
    names = source.namelist()
    target = draw(st.sampled_from(sorted(names)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for name in names:
            content = source.read(name)
            if name == target:
                content = draw(mutated(content))
            rebuilt.writestr(name, content)
    return out.getvalue()


def csv_bytes(rows: list[list[str]], separator: str = ";", encoding: str = "utf-8") -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, "replace")

