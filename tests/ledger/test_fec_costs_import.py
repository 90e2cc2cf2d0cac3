"""Importing the carrier's costs from its FEC, mapped to services by account or analytic code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounting.costs import Cost, Subsidy
from accounting.fec import FEC_COLUMNS
from accounting.ledger.chart import ensure_account
from accounting.ledger.errors import MappingError
from accounting.ledger.models import FecCostRule
from accounting.ledger.posting import entries_of
from accounting.periods import close_period, get_or_create_period
from imports.errors import ImportRefused
from imports.fec import FecRefused
from imports.fec_costs import (
    Rule,
    import_fec_costs,
    ordered,
    parse_rule,
    preview_fec_costs,
    saved_rules,
)

D = Decimal
DATA = Path(__file__).resolve().parent.parent / "data" / "fec"
VALID = DATA / "123456782FEC20251231.txt"


@pytest.fixture
def services(make_service):
    return {
        "COMPTA": make_service("COMPTA", name="Comptabilité / gestion"),
        "DEV": make_service("DEV", name="Chargé de développement"),
    }


def test_the_sample_costs_go_to_their_services(db, services) -> None:
    rules = [parse_rule(db, "606*=COMPTA"), parse_rule(db, "604*=DEV")]
    result, preview = import_fec_costs(db, VALID, rules, accept_unmapped=True)
    assert (result.created, result.unchanged) == (2, 0)
    costs = db.scalars(select(Cost).order_by(Cost.day)).all()
    # AC0001: 100,00 of supplies from « Fournisseur Beta »; AC0002: 92,00 from « Supplier Gamma »;
    # the accounts in the carrier's six digits, the file's journal, the supplier's 401 + code.
    assert [(c.service.code, c.day, c.account, c.amount, c.party, c.reference, c.journal_code,
             c.counterpart) for c in costs] == [
        ("COMPTA", date(2025, 1, 20), "606100", D("100.00"), "Fournisseur Beta", "FA-778", "AC",
         "401FRS001"),
        ("DEV", date(2025, 3, 5), "604000", D("92.00"), "Supplier Gamma", "INV-55", "AC",
         "401FRS002"),
    ]  # fmt: skip
    assert costs[0].label == "Facture fournisseur"
    assert preview.totals_by_service() == {
        "COMPTA": {"debit": D("100.00"), "credit": D("0"), "net": D("100.00")},
        "DEV": {"debit": D("92.00"), "credit": D("0"), "net": D("92.00")},
    }
    (entry,) = entries_of(db, "cost", costs[0].id)
    assert entry.journal_code == "AC"
    # The file's lines: the cost excl. tax, its deductible VAT, the supplier incl. tax.
    assert [(x.account, x.debit, x.credit) for x in entry.lines] == [
        ("606100", D("100.00"), D("0")), ("445660", D("20.00"), D("0")),
        ("401FRS001", D("0"), D("120.00"))]  # fmt: skip


def test_lines_left_aside_are_listed_with_their_total_and_refuse_the_import(db, services) -> None:
    rules = [parse_rule(db, "606*=COMPTA"), parse_rule(db, "604*=DEV")]
    preview = preview_fec_costs(db, VALID, rules)
    # VT0001 and BQ0001 import nothing: their lines are left aside, 706 for want of a rule.
    assert [(u.account, u.reason, u.lines, u.debit, u.credit, u.first_line)
            for u in preview.left_aside] == [
        ("70600000", "unmapped", 1, D("0"), D("1000.00"), 3),
        ("41100000", "balance_sheet", 2, D("1200.00"), D("1200.00"), 2),
        ("44571000", "balance_sheet", 1, D("0"), D("200.00"), 4),
        ("51200000", "balance_sheet", 1, D("1200.00"), D("0"), 8),
    ]  # fmt: skip
    assert (preview.left_aside_debit, preview.left_aside_credit) == (D("2400.00"),
                                                                     D("2400.00"))
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, VALID, rules)
    assert [(e.row, e.column) for e in refused.value.errors] == [
        (2, "CompteNum"), (3, "CompteNum"), (4, "CompteNum"), (8, "CompteNum")]
    assert "débit 2400.00 €, crédit 2400.00 €" in refused.value.errors[0].message
    assert db.scalar(select(func.count()).select_from(Cost)) == 0


def test_importing_the_same_file_twice_is_refused_and_adds_nothing(db, services) -> None:
    rules = [parse_rule(db, "6*=COMPTA")]
    import_fec_costs(db, VALID, rules, accept_unmapped=True)
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, VALID, accept_unmapped=True)
    (error,) = refused.value.errors
    assert (error.row, error.column) == (5, "EcritureNum")
    assert "déjà importé" in error.message and "AC/AC0001" in error.message
    assert db.scalar(select(func.count()).select_from(Cost)) == 2


def test_rules_are_saved_for_next_time(db, services) -> None:
    import_fec_costs(db, VALID, [parse_rule(db, "604*=DEV"), parse_rule(db, "606*=COMPTA")],
                     accept_unmapped=True)  # fmt: skip
    assert [(r.kind, r.pattern) for r in db.scalars(select(FecCostRule)
                                                     .order_by(FecCostRule.position))] == [
        ("account", "604*"), ("account", "606*"),
    ]  # fmt: skip
    assert saved_rules(db) == [Rule("account", "604*", services["DEV"].id),
                               Rule("account", "606*", services["COMPTA"].id)]  # fmt: skip


def test_unmapped_cost_lines_are_listed_not_imported(db, services) -> None:
    preview = preview_fec_costs(db, VALID, [parse_rule(db, "606*=COMPTA")])
    assert [cost.data.account for cost in preview.costs] == ["606100"]
    assert [(u.account, u.lines, u.debit) for u in preview.unmapped] == [
        ("60400000", 1, D("92.00")),
        ("70600000", 1, D("0.00")),
    ]


def test_the_most_specific_account_pattern_wins(db, services) -> None:
    rules = ordered([parse_rule(db, "6*=COMPTA"), parse_rule(db, "6061*=DEV")])
    assert [rule.pattern for rule in rules] == ["6061*", "6*"]
    preview = preview_fec_costs(db, VALID, rules)
    assert [(c.data.account, c.service_code) for c in preview.costs] == [
        ("606100", "DEV"), ("604000", "COMPTA"),
    ]


def fec_file(tmp_path: Path, rows: list[str], extra: tuple[str, ...] = ()) -> Path:
    header = "\t".join([*FEC_COLUMNS, *extra])
    path = tmp_path / "porteuse.txt"
    path.write_text("\n".join([header, *(r.replace("|", "\t") for r in rows)]) + "\n", "utf-8")
    return path


PAYROLL = [
    "OD|Paie|P1|20260131|641100|Salaires|||PAIE01|20260131|Salaires janvier|3000,00|0,00|||20260205||",  # noqa: E501
    "OD|Paie|P1|20260131|645100|URSSAF|||PAIE01|20260131|Charges janvier|1200,00|0,00|||20260205||",
    "OD|Paie|P1|20260131|421000|Personnel|||PAIE01|20260131|Net à payer|0,00|4200,00|||20260205||",
    "BQ|Banque|B1|20260115|512000|Banque|||FSE1|20260115|Acompte FSE|5000,00|0,00|||20260120||",
    "BQ|Banque|B1|20260115|740000|Subventions|||FSE1|20260115|Acompte FSE|0,00|5000,00|||20260120||",  # noqa: E501
]  # fmt: skip


def test_analytic_codes_in_an_extra_column_choose_the_service(db, services, tmp_path) -> None:
    rows = [row + "|" + code for row, code in zip(PAYROLL, ["DEV", "COMPTA", "", "DEV", "DEV"],
                                                   strict=True)]  # fmt: skip
    path = fec_file(tmp_path, rows, ("CodeAnalytique",))
    rules = [parse_rule(db, "analytique:DEV=DEV"), parse_rule(db, "analytique:COMPTA=COMPTA")]
    _, preview = import_fec_costs(db, path, rules)
    assert preview.analytic_column == "CodeAnalytique"
    assert [(c.data.kind.value, c.service_code, c.data.account, c.data.amount)
            for c in preview.costs] == [
        ("cost", "DEV", "641100", D("3000.00")),
        ("cost", "COMPTA", "645100", D("1200.00")),
        ("subsidy", "DEV", "740000", D("5000.00")),
    ]  # fmt: skip
    assert db.scalar(select(Subsidy.amount)) == D("5000.00")


def test_a_refund_larger_than_the_cost_is_a_negative_cost(db, services, tmp_path) -> None:
    rows = [
        "HA|Achats|A1|20260110|606400|Fournitures|||AV1|20260110|Avoir papier|0,00|80,00|||20260111||",  # noqa: E501
        "HA|Achats|A1|20260110|401000|Fournisseurs|F1|Papeterie|AV1|20260110|Avoir papier|80,00|0,00|||20260111||",  # noqa: E501
    ]  # fmt: skip
    result, preview = import_fec_costs(db, fec_file(tmp_path, rows), [parse_rule(db, "6*=COMPTA")])
    assert result.created == 1
    (cost,) = db.scalars(select(Cost)).all()
    assert (cost.account, cost.amount, cost.counterpart) == ("606400", D("-80.00"), "401F1")
    (entry,) = entries_of(db, "cost", cost.id)
    assert [(x.account, x.debit, x.credit) for x in entry.lines] == [
        ("606400", D("0"), D("80.00")), ("401F1", D("80.00"), D("0"))]
    assert preview.totals_by_service() == {
        "COMPTA": {"debit": D("0"), "credit": D("80.00"), "net": D("-80.00")}}


def test_a_cost_in_a_closed_period_refuses_the_whole_file(db, services, tmp_path) -> None:
    close_period(db, get_or_create_period(db, "2026-01"))
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, fec_file(tmp_path, PAYROLL), [parse_rule(db, "6*=COMPTA")])
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "EcritureDate"),
                                                                 (3, "EcritureDate")]  # fmt: skip
    assert db.scalar(select(func.count()).select_from(Cost)) == 0


def test_the_broken_sample_is_refused_with_its_errors(db, services) -> None:
    with pytest.raises(FecRefused) as refused:
        import_fec_costs(db, DATA / "987654321FEC20251231-broken.txt", [parse_rule(db, "6*=DEV")])
    assert len(refused.value.errors) == 8
    assert db.scalar(select(func.count()).select_from(FecCostRule)) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [("64*", "illisible"), ("64*=NOPE", "inconnu"), ("A64=DEV", "commence par un chiffre")],
)
def test_bad_rules_are_refused(db, services, text, message) -> None:
    with pytest.raises(MappingError, match=message):
        parse_rule(db, text)


def test_without_any_rule_the_import_says_what_to_do(db, services) -> None:
    with pytest.raises(MappingError, match="Aucune règle"):
        preview_fec_costs(db, VALID)


def test_a_real_year_is_imported_once(db, services) -> None:
    path = DATA / "0000000001FEC20220831.txt"
    # 634100 is no account of the PCG (63 has 631, 633, 635, 637): named, nothing written.
    with pytest.raises(ImportRefused) as refused:
        import_fec_costs(db, path, [parse_rule(db, "6*=COMPTA")], accept_unmapped=True)
    assert [(e.row, e.column) for e in refused.value.errors] == [(3807, "CompteNum")]
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    ensure_account(db, "634100", "Autres impôts et taxes")  # the admin adds it to the chart
    result, preview = import_fec_costs(db, path, [parse_rule(db, "6*=COMPTA")],
                                       accept_unmapped=True)  # fmt: skip
    assert result.created == len(preview.new) > 100
    stored = db.scalar(select(func.sum(Cost.amount))) or D("0")
    assert stored == sum((cost.data.amount for cost in preview.new), D("0"))
    with pytest.raises(ImportRefused, match="déjà importé"):
        import_fec_costs(db, path, accept_unmapped=True)
