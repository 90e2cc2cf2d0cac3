"""The configuration file: applied idempotently, refused whole with the path (and line) of
each bad field, exported in the same form, extended by other areas through the registry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.audit import AuditEvent
from accounting.org import Carrier, Member, MemberFigures, Service
from app.cli import cli
from app.configuration import (
    ConfigError,
    ConfigRefused,
    apply_configuration,
    dump_configuration,
    export_configuration,
    load_configuration,
    refuse,
)
from app.configuration import core as configuration
from app.database import make_engine
from app.demo.synthetic import fake_siret
from app.migrate import upgrade

SIRET_A, SIRET_B = fake_siret(201), fake_siret(202)

YAML = f"""\
version: 1
carrier:
  code: PORTEUR
  name: Association Porteuse
  address: |
    1 place du Pôle
    01600 Trévoux
  siren: "{fake_siret(200)[:9]}"
  siret: "{fake_siret(200)}"
  vat_regime: exempt_261b
  payment_terms_days: 45
  late_penalty_rate: 12.35
  member: PORTEUR
members:
  - code: PORTEUR
    name: Association Porteuse
    legal_form: Association
    siret: "{SIRET_A}"
    joined_on: 2024-01-01
  - code: scop
    name: La Scop
    legal_form: SCOP
    siret: "{SIRET_B}"
    joined_on: 2024-03-01
    figures:
      2025: {{revenue: 150000, headcount: 14}}
services:
  - code: COMPTA
    name: Comptabilité / gestion
    revenue_account: 0706100
  - code: FRAIS
    name: Frais de structure
    overheads_by: costs
"""


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_file_sets_up_carrier_members_figures_and_services(db) -> None:
    result = apply_configuration(db, YAML, filename="pole.yaml")
    # carrier 1 + members 2 + figures 1 + services 2, one audit event each.
    assert result.changes == 6
    carrier = db.scalars(select(Carrier)).one()
    assert (carrier.address, carrier.postcode, carrier.city, carrier.country_code) == (
        "1 place du Pôle", "01600", "Trévoux", "FR")
    assert carrier.payment_terms_days == 45
    assert carrier.late_penalty_rate == Decimal("12.35")  # exact: never through a float
    assert carrier.member.code == "PORTEUR"
    scop = db.scalars(select(Member).where(Member.code == "SCOP")).one()
    assert (scop.joined_on, scop.siret) == (date(2024, 3, 1), SIRET_B)
    figures = db.scalars(select(MemberFigures)).one()
    assert (figures.year, figures.revenue, figures.headcount) == (
        2025,
        Decimal("150000.00"),
        Decimal("14.000"),
    )
    assert figures.insertion_workers is None
    compta = db.scalars(select(Service).where(Service.code == "COMPTA")).one()
    assert compta.revenue_account == "0706100"  # kept as written, not read as octal
    assert db.scalars(select(Service.overheads_by).where(Service.code == "FRAIS")).one() == "costs"
    (setup,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "setup"))
    assert setup.after == {"file": "pole.yaml", "changes": 6}


def test_the_same_file_twice_changes_nothing(db) -> None:
    apply_configuration(db, YAML)
    events = _count(db, AuditEvent)
    assert apply_configuration(db, YAML).changes == 0
    assert _count(db, AuditEvent) == events


def test_a_changed_file_updates_what_it_names_and_deletes_nothing(db) -> None:
    apply_configuration(db, YAML)
    smaller = YAML.split("services:")[0].replace("name: La Scop", "name: La Scop du Val")
    smaller = smaller.replace(
        "  - code: PORTEUR\n    name: Association Porteuse\n", "  - code: PORTEUR\n"
    )
    assert apply_configuration(db, smaller).changes == 1
    assert db.scalar(select(Member.name).where(Member.code == "SCOP")) == "La Scop du Val"
    assert db.scalar(select(Member.name).where(Member.code == "PORTEUR")) == "Association Porteuse"
    assert _count(db, Service) == 2  # services absent from the file stay


def test_null_clears_a_value_and_an_absent_key_leaves_it(db) -> None:
    apply_configuration(db, YAML)
    apply_configuration(db, "members:\n  - code: SCOP\n    legal_form: null\n    siret: null\n")
    scop = db.scalars(select(Member).where(Member.code == "SCOP")).one()
    assert (scop.legal_form, scop.siret, scop.name) == ("", None, "La Scop")


def test_export_then_apply_is_a_round_trip(db) -> None:
    apply_configuration(db, YAML)
    text = dump_configuration(export_configuration(db))
    data, _ = load_configuration(text)
    assert data["carrier"]["late_penalty_rate"] == Decimal("12.35")
    assert data["members"][1]["figures"] == {
        "2025": {"revenue": 150000, "headcount": 14, "insertion_workers": None, "volunteers": None}
    }
    assert apply_configuration(db, text).changes == 0


def test_a_new_cluster_starts_from_another_clusters_file(db, fresh_db_url) -> None:
    apply_configuration(db, YAML)
    text = dump_configuration(export_configuration(db))
    engine = make_engine(fresh_db_url)
    try:
        with engine.connect() as conn:
            upgrade(connection=conn)
            conn.commit()
        with Session(engine) as other:
            assert apply_configuration(other, text).changes == 6
            other.commit()
            assert dump_configuration(export_configuration(other)) == text
    finally:
        engine.dispose()


BAD_FILES = [
    pytest.param(
        "services:\n  - code: COMPTA\n    name: A\n  - code: compta\n    name: B\n",
        [("services[1].code", 4, "code « COMPTA » en double")],
        id="duplicate service code",
    ),
    pytest.param(
        "services:\n  - name: Sans code\n",
        [("services[0].code", 2, "valeur obligatoire.")],
        id="missing code",
    ),
    pytest.param(
        "services:\n  - code: NEW\n",
        [("services[0].name", 2, "valeur obligatoire pour un nouveau service.")],
        id="new service without a name",
    ),
    pytest.param(
        "services:\n  - code: A B\n    name: X\n    overheads_by: weekly\n    active: oui\n",
        [
            ("services[0].code", 2, "Code « A B » invalide"),
            ("services[0].overheads_by", 4, "« weekly » n'est pas accepté"),
            ("services[0].active", 5, "true ou false attendu."),
        ],
        id="several errors at once",
    ),
    pytest.param(
        "carrier:\n  code: P\n  nom: X\n",
        [("carrier.name", 1, "valeur obligatoire"), ("carrier.nom", 3, "clé inconnue")],
        id="unknown key",
    ),
    pytest.param(
        f"carrier:\n  code: P\n  name: X\n  siren: '{fake_siret(1)[:9]}'\n  siret: '{SIRET_A}'\n"
        "  payment_terms_days: 90\n  late_penalty_rate: 12.345\n  member: INCONNU\n",
        [
            ("carrier.late_penalty_rate", 7, "Trop de décimales"),
            ("carrier.member", 8, "adhérent « INCONNU » inconnu."),
            ("carrier.payment_terms_days", 6, "Nombre trop grand"),
            ("carrier.siret", 5, "le SIRET"),
        ],
        id="carrier fields",
    ),
    pytest.param(
        "members:\n  - code: A\n    name: X\n    siret: '12345678901234'\n"
        "    joined_on: 2024-01-01\n",
        [("members[0].siret", 4, "SIRET invalide")],
        id="bad siret",
    ),
    pytest.param(
        "members:\n  - code: A\n    name: X\n    joined_on: 2024-02-30\n",
        [("members[0].joined_on", 4, "date « 2024-02-30 » invalide")],
        id="impossible date",
    ),
    pytest.param(
        "members:\n  - code: A\n    name: X\n    joined_on: 2024-05-01\n    left_on: 2024-04-01\n"
        "    figures:\n      deux-mille: {revenue: 1}\n      2025: {revenue: -5, chiffre: 3}\n",
        [
            ("members[0].figures.2025.chiffre", 8, "clé inconnue"),
            ("members[0].figures.2025.revenue", 8, "Nombre négatif refusé"),
            ("members[0].figures.deux-mille", 7, "année invalide"),
            ("members[0].left_on", 5, "La date de sortie"),
        ],
        id="member figures",
    ),
    pytest.param(
        'services:\n  - {code: A, name: "x\\0y"}\n',
        [("services[0].name", 2, "Texte refusé : il contient un caractère nul.")],
        id="NUL character",
    ),
    pytest.param("version: 2\n", [("version", 1, "version 2 inconnue")], id="version"),
    pytest.param(
        "services: COMPTA\n", [("services", 1, "une liste est attendue")], id="not a list"
    ),
    pytest.param("- a\n- b\n", [("", 1, "le fichier doit être un tableau de clés.")], id="a list"),
    pytest.param("", [("", None, "Le fichier est vide.")], id="empty"),
    pytest.param("carrier: [unclosed\n", [("", 2, "YAML illisible")], id="not yaml"),
    pytest.param(
        "carrier:\n  code: P\n  code: Q\n  name: X\n",
        [("carrier.code", 3, "clé « code » en double")],
        id="duplicate key",
    ),
    pytest.param(
        "services:\n  - &s {code: A, name: X}\n  - *s\n",
        [("", 3, "YAML illisible : les alias YAML (*nom) ne sont pas acceptés")],
        id="alias",
    ),
    pytest.param(
        "carrier: !!python/object:os.system {}\n",
        [("carrier", 1, "type YAML")],
        id="custom tag",
    ),
    pytest.param(
        "carrier:\n  late_penalty_rate: .nan\n",
        [("carrier.late_penalty_rate", 2, "nombre « .nan »")],
        id="nan",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_a_bad_file_is_refused_whole_with_the_path_and_line_of_each_error(
    db, text, expected
) -> None:
    apply_configuration(db, "services:\n  - {code: KEEP, name: Gardé}\n")
    events = _count(db, AuditEvent)
    with pytest.raises(ConfigRefused) as refused:
        apply_configuration(db, text)
    found = sorted((e.path, e.line, e.message) for e in refused.value.errors)
    expected = sorted(expected)
    assert [(p, line) for p, line, _ in found] == [(p, line) for p, line, _ in expected]
    for (_, _, message), (_, _, want) in zip(found, expected, strict=True):
        assert message.startswith(want), message
    assert _count(db, AuditEvent) == events
    assert "rien n'a été modifié" in str(refused.value)


def test_the_error_text_names_path_and_line(db) -> None:
    with pytest.raises(ConfigRefused) as refused:
        apply_configuration(db, "services:\n  - {code: A, name: X}\n  - {code: '', name: Y}\n")
    assert "services[1].code (ligne 3) : Code manquant." in str(refused.value)


def test_a_binary_or_oversized_file_is_refused(db) -> None:
    with pytest.raises(ConfigRefused, match="pas un fichier texte"):
        apply_configuration(db, b"\x00\x01\x02")
    with pytest.raises(ConfigRefused, match="UTF-8"):
        apply_configuration(db, "carrier: {name: é}".encode("latin-1"))
    with pytest.raises(ConfigRefused, match="trop volumineux"):
        apply_configuration(db, b"#" * (configuration.MAX_BYTES + 1))


# ------------------------------------------------------------------------ extension point


@pytest.fixture
def colours(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    """A service section ``colour`` and a top-level section ``meeting``, as an area adds them."""
    applied: list[tuple[str, object]] = []
    store: dict[str, str] = {}

    def validate(path: str, value: object) -> list[ConfigError]:
        if value not in ("red", "green"):
            return [ConfigError(path, "red ou green attendu.")]
        return []

    def apply(session: Session, service: Service, value: object) -> None:
        if value == "green" and service.code == "LOCKED":
            refuse(f"services[{service.code}].colour", "ce service ne peut pas être vert.")
        applied.append((service.code, value))
        store[service.code] = str(value)

    def export(session: Session, service: Service) -> object:
        return store.get(service.code)

    monkeypatch.setattr(configuration, "_SERVICE_SECTIONS", dict(configuration._SERVICE_SECTIONS))
    monkeypatch.setattr(configuration, "_SECTIONS", dict(configuration._SECTIONS))
    configuration.register_service_section("colour", validate=validate, apply=apply, export=export)
    configuration.register_section(
        "meeting",
        validate=lambda path, value: [] if isinstance(value, str) else [ConfigError(path, "texte")],
        apply=lambda session, value: applied.append(("meeting", value)),
        export=lambda session: "mensuelle",
    )
    return applied


def test_an_area_adds_keys_through_the_registry(db, colours) -> None:
    text = "meeting: mensuelle\nservices:\n  - {code: COMPTA, name: Compta, colour: red}\n"
    apply_configuration(db, text)
    assert colours == [("COMPTA", "red"), ("meeting", "mensuelle")]
    exported = export_configuration(db)
    assert exported["meeting"] == "mensuelle"
    assert exported["services"][0]["colour"] == "red"


def test_a_registered_key_is_validated_with_its_path(db, colours) -> None:
    with pytest.raises(ConfigRefused) as refused:
        apply_configuration(db, "services:\n  - {code: A, name: X, colour: blue}\n")
    assert [(e.path, e.line) for e in refused.value.errors] == [("services[0].colour", 2)]
    assert colours == []


def test_a_handler_may_refuse_the_whole_file_while_applying(db, colours) -> None:
    with pytest.raises(ConfigRefused, match="ce service ne peut pas être vert"):
        apply_configuration(db, "services:\n  - {code: LOCKED, name: X, colour: green}\n")


def test_a_top_level_core_key_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="core section"):
        configuration.register_section(
            "services", validate=lambda p, v: [], apply=lambda s, v: None, export=lambda s: None
        )


# ------------------------------------------------------------------------------ CLI


def test_cli_setup_applies_then_says_nothing_changed_then_exports(runner, db, tmp_path) -> None:
    path = tmp_path / "pole.yaml"
    path.write_text(YAML, encoding="utf-8")
    first = runner.invoke(cli, ["setup", str(path)])
    assert first.exit_code == 0, first.output
    assert "Configuration applied: 6 changes." in first.output
    second = runner.invoke(cli, ["setup", str(path)])
    assert "Nothing to change: this configuration is already applied." in second.output
    out = tmp_path / "export.yaml"
    exported = runner.invoke(cli, ["setup", "--export", str(out)])
    assert exported.exit_code == 0
    assert apply_configuration(db, out.read_text(encoding="utf-8")).changes == 0


def test_cli_setup_refuses_a_bad_file_on_stderr_with_exit_1(runner, db, tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("services:\n  - code: ''\n    name: X\n", encoding="utf-8")
    result = runner.invoke(cli, ["setup", str(path)])
    assert result.exit_code == 1
    assert "services[0].code (ligne 2) : Code manquant." in result.stderr
    assert _count(db, Service) == 0


def test_cli_setup_needs_exactly_one_of_file_and_export(runner) -> None:
    assert runner.invoke(cli, ["setup"]).exit_code == 2
    assert runner.invoke(cli, ["setup", "a.yaml", "--export", "b.yaml"]).exit_code == 2
