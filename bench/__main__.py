"""``python -m bench`` (``make bench``): build the large dataset once, then run every
``bench/bench_*.py`` and print each figure beside its target and the ratio to the bare library.

    python -m bench                      # every benchmark on 1 000 members / 1 000 000 entries
    python -m bench --only foundation    # the modules whose name contains "foundation"
    python -m bench pages                # the same, shorter (here: bench_pages.py)
    python -m bench --members 100        # a smaller dataset (cached under its own name)
    python -m bench --rebuild            # build the dataset again (and measure the build)
    python -m bench --list               # the modules found

Exit status 1 when a figure misses its target or a module fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import traceback
from pathlib import Path
from types import ModuleType

from app.demo.synthetic import SyntheticSpec
from bench import ROOT, Context, Figure
from bench.dataset import dataset

BENCH_DIR = Path(__file__).resolve().parent


def modules(only: str | None) -> list[Path]:
    found = sorted(BENCH_DIR.glob("bench_*.py"))
    return [p for p in found if not only or only in p.stem]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{shown} {unit}".strip()


def table(figures: list[Figure]) -> str:
    """The figures as a text table: value, target, bare library, ratio, verdict."""
    rows = [("benchmark", "value", "target", "bare", "ratio", "")]
    for f in figures:
        target = _number(f.target, f.unit)
        if f.target is not None:
            target = ("≥ " if f.higher_is_better else "≤ ") + target
        ratio = "—" if f.ratio is None else f"{f.ratio:.2f}x"
        if f.ratio_target is not None:
            ratio += f" (≤ {f.ratio_target:g}x)"
        verdict = {True: "ok", False: "MISSED", None: ""}[f.ok]
        name = f.name + (f"  [{f.note}]" if f.note else "")
        rows.append(
            (name, _number(f.value, f.unit), target, _number(f.bare, f.unit), ratio, verdict)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_module(path: Path, ctx: Context) -> tuple[list[Figure], bool]:
    """(figures, ok) of one module: in-process through ``run(ctx)``, else as a subprocess."""
    try:
        module = load(path)
    except Exception:
        traceback.print_exc()
        return [], False
    if not hasattr(module, "run"):
        print(f"({path.name} has no run(ctx): run as a script)", flush=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, str(path)], cwd=ROOT, env=env, check=False)
        return [], done.returncode == 0
    try:
        figures = list(module.run(ctx))
    except Exception:
        traceback.print_exc()
        return [], False
    return figures, all(f.ok is not False for f in figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the modules whose name contains this text")
    parser.add_argument("name", nargs="?", help="the same as --only")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build the dataset again")
    parser.add_argument("--list", action="store_true", help="list the modules and stop")
    args = parser.parse_args(argv)

    paths = modules(args.only or args.name)
    if args.list:
        for path in paths:
            print(path.stem)
        return 0
    spec = SyntheticSpec(members=args.members, years=args.years, seed=args.seed)
    print(f"Dataset {spec.resolved().key()}: ", end="", flush=True)
    ctx = dataset(spec, rebuild=args.rebuild)
    state = "cached" if ctx.cached else "built now"
    cpu = f", {ctx.build_cpu_seconds:.1f} s of CPU" if ctx.build_cpu_seconds is not None else ""
    print(f"{ctx.path.relative_to(ROOT)} ({state}, build took {ctx.build_seconds:.1f} s{cpu})")
    all_ok = True
    try:
        for path in paths:
            print(f"\n== {path.stem}", flush=True)
            figures, ok = run_module(path, ctx)
            all_ok &= ok
            if figures:
                print(table(figures))
    finally:
        ctx.close()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
