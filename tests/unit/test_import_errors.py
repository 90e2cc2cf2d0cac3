"""Errors as data: records, the refusal that carries them, and the validate() runner."""

import pytest

from imports.errors import ErrorList, ImportRefused, RowError, validate


def test_a_row_error_reads_as_french_with_its_place():
    assert str(RowError(4, "Durée", "Durée illisible.")) == (
        "Ligne 4, colonne « Durée » : Durée illisible."
    )
    assert str(RowError(4, None, "Ligne vide.")) == "Ligne 4 : Ligne vide."
    assert str(RowError(None, None, "Le fichier est vide.")) == "Le fichier est vide."


def test_a_row_error_is_immutable():
    error = RowError(2, "Date", "x")
    with pytest.raises(AttributeError):
        error.row = 3


def test_a_refusal_sorts_its_errors_whole_file_first_then_by_line():
    refused = ImportRefused(
        [RowError(5, "b", "x"), RowError(None, None, "fichier"), RowError(2, "a", "y")]
    )
    assert [e.row for e in refused.errors] == [None, 2, 5]
    assert refused.summary == "Import refusé : 3 erreurs, rien n'a été enregistré."
    assert "Ligne 2, colonne « a » : y" in str(refused)


def test_a_refusal_from_one_message_reads_as_that_message():
    refused = ImportRefused("Le fichier est vide.")
    assert str(refused) == "Le fichier est vide."
    assert refused.errors == [RowError(None, None, "Le fichier est vide.")]


def test_a_refusal_with_many_errors_shows_twenty_and_counts_the_rest():
    refused = ImportRefused([RowError(line, None, "x") for line in range(2, 32)])
    text = str(refused)
    assert "Ligne 21 : x" in text
    assert "Ligne 22 : x" not in text
    assert text.endswith("… et 10 autres erreurs.")
    assert len(refused.errors) == 30


def _positive(item):
    line, value = item
    if value <= 0:
        yield RowError(line, "valeur", "doit être positive")


def _small(item):
    line, value = item
    if value > 10:
        yield RowError(line, "valeur", "trop grande")


def test_validate_runs_every_check_on_every_item_and_returns_all_errors():
    items = [(2, 5), (3, -1), (4, 50), (5, 0)]
    errors = validate(items, [_positive, _small])
    assert errors == [
        RowError(3, "valeur", "doit être positive"),
        RowError(4, "valeur", "trop grande"),
        RowError(5, "valeur", "doit être positive"),
    ]


def test_validate_accepts_a_generator_of_items():
    assert validate(((n, n) for n in range(1, 4)), [_positive, _small]) == []


def test_an_empty_error_list_raises_nothing():
    errors = ErrorList()
    errors.raise_if_any()
    assert not errors
    errors.add(3, "Date", "manquante")
    errors.extend([RowError(2, None, "x")])
    assert [e.row for e in errors] == [2, 3]
    with pytest.raises(ImportRefused, match="2 erreurs"):
        errors.raise_if_any()
