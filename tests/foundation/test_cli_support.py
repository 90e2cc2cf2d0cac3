"""What the areas' commands share (app.cli_support): failing, a period by its code, a date."""

from __future__ import annotations

from datetime import date

import click
import pytest
from sqlalchemy import select

from accounting.periods import Period, get_or_create_period
from app.cli import cli
from app.cli_support import CommandRefused, cli_session, fail, parse_iso_date, period_by_code


def _periods(db) -> list[str]:
    return [p.code for p in db.scalars(select(Period))]


def test_fail_rolls_back_what_the_command_wrote(app, db):
    with app.app_context():
        session = cli_session()
        get_or_create_period(session, "2026-05")
        assert _periods(session) == ["2026-05"]
        with pytest.raises(CommandRefused) as caught:
            fail("Refusé.")
        assert caught.value.exit_code == 1
        assert _periods(session) == []
    assert _periods(db) == []


def test_a_refusal_is_printed_as_it_is_with_status_1(runner, db):
    result = runner.invoke(cli, ["invoices", "issue", "2026-05"])
    assert result.exit_code == 1
    assert result.output == "Unknown period: 2026-05 (nothing allocated or invoiced for it yet).\n"
    assert _periods(db) == []


def test_a_bad_period_code_gives_the_domain_message(runner):
    result = runner.invoke(cli, ["export", "invoices", "2026-13", "-o", "x.zip"])
    assert result.exit_code == 1
    assert "mois invalide" in result.output
    assert not result.output.startswith("Error")


def test_period_by_code_finds_or_opens(app, db):
    with app.app_context():
        session = cli_session()
        with pytest.raises(CommandRefused):
            period_by_code(session, "2026-T2")
        opened = period_by_code(session, "2026-T2", create=True)
        assert (opened.start, opened.end) == (date(2026, 4, 1), date(2026, 6, 30))
        assert period_by_code(session, "2026-T2") is opened


def test_parse_iso_date():
    assert parse_iso_date("2026-02-05") == date(2026, 2, 5)
    assert parse_iso_date(None) is None
    with pytest.raises(click.BadParameter, match="'05/02/2026' is not a date"):
        parse_iso_date("05/02/2026")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["invoices", "issue", "2026-01", "--date", "2026-02-30"], "--date"),
        (["invoices", "credit", "2026-0001", "--reason", "x", "--date", "5/2/26"], "--date"),
        (["keys", "set", "COMPTA", "hours", "--from", "2026-1-1"], "--from"),
        (["keys", "set", "COMPTA", "hours", "--from", "2026-01-01", "--agreed-on", "hier"],
         "--agreed-on"),
        (["export", "ledger", "--from", "2026", "-o", "x.xlsx"], "--from"),
        (["check-fec", __file__, "--end", "31/12/2025"], "--end"),
    ],
)
def test_a_bad_date_option_is_a_usage_error_naming_the_option(runner, db, args, option):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert "is not a date (YYYY-MM-DD)" in result.output
    assert _periods(db) == []
