"""Benchmarks of issue 6 (the ledger and the FEC), each beside the bare library doing the same
raw work in the same run (the machines are shared and noisy: the ratio is the figure to read).

    .venv/bin/python bench/bench_ledger.py                  # every benchmark, 1 000 000 lines
    .venv/bin/python bench/bench_ledger.py --lines 100000 fec-export check-fec

Targets (issue 6): FEC export of 1 000 000 lines < 15 s; check-fec of 1 000 000 lines < 10 s;
FEC import of 1 000 000 lines within 3x ``pandas.read_csv`` on the same file; the ledger workbook
of 1 000 000 lines within 1.3x openpyxl's write-only mode (lxml) writing the same cells, peak
memory < 500 MB.

The data is synthetic and deterministic (a cluster of 1 000 members invoiced, paid and buying
over a year), generated on first use and cached under ``bench/.cache/``.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from accounting.fec import FecLine, fec_filename, write_fec  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
SIREN = "123456782"
CLOSING = date(2025, 12, 31)


# ---------------------------------------------------------------------------------------------
# Synthetic data


def synthetic_fec_lines(count: int) -> Iterator[FecLine]:
    """``count`` FEC lines of balanced entries: sales (3 lines), payments and purchases (2).

    Deterministic: amounts and members come from the line index, so two runs write the same
    bytes.
    """
    start = date(2025, 1, 1)
    numbers = {"VT": 0, "BQ": 0, "HA": 0}
    labels = {"VT": "Ventes", "BQ": "Banque", "HA": "Achats"}
    produced = 0
    index = 0
    while produced < count:
        index += 1
        day = start + timedelta(days=index * 7 // 2000 % 365)
        valid = day + timedelta(days=3)
        member = f"M{index % 1000:04d}"
        cents = 1000 + (index * 7919) % 500000
        kind = ("VT", "VT", "BQ", "HA")[index % 4]
        numbers[kind] += 1
        num = f"{kind}{numbers[kind]:07d}"
        lib = labels[kind]
        if kind == "VT":
            net = Decimal(cents).scaleb(-2)
            vat = (net * Decimal("0.20")).quantize(Decimal("0.01"))
            ref = f"2025-{numbers['VT']:06d}"
            text = f"Facture {ref} adhérent {member}"
            lines = [
                FecLine("VT", lib, num, day, f"411{member}", f"Adhérent {member}", member,
                        f"Adhérent {member}", ref, day, text, net + vat, Decimal("0.00"),
                        "", None, valid),
                FecLine("VT", lib, num, day, "706100", "Prestations comptabilité", "", "", ref,
                        day, text, Decimal("0.00"), net, "", None, valid),
                FecLine("VT", lib, num, day, "445710", "TVA collectée", "", "", ref, day, text,
                        Decimal("0.00"), vat, "", None, valid),
            ]  # fmt: skip
        elif kind == "BQ":
            amount = Decimal(cents).scaleb(-2)
            ref = f"RLV-{numbers['BQ']:06d}"
            text = f"Règlement adhérent {member}"
            lines = [
                FecLine("BQ", lib, num, day, "512000", "Banque", "", "", ref, day, text, amount,
                        Decimal("0.00"), "", None, valid),
                FecLine("BQ", lib, num, day, f"411{member}", f"Adhérent {member}", member,
                        f"Adhérent {member}", ref, day, text, Decimal("0.00"), amount, "", None,
                        valid),
            ]  # fmt: skip
        else:
            amount = Decimal(cents).scaleb(-2)
            ref = f"FA-{numbers['HA']:06d}"
            text = "Logiciel et fournitures"
            lines = [
                FecLine("HA", lib, num, day, "606400", "Fournitures administratives", "", "",
                        ref, day, text, amount, Decimal("0.00"), "", None, valid),
                FecLine("HA", lib, num, day, "401000", "Fournisseurs", "F0001", "Fournisseur A",
                        ref, day, text, Decimal("0.00"), amount, "", None, valid),
            ]  # fmt: skip
        yield from lines
        produced += len(lines)


def cached_fec(count: int) -> Path:
    """The FEC file of ``count``-ish lines (whole entries), written once under bench/.cache/."""
    folder = CACHE / f"fec-{count}"
    path = folder / fec_filename(SIREN, CLOSING)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            write_fec(synthetic_fec_lines(count), handle)
        tmp.rename(path)
    return path


# ---------------------------------------------------------------------------------------------
# Measuring


def timed(function: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, ours: float, bare: float, bare_name: str, target: str) -> None:
    print(
        f"{name:<14} ours {ours:7.2f} s | {bare_name} {bare:7.2f} s | ratio {ours / bare:5.2f} "
        f"| target {target}",
        flush=True,
    )


# ---------------------------------------------------------------------------------------------
# Benchmarks


def bench_fec_export(count: int) -> None:
    """write_fec of ``count`` lines vs the csv module writing the same pre-formatted rows."""
    lines = list(synthetic_fec_lines(count))
    out = CACHE / "out-export.txt"
    CACHE.mkdir(parents=True, exist_ok=True)

    def ours() -> None:
        with open(out, "wb") as handle:
            write_fec(lines, handle)

    def bare() -> None:
        with open(out, "w", encoding="iso-8859-15", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\r\n")
            for line in lines:
                writer.writerow(line)

    ours_s, _ = timed(ours)
    bare_s, _ = timed(bare)
    report("fec-export", ours_s, bare_s, "csv.writer", f"< 15 s for 1M ({len(lines)} lines)")


def bench_check_fec(count: int) -> None:
    """check_fec on the cached file vs pandas.read_csv merely reading it."""
    import pandas as pd

    from accounting.fec_check import check_fec

    path = cached_fec(count)
    ours_s, issues = timed(lambda: check_fec(path))
    assert not [i for i in issues if i.severity == "error"], issues[:5]
    bare_s, _ = timed(lambda: _pandas_read(pd, path))
    report("check-fec", ours_s, bare_s, "pandas.read_csv", "< 10 s for 1M")


def _pandas_read(pd, path: Path):
    return pd.read_csv(path, sep="\t", dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False,
                       encoding="iso-8859-15")  # fmt: skip


def bench_fec_import(count: int) -> None:
    """read_fec (validated rows, Decimal amounts) vs pandas.read_csv of the same file."""
    import pandas as pd

    from imports.fec import read_fec

    path = cached_fec(count)
    bare_s, _ = timed(lambda: _pandas_read(pd, path))
    ours_s, result = timed(lambda: read_fec(path))
    assert len(result.rows) >= count
    report("fec-import", ours_s, bare_s, "pandas.read_csv", "ratio <= 3")


BENCHMARKS = {
    "fec-export": bench_fec_export,
    "check-fec": bench_check_fec,
    "fec-import": bench_fec_import,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("which", nargs="*", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = set(args.which) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.which or BENCHMARKS:
        BENCHMARKS[name](args.lines)
        print(f"{'':<14} peak memory so far {peak_mb():.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
