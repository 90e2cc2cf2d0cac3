"""The FEC import keeps every line (invariant 11): credits reduce the costs, accounts are
mapped to the carrier's chart, and bad input is refused naming the line, nothing written."""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounting.costs import Cost
from accounting.fec import FEC_COLUMNS
from accounting.ledger.mapping import normalise, save_mapping
from accounting.ledger.models import JournalEntry
from accounting.ledger.reports import trial_balance
from imports.errors import ImportRefused
from imports.fec import FecRefused
from imports.fec_costs import MAX_FEC_BYTES, import_fec_costs, parse_rule, preview_fec_costs

D = Decimal

#: A month of a real carrier's books, with what made the old import drop 19 % of the costs:
#: an accrual reversal (EX), a supplier credit note larger than the month's purchases (INV),
#: a payroll correction on 641, and a purchase on the four-digit account 6064.
REVERSALS = [
    "PA|Paie|P1|20260131|641100|Salaires|||PAIE01|20260131|Salaires janvier|3000,00|0,00|||20260205||",  # noqa: E501
    "PA|Paie|P1|20260131|645100|URSSAF|||PAIE01|20260131|Charges janvier|1200,00|0,00|||20260205||",
    "PA|Paie|P1|20260131|421000|Personnel|||PAIE01|20260131|Net à payer|0,00|2300,00|||20260205||",
    "PA|Paie|P1|20260131|431000|URSSAF|||PAIE01|20260131|Cotisations|0,00|1900,00|||20260205||",
    "EX|Extournes|X1|20260131|641100|Salaires|||EX01|20260131|Extourne congés payés|0,00|500,00|||20260205||",  # noqa: E501
    "EX|Extournes|X1|20260131|428200|Congés à payer|||EX01|20260131|Extourne congés payés|500,00|0,00|||20260205||",  # noqa: E501
    "HA|Achats|H1|20260110|6064|Fournitures|||FA12|20260110|Papier|50,00|0,00|||20260111||",
    "HA|Achats|H1|20260110|401000|Fournisseurs|F1|Papeterie|FA12|20260110|Papier|0,00|50,00|||20260111||",
    "INV|Avoirs|I1|20260215|606400|Fournitures|||AV3|20260215|Avoir papier|0,00|80,00|||20260216||",
    "INV|Avoirs|I1|20260215|401000|Fournisseurs|F1|Papeterie|AV3|20260215|Avoir papier|80,00|0,00|||20260216||",  # noqa: E501
    "OD|Divers|C1|20260220|641100|Salaires|||COR1|20260220|Correction paie|0,00|120,00|||20260221||",  # noqa: E501
    "OD|Divers|C1|20260220|421000|Personnel|||COR1|20260220|Correction paie|120,00|0,00|||20260221||",  # noqa: E501
]  # fmt: skip


def fec_file(tmp_path: Path, rows: list[str], name: str = "porteuse.txt") -> Path:
    path = tmp_path / name
    lines = ["\t".join(FEC_COLUMNS), *(row.replace("|", "\t") for row in rows)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def file_net_per_account(path: Path) -> dict[str, Decimal]:
    """Debit minus credit of the class 6 lines of the file, per account of the chart: read
    with a plain split, not with the importer."""
    net: dict[str, Decimal] = defaultdict(lambda: D("0"))
    for line in path.read_text("utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if fields[4].startswith("6"):
            amount = D(fields[11].replace(",", ".")) - D(fields[12].replace(",", "."))
            net[normalise(fields[4])] += amount
    return dict(net)


@pytest.fixture
def services(make_service):
    return {"COMPTA": make_service("COMPTA", name="Comptabilité / gestion"),
            "DEV": make_service("DEV", name="Chargé de développement")}  # fmt: skip


def test_a_fec_with_reversals_is_imported_at_its_net_per_mapped_account(
    db, services, tmp_path
) -> None:
    path = fec_file(tmp_path, REVERSALS)
    rules = [parse_rule(db, "64*=DEV"), parse_rule(db, "606*=COMPTA")]
    result, preview = import_fec_costs(db, path, rules)
    # 641100: 3 000 − 500 − 120; 645100: 1 200; 606400 (and 6064): 50 − 80.
    expected = {"641100": D("2380.00"), "645100": D("1200.00"), "606400": D("-30.00")}
    assert file_net_per_account(path) == expected
    stored = dict(db.execute(select(Cost.account, func.sum(Cost.amount)).group_by(Cost.account))
                  .tuples().all())  # fmt: skip
    assert {account: D(total) for account, total in stored.items()} == expected
    assert preview.net_by_account() == expected
    assert preview.left_aside == []  # every line imported or the counterpart of a cost
    assert result.created == 6
    totals = preview.totals_by_service()
    assert totals["DEV"] == {"debit": D("4200.00"), "credit": D("620.00"), "net": D("3580.00")}
    assert totals["COMPTA"] == {"debit": D("50.00"), "credit": D("80.00"), "net": D("-30.00")}
    # The file's journals are kept; each cost posted against its entry's counterpart.
    journals = set(db.scalars(select(JournalEntry.journal_code)))
    assert journals == {"PA", "EX", "HA", "INV", "OD"}
    rows = {row.account: row for row in trial_balance(db, None, None)}
    assert rows["606400"].balance == D("-30.00")
    assert rows["401F1"].balance == D("30.00")  # 50 owed, 80 credited
    assert "471000" not in rows  # payroll: its costs share the file's 421 and 431
    assert rows["421000"].balance == D("-2180.00")  # 2 300 net pay, 120 corrected
    assert rows["431000"].balance == D("-1900.00")
    assert rows["428200"].balance == D("500.00")


def test_the_trial_balance_never_shows_one_account_twice(db, services, tmp_path) -> None:
    rows = ["HA|Achats|H1|20260110|6064|Fournitures|||FA1|20260110|Papier|50,00|0,00|||20260111||",
            "HA|Achats|H1|20260110|401000|Fournisseurs|||FA1|20260110|Papier|0,00|50,00|||20260111||",
            "HA|Achats|H2|20260112|60640000|Fournitures|||FA2|20260112|Encre|20,00|0,00|||20260113||",
            "HA|Achats|H2|20260112|401000|Fournisseurs|||FA2|20260112|Encre|0,00|20,00|||20260113||",
            "HA|Achats|H3|20260114|6063|Petit matériel|||FA3|20260114|Agrafeuse|9,00|0,00|||20260115||",  # noqa: E501
            "HA|Achats|H3|20260114|401000|Fournisseurs|||FA3|20260114|Agrafeuse|0,00|9,00|||20260115||"]
    save_mapping(db, "prefix", "6063", "606400")  # the admin's saved rule
    import_fec_costs(db, fec_file(tmp_path, rows), [parse_rule(db, "60*=COMPTA")])
    accounts = [row.account for row in trial_balance(db, None, None)]
    assert accounts.count("606400") == 1 and "6064" not in accounts and "6063" not in accounts
    (supplies,) = [row for row in trial_balance(db, None, None) if row.account == "606400"]
    assert supplies.debit == D("79.00")


@pytest.mark.parametrize(
    ("rows", "name", "line", "column", "message"),
    [
        (["HA|Achats|H1|20260110|606400|F|||A|20260110|X|50,00|0,00|||20260111||",
          "HA|Achats|H1|20260110|401000|F|||A|20260110|X|0,00|40,00|||20260111||"],
         "porteuse.txt", 2, None, "déséquilibrée"),
        (["HA|Achats|H1|20260110|640000|F|||A|20260110|X|50,00|0,00|||20260111||",
          "HA|Achats|H1|20260110|401000|F|||A|20260110|X|0,00|50,00|||20260111||"],
         "porteuse.txt", 2, "CompteNum", "Compte 640000 inconnu du plan comptable"),
        (["HA|Achats|H1|20270105|606400|F|||A|20270105|X|50,00|0,00|||20270106||",
          "HA|Achats|H1|20270105|401000|F|||A|20270105|X|0,00|50,00|||20270106||"],
         "782899439FEC20261231.txt", 2, "EcritureDate", "hors de l'exercice du 01/01/2026"),
        (["HA|Achats|H1|20260105|606400|F|||A|20260105|X|50,00|0,00|||20260106||",
          "HA|Achats|H1|20260105|401000|F|||A|20260105|X|0,00|50,00|||20260106||",
          "HA|Achats|H2|20251231|606400|F|||B|20251231|X|10,00|0,00|||20260106||",
          "HA|Achats|H2|20251231|401000|F|||B|20251231|X|0,00|10,00|||20260106||"],
         "porteuse.txt", 4, "EcritureDate", "hors de l'exercice du 01/01/2026"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_line_and_nothing_is_written(
    db, services, tmp_path, rows, name, line, column, message
) -> None:
    with pytest.raises((ImportRefused, FecRefused)) as refused:
        import_fec_costs(db, fec_file(tmp_path, rows, name), [parse_rule(db, "6*=COMPTA")])
    found = [e for e in refused.value.errors if e.row == line and e.column == column]
    assert found and message in found[0].message, refused.value.errors
    assert db.scalar(select(func.count()).select_from(Cost)) == 0
    assert db.scalar(select(func.count()).select_from(JournalEntry)) == 0


def test_a_two_gigabyte_file_is_refused_before_it_is_read(db, services, tmp_path) -> None:
    path = tmp_path / "enorme.txt"
    with open(path, "wb") as handle:  # sparse: two gigabytes that take no disk
        handle.truncate(2 << 30)
    assert os.path.getsize(path) > MAX_FEC_BYTES
    with pytest.raises(ImportRefused, match=r"Fichier de 2\.0 Go"):
        preview_fec_costs(db, path, [parse_rule(db, "6*=COMPTA")])
    assert db.scalar(select(func.count()).select_from(Cost)) == 0


def test_a_cost_file_says_how_each_cost_is_posted(db, services) -> None:
    from accounting.ledger.models import JournalEntry
    from imports.costs import import_costs
    from imports.tabular import read_table

    data = ("Date;Service;Nature;Montant;Compte;Libellé;Tiers;Type de charge;Code fournisseur\n"
            "28/01/2026;COMPTA;charge;1078;645100;URSSAF janvier;URSSAF;paie;\n"
            "05/01/2026;COMPTA;charge;650;613200;Loyer;Commune;fournisseur;TREVOUX\n"
            "28/01/2026;COMPTA;charge;12,50;627000;Frais bancaires;Banque;autre;\n"
            "29/01/2026;COMPTA;charge;9;606400;Papier;Papeterie;cadeau;\n").encode()
    with pytest.raises(ImportRefused) as refused:
        import_costs(db, read_table(data, "charges.csv"))
    assert [(e.row, e.column) for e in refused.value.errors] == [(5, "Type de charge")]
    import_costs(db, read_table(data.rsplit(b"29/01", 1)[0], "charges.csv"))
    posted = {e.label.split(" – ")[0]: (e.journal_code, [x.account for x in e.lines])
              for e in db.scalars(select(JournalEntry))}  # fmt: skip
    assert posted == {"URSSAF janvier": ("PA", ["645100", "431000"]),
                      "Loyer": ("HA", ["613200", "401TREVOUX"]),
                      "Frais bancaires": ("BQ", ["627000", "512000"])}  # fmt: skip
