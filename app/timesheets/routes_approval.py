"""Timesheet approval: a month's submitted entries approved or sent back by an approver."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from app.access import roles_required
from app.database import get_db
from app.delivery.notices import notify_sent_back
from app.formatting import month_fr, plural
from app.params import parse_id, parse_ids, parse_page
from app.timesheets.blueprint import bp
from app.timesheets.routes import APPROVERS, _common, _day, _month_bounds, _refused, _today
from timesheets import services
from timesheets.errors import TimesheetError
from timesheets.listing import EntryFilter, latest_day, list_entries
from timesheets.models import EntryStatus

# ---------------------------------------------------------------- approval


@bp.route("/validation", methods=["GET", "POST"])
@roles_required(*APPROVERS)
def approvals() -> ResponseReturnValue:
    db = get_db()
    month = _day(
        request.values.get("mois", "") + "-01" if request.values.get("mois") else None,
        _today().replace(day=1),
    ) or _today().replace(day=1)
    start, end = _month_bounds(month)
    if request.method == "POST":
        action = request.form.get("action")
        ids = parse_ids(request.form.getlist("saisie"), "saisie")
        try:
            if action == "valider":
                count = services.approve_entries(db, current_user, ids)
                message = plural(count, "saisie validée", "saisies validées") + "."
            elif action == "renvoyer":
                count = services.send_back(
                    db, current_user, ids, request.form.get("commentaire", "")
                )
                message = (plural(count, "saisie renvoyée", "saisies renvoyées")
                           + (" à son auteur." if count < 2 else " à leur auteur."))
                db.commit()
                notified = notify_sent_back(
                    db, ids, request.form.get("commentaire", "").strip(), current_user.name
                )
                message += f" Auteurs prévenus par courriel : {notified}."
            elif action == "valider-mois":
                count = services.approve_month(
                    db,
                    current_user,
                    month.year,
                    month.month,
                    staff_id=parse_id(request.form.get("intervenant"), "intervenant"),
                )
                message = (plural(count, "saisie soumise", "saisies soumises")
                           + f" de {month_fr(month)} "
                           + ("validée." if count < 2 else "validées."))
            else:
                abort(400)
            db.commit()
            flash(message, "success")
        except TimesheetError as error:
            db.rollback()
            _refused(error)
        return redirect(url_for(".approvals", mois=f"{month:%Y-%m}"))
    status = request.args.get("statut", EntryStatus.SUBMITTED.value)
    entry_filter = EntryFilter(
        start=start,
        end=end,
        status=status or None,
        staff_id=parse_id(request.args.get("intervenant"), "intervenant"),
    )
    page = list_entries(
        db,
        current_user,
        entry_filter,
        sort="staff",
        page=parse_page(request.args.get("page")),
        per_page=200,
    )
    latest = None
    if not page.rows:
        latest = latest_day(db, current_user, EntryFilter(status=status or None))
    return render_template(
        "timesheets/approvals.html",
        page=page,
        latest=latest,
        month=month,
        status=status,
        previous=f"{(start - timedelta(days=1)):%Y-%m}",
        following=f"{(end + timedelta(days=1)):%Y-%m}",
        args={"mois": f"{month:%Y-%m}", "statut": status},
        statuses=list(EntryStatus),
        **_common(),
    )
