"""The column-by-column reader of the FEC costs import (``imports.fec_fast``) gives exactly what
the line-by-line reader gives — the same costs, lines left aside, warnings and refusals with
their line numbers — or steps aside for it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from accounting.fec import FEC_COLUMNS
from imports import fec_costs, fec_fast
from imports.errors import ImportRefused
from imports.fec_costs import EntryPlanner, ordered, parse_rule, preview_fec_costs

D = Decimal
SAMPLES = Path("/work/shared/samples/fec")
DATA = Path(__file__).resolve().parent.parent / "data" / "fec"


@pytest.fixture
def services(make_service):
    return {"COMPTA": make_service("COMPTA"), "DEV": make_service("DEV")}


def _outcome(db, path: Path, rules) -> tuple:
    """Everything a preview says, or its refusal, as plain values."""
    try:
        preview = preview_fec_costs(db, path, rules)
    except ImportRefused as refused:
        return ("refused", type(refused).__name__,
                [(e.row, e.column, e.message) for e in refused.errors])  # fmt: skip
    return (
        "ok",
        [(c.line, c.data, c.service_code, c.import_key, c.already, str(c.debit), str(c.credit),
          c.entry) for c in preview.costs],
        [(a.account, a.label, a.lines, str(a.debit), str(a.credit), a.reason, a.first_line)
         for a in preview.left_aside],
        [str(w) for w in preview.warnings],
        preview.analytic_column, preview.extra_columns, preview.fiscal_year,
        str(preview.file_debit), str(preview.file_credit),
    )  # fmt: skip


def _both(db, path: Path, rules, monkeypatch) -> tuple[tuple, tuple, bool]:
    """(outcome column by column, outcome line by line, whether the column reader kept it)."""
    rules = ordered(rules)
    fast = _outcome(db, path, rules)
    took = fec_fast.read_fast(path, EntryPlanner(db, path, rules, None)) is not None
    with monkeypatch.context() as patch:
        patch.setattr(fec_costs, "read_fast", lambda *args: None)
        slow = _outcome(db, path, rules)
    return fast, slow, took


def _write(tmp_path: Path, rows: list[str], *, header: str | None = None, end: str = "\n",
           name: str = "porteuse.txt") -> Path:  # fmt: skip
    path = tmp_path / name
    head = header if header is not None else "\t".join(FEC_COLUMNS)
    text = end.join([head, *(row.replace("|", "\t") for row in rows)]) + end
    path.write_bytes(text.encode("utf-8"))
    return path


YEAR = [
    "HA|Achats|A1|20250110|606400|Fournitures|F1|Papeterie|FA1|20250110|Papier|100,00|0,00|||20250111||",
    "HA|Achats|A1|20250110|401000|Fournisseurs|F1|Papeterie|FA1|20250110|Papier|0,00|100,00|||20250111||",
    "VT|Ventes|V1|20250112|411000|Clients|||F1|20250112|Facture|120,00|0,00|||20250112||",
    "VT|Ventes|V1|20250112|706000|Prestations|||F1|20250112|Facture|0,00|100,00|||20250112||",
    "VT|Ventes|V1|20250112|445710|TVA|||F1|20250112|Facture|0,00|20,00|||20250112||",
    "BQ|Banque|B1|20250115|512000|Banque|||R1|20250115|Règlement|120,00|0,00|||20250115||",
    "BQ|Banque|B1|20250115|411000|Clients|||R1|20250115|Règlement|0,00|120,00|||20250115||",
    "OD|Paie|P1|20250131|641100|Salaires|||PAIE1|20250131|Salaires|3000,00|0,00|||20250205||",
    "OD|Paie|P1|20250131|645100|URSSAF|||PAIE1|20250131|Charges|1200,00|0,00|||20250205||",
    "OD|Paie|P1|20250131|658000|Divers|||PAIE1|20250131|Divers|10,00|0,00|||20250205||",
    "OD|Paie|P1|20250131|421000|Personnel|||PAIE1|20250131|Net|0,00|4210,00|||20250205||",
    "HA|Achats|A2|20250210|606400|Fournitures|F1|Papeterie|AV1|20250210|Avoir|0,00|30,00|||20250211|12,50|USD",
    "HA|Achats|A2|20250210|401000|Fournisseurs|F1|Papeterie|AV1|20250210|Avoir|30,00|0,00|||20250211||",
]  # fmt: skip


def test_a_clean_year_is_read_column_by_column_with_the_same_result(
    db, services, tmp_path, monkeypatch
) -> None:
    path = _write(tmp_path, YEAR, name="123456782FEC20251231.txt")
    rules = [parse_rule(db, "606*=COMPTA"), parse_rule(db, "64*=DEV")]
    fast, slow, took = _both(db, path, rules, monkeypatch)
    assert took and fast == slow
    # Worked out by hand: A1 100,00 and A2 −30,00 on 606400 (COMPTA), P1 3 000 + 1 200 (DEV);
    # 658000 has no rule (left aside, not mapped); V1 and B1 import nothing.
    assert [(c[1].account, c[1].amount, c[2]) for c in fast[1]] == [
        ("606400", D("100.00"), "COMPTA"), ("641100", D("3000.00"), "DEV"),
        ("645100", D("1200.00"), "DEV"), ("606400", D("-30.00"), "COMPTA")]  # fmt: skip
    assert [(a[0], a[2], a[3], a[4], a[5], a[6]) for a in fast[2]] == [
        ("658000", 1, "10.00", "0.00", "unmapped", 11),
        ("706000", 1, "0.00", "100.00", "unmapped", 5),
        ("411000", 2, "120.00", "120.00", "balance_sheet", 4),
        ("445710", 1, "0.00", "20.00", "balance_sheet", 6),
        ("512000", 1, "120.00", "0.00", "balance_sheet", 7),
    ]  # fmt: skip


def test_entries_cut_by_the_blocks_are_carried_whole(db, services, tmp_path, monkeypatch) -> None:
    path = _write(tmp_path, YEAR, name="123456782FEC20251231.txt")
    rules = [parse_rule(db, "6*=COMPTA")]
    whole, _, _ = _both(db, path, rules, monkeypatch)
    monkeypatch.setattr(fec_fast, "BLOCK_BYTES", 256)  # a block or two of lines each
    monkeypatch.setattr(fec_fast, "BLOCK_ROWS", 1)
    cut, slow, took = _both(db, path, rules, monkeypatch)
    assert took and cut == slow == whole


@pytest.mark.parametrize(
    ("line", "old", "new"),
    [
        (1, "0,00|100,00", "0,00|90,00"),  # unbalanced entry A1
        (2, "20250112|411000", "20250230|411000"),  # not a real date
        (5, "120,00|0,00", "120.00|0,00"),  # an amount with a dot
        (7, "3000,00|0,00", "3000,00|5,00"),  # debit and credit on one line
        (0, "|Papier|", "|Papier |"),  # a padded field: the line reader trims it
        (3, "|||20250112||", "|AB||20250112||"),  # lettered without DateLet: a warning
        (9, "20250205", "20250101"),  # ValidDate before EcritureDate: a warning
    ],
)
def test_a_file_with_something_to_say_is_read_line_by_line(
    db, services, tmp_path, monkeypatch, line, old, new
) -> None:
    rows = list(YEAR)
    assert old in rows[line]
    rows[line] = rows[line].replace(old, new, 1)
    path = _write(tmp_path, rows)
    fast, slow, took = _both(db, path, [parse_rule(db, "6*=COMPTA")], monkeypatch)
    assert not took and fast == slow


def test_an_unbalanced_entry_is_refused_on_its_line(db, services, tmp_path, monkeypatch) -> None:
    rows = [YEAR[0], YEAR[1].replace("0,00|100,00", "0,00|90,00"), *YEAR[2:]]
    fast, slow, _ = _both(db, _write(tmp_path, rows), [parse_rule(db, "6*=COMPTA")], monkeypatch)
    assert fast == slow
    # The file's totals first, then the entry on its first line.
    assert fast[0] == "refused" and [(row, column) for row, column, _ in fast[2]] == [
        (None, None), (2, None)]  # fmt: skip
    assert "HA/A1 déséquilibrée" in fast[2][1][2] and "écart 10,00" in fast[2][1][2]


def test_an_entry_in_two_places_is_read_grouped(db, services, tmp_path, monkeypatch) -> None:
    rows = [YEAR[0], *YEAR[2:5], YEAR[1], *YEAR[5:]]  # A1's second line after V1
    fast, slow, took = _both(db, _write(tmp_path, rows), [parse_rule(db, "6*=COMPTA")],
                             monkeypatch)  # fmt: skip
    assert not took and fast == slow
    assert fast[0] == "ok" and fast[1][0][1].counterpart == "401F1"


def test_cr_cr_lf_line_ends_read_the_same(db, services, tmp_path, monkeypatch) -> None:
    path = _write(tmp_path, YEAR, end="\r\r\n")
    fast, slow, _ = _both(db, path, [parse_rule(db, "6*=COMPTA")], monkeypatch)
    plain, _, _ = _both(db, _write(tmp_path, YEAR, name="plain.txt"),
                        [parse_rule(db, "6*=COMPTA")], monkeypatch)  # fmt: skip
    assert fast == slow
    assert fast[1] == plain[1] and fast[2] == plain[2]
    assert fast[1][4][1].label == "Avoir"  # no CR left in a value


def test_a_cash_basis_file_with_empty_valid_dates(db, services, tmp_path, monkeypatch) -> None:
    header = "\t".join([*FEC_COLUMNS, "DateRglt", "ModeRglt", "NatOp", "IdClient"])
    rows = [row.replace("|20250111|", "||").replace("|20250205|", "||") + "|20250115|VIR||"
            for row in YEAR]  # fmt: skip
    path = _write(tmp_path, rows, header=header)
    fast, slow, took = _both(db, path, [parse_rule(db, "6*=COMPTA")], monkeypatch)
    assert took and fast == slow
    assert [c[1].amount for c in fast[1]] == [D("100.00"), D("3000.00"), D("1200.00"),
                                              D("10.00"), D("-30.00")]  # fmt: skip


def test_an_analytic_column_chooses_the_service(db, services, tmp_path, monkeypatch) -> None:
    header = "\t".join([*FEC_COLUMNS, "CodeAnalytique"])
    codes = ["DEV", "", "", "", "", "", "", "COMPTA", "DEV", "", "", "COMPTA", ""]
    rows = [row + "|" + code for row, code in zip(YEAR, codes, strict=True)]
    path = _write(tmp_path, rows, header=header)
    rules = [parse_rule(db, "analytique:DEV=DEV"), parse_rule(db, "analytique:COMPTA=COMPTA")]
    fast, slow, took = _both(db, path, rules, monkeypatch)
    assert took and fast == slow
    assert [(c[1].account, c[2]) for c in fast[1]] == [
        ("606400", "DEV"), ("641100", "COMPTA"), ("645100", "DEV"), ("606400", "COMPTA"),
    ]  # fmt: skip


def _samples() -> list[Path]:
    folder = SAMPLES if SAMPLES.is_dir() else DATA
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.skipif(not _samples(), reason="no sample FEC (../shared/samples/fec)")
@pytest.mark.parametrize("sample", _samples(), ids=lambda path: path.name)
def test_the_sample_fecs_give_the_same_preview(db, services, monkeypatch, sample) -> None:
    fast, slow, _ = _both(db, sample, [parse_rule(db, "6*=COMPTA")], monkeypatch)
    assert fast == slow


@pytest.mark.skipif(not _samples(), reason="no sample FEC (../shared/samples/fec)")
def test_a_real_year_made_clean_is_read_column_by_column(db, services, tmp_path, monkeypatch):
    """The real year of the samples, its padding trimmed, its lettering dated and each
    entry's lines together (the file has 119 entries in two places): 5 400 lines through the
    column reader, the same preview as line by line."""
    real = next(path for path in _samples() if path.name.startswith("0000000001FEC"))
    lines = real.read_text("utf-8-sig").splitlines()
    entries: dict[tuple[str, str], list[str]] = {}
    for text in lines[1:]:
        fields = [value.strip() for value in text.split("\t")]
        if fields[13] and not fields[14]:
            fields[14] = fields[3]
        entries.setdefault((fields[0], fields[2]), []).append("\t".join(fields))
    clean = [text for group in entries.values() for text in group]
    path = _write(tmp_path, clean, header=lines[0], name=real.name)
    fast, slow, took = _both(db, path, [parse_rule(db, "6*=COMPTA")], monkeypatch)
    assert took and fast == slow
    # 634100 is no account of the chart (as with the original): its cost's first line named.
    assert fast[0] == "refused"
    (unknown,) = [number for number, text in enumerate(clean, start=2) if "\t634100\t" in text]
    assert [(row, column) for row, column, _ in fast[2]] == [(unknown, "CompteNum")]
