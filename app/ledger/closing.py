"""The year-end cut-off from the FEC page: « Passer les factures à établir » of an exercice
(``accounting.ledger.cutoff``), by the admin or an accountant; audited like any posting."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from accounting.ledger.cutoff import post_cutoff
from accounting.ledger.errors import LedgerError
from accounting.org import Role
from accounting.periods import PeriodError
from app.access import roles_required
from app.database import get_db
from app.formatting import money as money_fr
from app.formatting import plural
from app.ledger.blueprint import bp


@bp.route("/fec/<int:year>/factures-a-etablir", methods=["POST"])
@roles_required(Role.ADMIN, Role.ACCOUNTANT)
def cutoff(year: int) -> ResponseReturnValue:
    if not 2000 <= year <= 2100:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    db = get_db()
    try:
        report = post_cutoff(db, year)
    except (LedgerError, PeriodError) as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for(".fec"))
    db.commit()
    if report.entries:
        flash(f"Factures à établir au {report.end:%d/%m/%Y} : {money_fr(report.total)} HT au "
              f"total, {plural(len(report.entries), 'écriture')} (provision et extourne).",
              "success")
    else:
        flash(f"Rien de plus à provisionner au {report.end:%d/%m/%Y}.", "info")
    for name in report.unapproved:
        flash(f"{name} : fonds appelés mais répartition de l'exercice non approuvée — appels "
              "virés en produits, régularisation non provisionnée.", "info")
    for label in report.straddling:
        flash(f"La période {label} chevauche la clôture : elle n'est pas provisionnée.", "info")
    return redirect(url_for(".fec"))
