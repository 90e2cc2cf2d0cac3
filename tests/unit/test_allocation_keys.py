"""The key grammar: what people type, its canonical text, its French words, its errors."""

from decimal import Decimal

import pytest

from accounting.allocation import (
    AllocationError,
    Basis,
    BasisName,
    InvalidFixedPercentages,
    InvalidKey,
    Key,
    KeyPart,
    KeySyntaxError,
    describe_key_fr,
    format_key,
    format_key_fr,
    key_text_fr,
    parse_key,
)
from accounting.allocation.keys import EQUAL, HOURS, REVENUE, UNITS, fixed


def test_a_lone_basis_is_one_part_of_one_hundred_percent():
    assert parse_key("hours") == Key((KeyPart(Decimal(100), HOURS),))


def test_a_composite_key_keeps_its_weights_and_order():
    key = parse_key("25% equal + 75% hours")
    assert key.parts == (KeyPart(Decimal(25), EQUAL), KeyPart(Decimal(75), HOURS))
    assert key.common_by is None


def test_fixed_percentages_take_a_decimal_comma_and_a_space_before_the_percent_sign():
    key = parse_key("fixed(AIDVS=12,5%, SERVEMPLOI=87,5 %)")
    assert key.parts[0].basis == Basis(
        BasisName.FIXED, (("AIDVS", Decimal("12.5")), ("SERVEMPLOI", Decimal("87.5")))
    )


def test_common_by_is_read_after_the_parts():
    key = parse_key("30% equal + 70% hours, common_by=revenue")
    assert key.common_by == REVENUE
    assert [p.weight for p in key.parts] == [Decimal(30), Decimal(70)]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("hours", "hours"),
        ("100% hours", "hours"),
        ("100 % HOURS", "hours"),
        ("25% equal + 75% hours", "25% equal + 75% hours"),
        ("25 %equal+75%hours", "25% equal + 75% hours"),
        ("12.5% equal + 87,50 % units", "12,5% equal + 87,5% units"),
        ("33,33% equal + 33,33% revenue + 33,34% headcount",
         "33,33% equal + 33,33% revenue + 33,34% headcount"),
        ("fixed( AIDVS = 12.5% ,SERVEMPLOI=87,5%)", "fixed(AIDVS=12,5%, SERVEMPLOI=87,5%)"),
        ("30% equal + 70% hours ,  common_by = revenue",
         "30% equal + 70% hours, common_by=revenue"),
        ("hours, common_by=fixed(A=50%, B=50%)", "hours, common_by=fixed(A=50%, B=50%)"),
        ("50\u00a0% equal + 50\u202f% units", "50% equal + 50% units"),
    ],
)
def test_the_canonical_text_normalises_spacing_and_decimal_comma(text, canonical):
    key = parse_key(text)
    assert format_key(key) == canonical
    assert parse_key(canonical) == key


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("", 0, "La clé est vide"),
        ("hour", 0, "Vouliez-vous dire « hours »"),
        ("25% equal + 75% hour", 16, "Base inconnue « hour »"),
        ("25% equal + 70% hours", 12, "totalisent 95 % au lieu de 100 %"),
        ("50% hours", 0, "totalisent 50 %"),
        ("equal + hours", 0, "commence par son pourcentage"),
        ("25% equal + hours", 12, "commence par son pourcentage"),
        ("25 equal + 75% hours", 3, "« % » attendu après 25"),
        ("fixed(A=12, B=88%)", 10, "« % » attendu après 12"),
        ("fixed(A=50%, B=40%)", 0, "totalisent 90 %"),
        ("fixed(A=50%, A=50%)", 13, "nommé deux fois"),
        ("fixed()", 6, "Code d'adhérent attendu"),
        ("fixed(A 50%)", 8, "« = » après A"),
        ("fixed A=100%", 6, "« ( » après fixed"),
        ("fixed(A=100%", 12, "« , » ou « ) » attendu"),
        ("50% hours + 50% hours", 16, "apparaît deux fois"),
        ("0% equal + 100% hours", 0, "0 %"),
        ("150% hours", 0, "ne dépasse pas 100 %"),
        ("equal, common_by=revenue", 7, "cette clé n'en a pas"),
        ("hours, commonby=revenue", 7, "« travail commun … » (ou « common_by= ») attendu"),
        ("hours, common_by=turnover", 17, "Base inconnue « turnover »"),
        ("hours common_by=revenue", 6, "une part se joint par « + »"),
        ("12,5,3% hours", 4, "« % » attendu après 12,5"),
        ("25% equal +", 11, "Base attendue"),
    ],
)
def test_a_parse_error_points_at_the_wrong_character(text, position, words):
    with pytest.raises(KeySyntaxError) as caught:
        parse_key(text)
    error = caught.value
    assert error.position == position
    assert words in error.message_fr
    assert isinstance(error, AllocationError)


def test_the_error_text_shows_a_caret_under_the_wrong_character():
    with pytest.raises(KeySyntaxError) as caught:
        parse_key("25% equal + 75% hour")
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("(caractère 17)")
    assert lines[1] == "  25% equal + 75% hour"
    assert lines[2] == "                  ^"


def test_keys_built_in_code_obey_the_same_rules():
    with pytest.raises(InvalidKey, match="95 %"):
        Key((KeyPart(Decimal(25), EQUAL), KeyPart(Decimal(70), HOURS)))
    with pytest.raises(InvalidKey, match="deux fois"):
        Key((KeyPart(Decimal(50), HOURS), KeyPart(Decimal(50), HOURS)))
    with pytest.raises(InvalidKey, match="common_by"):
        Key.single(EQUAL, common_by=REVENUE)
    with pytest.raises(InvalidFixedPercentages, match="totalisent 90 %") as caught:
        fixed({"A": "50", "B": "40"})
    assert caught.value.codes == ("A", "B")


def test_describe_key_fr_gives_the_words_of_an_invoice():
    assert describe_key_fr(parse_key("25% equal + 75% hours")) == (
        "25 % part égale + 75 % au prorata des heures"
    )
    assert describe_key_fr(parse_key("hours")) == "au prorata des heures"
    assert describe_key_fr(parse_key("30% equal + 70% units, common_by=revenue")) == (
        "30 % part égale + 70 % au prorata des unités d'œuvre, "
        "travail commun au prorata du chiffre d'affaires"
    )
    assert describe_key_fr(parse_key("fixed(AIDVS=12,5%, SERVEMPLOI=87,5%)")) == (
        "selon les pourcentages convenus (AIDVS 12,5 %, SERVEMPLOI 87,5 %)"
    )


def test_key_values_are_equal_when_their_texts_mean_the_same():
    assert parse_key("25% equal + 75% hours") == parse_key("25,0 % equal + 75.00% hours")
    assert parse_key("units") == Key.single(UNITS)


# ------------------------------------------------------------------ French keys (issue 17)


@pytest.mark.parametrize(
    ("french", "english"),
    [
        (
            "20 % part égale + 80 % unités, travail commun à parts égales",
            "20% equal + 80% units, common_by=equal",
        ),
        ("heures", "hours"),
        ("Chiffre d’affaires", "revenue"),
        ("effectif", "headcount"),
        ("au prorata des heures", "hours"),
        (
            "30 % part egale + 70 % heures, travail commun au prorata du chiffre d'affaires",
            "30% equal + 70% hours, common_by=revenue",
        ),
        ("50 % effectif + 50 % unités d'œuvre, travail commun au prorata de l'effectif",
         "50% headcount + 50% units, common_by=headcount"),
        ("pourcentages fixes (A=12,5 %, B=87,5 %)", "fixed(A=12,5%, B=87,5%)"),
        ("100 % heures, travail commun selon les pourcentages fixes (A=50 %, B=50 %)",
         "hours, common_by=fixed(A=50%, B=50%)"),
    ],
)
def test_french_keys_read_as_their_english_canonical_text(french, english):
    assert format_key(parse_key(french)) == english
    assert parse_key(english) == parse_key(french)


def test_keys_are_shown_in_french_words():
    key = parse_key("20% equal + 80% units, common_by=equal")
    assert format_key_fr(key) == "20 % part égale + 80 % unités, travail commun à parts égales"
    assert format_key_fr(parse_key("fixed(A=12,5%, B=87,5%)")) == (
        "pourcentages fixes (A=12,5 %, B=87,5 %)"
    )
    assert format_key_fr(parse_key("25% revenue + 75% hours, common_by=headcount")) == (
        "25 % chiffre d'affaires + 75 % heures, travail commun au prorata de l'effectif"
    )
    assert key_text_fr("25% equal + 75% hours") == "25 % part égale + 75 % heures"
    assert key_text_fr("n'importe quoi") == "n'importe quoi"  # shown as stored


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("20 % part + 80 % unités", 5, "Base inconnue « part »"),
        ("20 % part égale + 80 % unités, travail en commun", 31, "« travail commun … »"),
        ("part égale, travail commun au prorata des heures", 12, "part heures ou unités"),
        ("50 % heures + 50 % heures", 19, "« heures » apparaît deux fois"),
        ("pourcentages fixes A=100 %", 19, "« ( » après pourcentages fixes"),
        ("60 % heures + 30 % part égale", 14, "totalisent 90 %"),
    ],
)
def test_french_errors_point_at_the_wrong_character(text, position, words):
    with pytest.raises(KeySyntaxError) as caught:
        parse_key(text)
    assert caught.value.position == position
    assert words in caught.value.message_fr
