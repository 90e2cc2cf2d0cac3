"""The invoice date against the period it invoices (DESIGN §4, §5 cut-off).

An invoice dated in a later fiscal year than the services it invoices books its revenue in
that later year; the ledger's cut-off accrual (4181 « produits à recevoir » at the year end,
reversed at the opening) takes it back into the year of the services. Nothing is wrong with it,
but nobody should do it without knowing: issuing asks for a confirmation that says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from accounting.invoicing.errors import InvoicingError
from accounting.ledger.fiscal_year import carrier_start_month, fiscal_year_label, fiscal_year_of
from accounting.periods import Period


class DateNeedsConfirmation(InvoicingError):
    """The invoice date lies in a later fiscal year than the period: confirm first."""


def fiscal_year_warning(session: Session, period: Period, issue_date: date) -> str | None:
    """The French warning when ``issue_date`` is in a later fiscal year than the end of
    ``period``, else None."""
    month = carrier_start_month(session)
    services, invoiced = fiscal_year_of(period.end, month), fiscal_year_of(issue_date, month)
    if invoiced <= services:
        return None
    return (
        f"{period.label} appartient à l'{fiscal_year_label(services, month).lower()} ; des "
        f"documents datés du {issue_date:%d/%m/%Y} sont dans l'"
        f"{fiscal_year_label(invoiced, month).lower()} : leur chiffre d'affaires y est "
        "comptabilisé, et l'écriture de rattachement de la clôture (produits à recevoir, 4181) "
        f"le ramène dans l'{fiscal_year_label(services, month).lower()}. Confirmez la date, ou "
        f"choisissez une date de l'{fiscal_year_label(services, month).lower()}."
    )


def check_issue_date(
    session: Session, period: Period, issue_date: date, *, confirmed: bool = False
) -> None:
    """Refuse an unconfirmed date in a later fiscal year (:class:`DateNeedsConfirmation`)."""
    warning = fiscal_year_warning(session, period, issue_date)
    if warning and not confirmed:
        raise DateNeedsConfirmation(warning)
