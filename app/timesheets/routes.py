"""Routes of the timesheets area: the entries list, quick add, edit, export and the monthly
summary, and the helpers the other route modules share (``routes_grid``: the weekly grid and
units; ``routes_approval``; ``routes_import``; ``routes_settings``). Each route declares its
access rule with app.access.

Thin views: read the request, call one service of ``timesheets`` or ``imports``, flash the
French message of a refusal, redirect. Every page applies the user's member scope through the
services (a member accountant sees and logs only their own member's work).
"""

from __future__ import annotations

import io
import math
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounting.org import Role
from app.access import roles_required
from app.allocation import cache
from app.database import get_db
from app.downloads import send_rows_csv, send_rows_written
from app.params import parse_id, parse_page
from app.timesheets.blueprint import bp
from app.timesheets.configuration import plain_decimal
from imports.errors import InvalidValue
from imports.parsing import (
    DURATION_FORMATS,
    format_minutes,
    parse_date,
    parse_decimal,
    parse_duration,
)
from timesheets import services
from timesheets.errors import EntryNotFound, TimesheetError
from timesheets.export import (
    entries_csv_lines,
    write_entries_xlsx,
    write_summary_csv,
    write_summary_xlsx,
)
from timesheets.listing import (
    COMMON,
    COMMON_LABEL,
    MEMBER_SELECT_LIMIT,
    SORTS,
    EntryFilter,
    choices,
    export_rows,
    latest_day,
    list_entries,
    member_by_reference,
    member_labels,
    member_suggestions,
)
from timesheets.models import EntryStatus
from timesheets.services import EntryData
from timesheets.summaries import Summary, monthly_summary
from timesheets.summary_page import service_months, summary_page
from timesheets.week import usual_service

A, C, M, D, T = (
    Role.ADMIN,
    Role.ACCOUNTANT,
    Role.MEMBER_ACCOUNTANT,
    Role.DEVELOPER,
    Role.TREASURER,
)
LOGGERS = (A, C, M, D)
READERS = (A, C, M, D, T)
APPROVERS = (A, T)

# ---------------------------------------------------------------- small readers


def _day(value: str | None, default: date | None = None) -> date | None:
    if not value:
        return default
    try:
        return parse_date(value)
    except InvalidValue:
        return default


def _today() -> date:
    return date.today()


def _month_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def _entry_filter(args: Any) -> EntryFilter:
    """The list's filter from the query string; the current month by default (fast pages on
    a million entries: the date range is what the indexes serve first)."""
    start, end = _month_bounds(_today())
    if "du" in args or "au" in args:
        start, end = _day(args.get("du")), _day(args.get("au"))
    member: int | str | None = None
    try:
        member = member_by_reference(get_db(), args.get("adherent", ""))
    except TimesheetError as error:
        _refused(error)
    return EntryFilter(
        start=start,
        end=end,
        staff_id=parse_id(args.get("intervenant"), "intervenant"),
        member=member,
        service_id=parse_id(args.get("service"), "service"),
        activity_id=parse_id(args.get("activite"), "activite"),
        status=args.get("statut") if args.get("statut") in {s.value for s in EntryStatus} else None,
    )


def _filter_args(f: EntryFilter, sort: str | None = None) -> dict[str, Any]:
    args = {
        "du": f.start.isoformat() if f.start else "",
        "au": f.end.isoformat() if f.end else "",
        "intervenant": f.staff_id or "",
        "adherent": f.member or "",
        "service": f.service_id or "",
        "activite": f.activity_id or "",
        "statut": f.status or "",
    }
    if sort:
        args["tri"] = sort
    return {k: v for k, v in args.items() if v != ""} | {"du": args["du"], "au": args["au"]}


def _month_args(day: date, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` with the dates of the month of ``day``."""
    start, end = _month_bounds(day)
    return dict(args, du=start.isoformat(), au=end.isoformat())


def _period_links(f: EntryFilter, args: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Shortcuts of the list's date range: the months around the one shown, this month, and
    every date (bounded all the same: paginated, and the totals stay one query)."""
    start = f.start or _today()
    month = start.replace(day=1)
    return [
        ("← Mois précédent", _month_args(month - timedelta(days=1), args)),
        ("Ce mois-ci", _month_args(_today(), args)),
        ("Mois suivant →", _month_args(month + timedelta(days=31), args)),
        ("Toutes les dates", dict(args, du="", au="")),
    ]


def _refused(error: Exception) -> None:
    flash(str(error), "error")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        flash(warning, "warning")


def _entry_data_from_form(form: Any) -> EntryData:
    """An :class:`EntryData` from the quick-add / edit form; raises TimesheetError-like
    InvalidValue with a French message for an unreadable cell."""
    day = parse_date(form.get("jour", ""))
    service_id = parse_id(form.get("service"), "service")
    if service_id is None:
        raise InvalidValue("Choisissez un service.")
    duration = form.get("duree", "").strip()
    unit_type_id = parse_id(form.get("unite"), "unite")
    quantity_text = form.get("quantite", "").strip()
    quantity = (
        parse_decimal(quantity_text, max_places=3, allow_negative=False) if quantity_text else None
    )
    minutes = parse_duration(duration) if duration or unit_type_id is None else 0
    return EntryData(
        day=day,
        service_id=service_id,
        minutes=minutes,
        member_id=_member_id(form.get("adherent", "")),
        activity_id=parse_id(form.get("activite"), "activite"),
        unit_type_id=unit_type_id,
        quantity=quantity,
        note=form.get("commentaire", "")[:2000],
    )


def _member_id(text: str) -> int | None:
    """The member of a form's member field (a select's id, or the text typed with the
    suggestions); empty or "Travail commun": common work (None). Raises InvalidEntry."""
    member = member_by_reference(get_db(), text)
    return None if member in (None, COMMON) else int(member)


def _member_text(value: Any) -> str:
    """What a member text input shows for a stored value: an id becomes "CODE — Name"."""
    text = "" if value is None else str(value)
    if text == COMMON:
        return COMMON_LABEL
    if text.isdigit():
        return member_labels(get_db(), [int(text)]).get(int(text), text)
    return text


def _common() -> dict[str, Any]:
    """What every page of the area shows: the choices of its filters and forms (members only
    while they are few: beyond, a text input suggests them), and the duration formats."""
    options = choices(get_db(), current_user, active_only=True, member_limit=MEMBER_SELECT_LIMIT)
    return {
        "options": options,
        "member_text": _member_text,
        "duration_formats": DURATION_FORMATS,
        "can_common": services.member_scope(current_user, services.LOG_WORK) is None,
        "is_admin": current_user.has_role(A),
        "can_log": current_user.has_role(*LOGGERS),
    }


def may_edit(entry: Any) -> bool:
    """The page offers to change ``entry`` (a draft of the user's own, or anyone's for the
    admin); the services refuse the others all the same."""
    return (
        entry.status == EntryStatus.DRAFT
        and current_user.has_role(*LOGGERS)
        and (entry.staff_id == current_user.id or current_user.has_role(A))
    )


# ---------------------------------------------------------------- list, quick add, edit


@bp.route("/saisies")
@roles_required(*READERS)
def entries() -> ResponseReturnValue:
    db = get_db()
    entry_filter = _entry_filter(request.args)
    sort = request.args.get("tri", "-day")
    page = list_entries(
        db,
        current_user,
        entry_filter,
        sort=sort,
        page=parse_page(request.args.get("page")),
        per_page=current_app.config.get("PAGE_SIZE", 50),
    )
    filter_args = _filter_args(entry_filter)
    latest = None
    if not page.rows and (entry_filter.start or entry_filter.end):
        latest = latest_day(db, current_user, entry_filter)
    return render_template(
        "timesheets/entries.html",
        page=page,
        entry_filter=entry_filter,
        args=_filter_args(entry_filter, page.sort),
        filter_args=filter_args,
        periods=_period_links(entry_filter, filter_args),
        latest=latest,
        latest_args=_month_args(latest, filter_args) if latest else None,
        sorts=SORTS,
        statuses=list(EntryStatus),
        common_value=COMMON,
        **_common(),
    )


@bp.route("/saisies/export.<fmt>")
@roles_required(*READERS)
def export_entries(fmt: str) -> ResponseReturnValue:
    db = get_db()
    entry_filter = _entry_filter(request.args)
    rows = export_rows(db, current_user, entry_filter)
    stamp = f"{entry_filter.start or 'debut'}_{entry_filter.end or 'fin'}"
    if fmt == "csv":
        return send_rows_csv(rows, entries_csv_lines, kind="entries.csv",
                             download_name=f"temps_{stamp}.csv")  # fmt: skip
    if fmt != "xlsx":
        abort(404)
    return send_rows_written(
        rows,
        write_entries_xlsx,
        kind="entries.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        download_name=f"temps_{stamp}.xlsx",
    )


@bp.route("/adherents.json")
@roles_required(*READERS)
def member_choices() -> ResponseReturnValue:
    """The members in the user's scope, as suggestions for the member text inputs: fetched
    once per page, when such an input first gets the focus (the pages themselves never render
    the long list; like every page, the answer is not cached: member names are private)."""
    return jsonify(options=member_suggestions(get_db(), current_user))


@bp.route("/saisies/nouvelle", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def new_entry() -> ResponseReturnValue:
    db = get_db()
    form = request.form
    if request.method == "POST":
        try:
            data = _entry_data_from_form(form)
            mode = form.get("repartition", "")
            if mode in ("minutes", "percent"):
                shares = _shares(form, mode)
                saved = services.split_entry(db, current_user, data, shares, by=mode)
                message = f"Travail réparti en {len(saved.entries)} saisies."
            else:
                saved = services.create_entry(db, current_user, data)
                message = "Saisie enregistrée."
            db.commit()
            flash(message, "success")
            _warn(saved.warnings)
            if form.get("encore"):
                return redirect(
                    url_for(".new_entry", jour=data.day.isoformat(), service=data.service_id)
                )
            return redirect(url_for(".entries"))
        except (TimesheetError, InvalidValue) as error:
            db.rollback()
            _refused(error)
    return render_template(
        "timesheets/entry_form.html",
        values=form if request.method == "POST" else _quick_defaults(db),
        entry=None,
        editable=True,
        split_lines=SPLIT_LINES,
        today=_today().isoformat(),
        **_common(),
    )


def _quick_defaults(db: Any) -> dict[str, str]:
    """The quick entry's first values: the query string's, the service defaulting to the
    user's usual one (their latest entry's: the development officer's is not COMPTA)."""
    values = dict(request.args.items())
    if not values.get("service"):
        usual = usual_service(db, current_user.id)
        if usual is not None:
            values["service"] = str(usual)
    return values


#: Lines of the split form when the members are too many to list (a member input each).
SPLIT_LINES = 8


def _shares(form: Any, mode: str) -> list[tuple[int, Decimal]]:
    """The split form's shares, the empty ones left out: ``part-<member id>`` fields (one per
    member, when they are listed) or ``part-adherent-<n>`` / ``part-valeur-<n>`` lines (a
    member typed with suggestions and its share)."""
    pairs: list[tuple[int, str]] = []
    for name, value in form.items():
        if match := re.fullmatch(r"part-(\d+)", name):
            pairs.append((int(match[1]), value))
        elif (match := re.fullmatch(r"part-valeur-(\d+)", name)) and value.strip():
            member_id = _member_id(form.get(f"part-adherent-{match[1]}", ""))
            if member_id is None:
                raise InvalidValue("Choisissez l'adhérent de chaque part de la répartition.")
            pairs.append((member_id, value))
    shares: list[tuple[int, Decimal]] = []
    for member_id, value in pairs:
        if not value.strip():
            continue
        if mode == "minutes":
            amount = Decimal(parse_duration(value))
        else:
            amount = parse_decimal(value.replace("%", ""), allow_negative=False)
        shares.append((member_id, amount))
    return shares


@bp.route("/saisies/<int:entry_id>", methods=["GET", "POST"])
@roles_required(*READERS)
def edit_entry(entry_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        entry = services.get_entry(db, current_user, entry_id)
    except TimesheetError:
        abort(404)
    if request.method == "POST":
        try:
            data = _entry_data_from_form(request.form)
            saved = services.update_entry(db, current_user, entry_id, data)
            db.commit()
            flash("Saisie modifiée.", "success")
            _warn(saved.warnings)
            return redirect(url_for(".entries"))
        except (TimesheetError, InvalidValue) as error:
            db.rollback()
            _refused(error)
    values = (
        request.form
        if request.method == "POST"
        else {
            "jour": entry.day.isoformat(),
            "service": str(entry.service_id),
            "adherent": str(entry.member_id or ""),
            "activite": str(entry.activity_id or ""),
            "duree": format_minutes(entry.minutes) if entry.minutes else "",
            "unite": str(entry.unit_type_id or ""),
            "quantite": plain_decimal(entry.quantity) if entry.quantity is not None else "",
            "commentaire": entry.note,
        }
    )
    return render_template(
        "timesheets/entry_form.html",
        values=values,
        entry=entry,
        editable=may_edit(entry),
        today=_today().isoformat(),
        **_common(),
    )


@bp.route("/saisies/<int:entry_id>/supprimer", methods=["POST"])
@roles_required(*LOGGERS)
def delete_entry(entry_id: int) -> ResponseReturnValue:
    db = get_db()
    try:
        services.delete_entry(db, current_user, entry_id)
        db.commit()
        flash("Saisie supprimée.", "success")
    except EntryNotFound:
        db.rollback()
        abort(404)  # missing or another member's: a 404 like every out-of-scope object
    except TimesheetError as error:
        db.rollback()
        _refused(error)
    return redirect(url_for(".entries"))


# ---------------------------------------------------------------- summary


#: Member × service rows per page of the summary.
SUMMARY_PAGE_SIZE = 100


@bp.route("/synthese")
@bp.route("/synthese.<fmt>")
@roles_required(*READERS)
def summary(fmt: str | None = None) -> ResponseReturnValue:
    db = get_db()
    start, end = _month_bounds(_today())
    start = _day(request.args.get("du"), start.replace(month=1)) or start
    end = _day(request.args.get("au"), end) or end
    scope = services.member_scope(current_user)
    service_id = parse_id(request.args.get("service"), "service")
    if fmt in ("xlsx", "csv"):
        return _summary_download(monthly_summary(
            db, start, end, member_id=scope, service_id=service_id), fmt, start, end)
    if fmt is not None:
        abort(404)
    # A month at 1 000 members is 14 000 member × service rows: the page shows them by
    # SUMMARY_PAGE_SIZE, read in SQL with the totals of every row (the downloads hold them all).
    page = parse_page(request.args.get("page"))
    result = summary_page(db, start, end, page=page, size=SUMMARY_PAGE_SIZE,
                          member_id=scope, service_id=service_id, months_of=_cached_months)
    pages = max(1, math.ceil(result.row_count / SUMMARY_PAGE_SIZE))
    if page > pages:
        page = pages
        result = summary_page(db, start, end, page=page, size=SUMMARY_PAGE_SIZE,
                              member_id=scope, service_id=service_id, months_of=_cached_months)
    latest = None
    if not result.row_count:
        latest = latest_day(db, current_user, EntryFilter(service_id=service_id))
    return render_template(
        "timesheets/summary.html",
        summary=result,
        rows=result.rows,
        page=page,
        pages=pages,
        latest=latest,
        start=start,
        end=end,
        scoped=scope is not None,
        args={
            "du": start.isoformat(),
            "au": end.isoformat(),
            "service": request.args.get("service", ""),
        },
        **_common(),
    )


def _cached_months(session: Any, spans: list[tuple[date, date]], member_id: int | None,
                   service_id: int | None) -> Any:
    """The summary's service-months (an aggregate over each month's entries: 60–80 ms a month
    at 1 000 members), reused per worker while the work is unchanged (``app.allocation.cache``:
    this process's writes and a new entry show at once, another worker's edit within 60 s)."""
    return cache.summary_months(
        session, (tuple(spans), member_id, service_id),
        lambda: service_months(session, spans, member_id, service_id),
    )


def _summary_download(result: Summary, fmt: str, start: date, end: date) -> ResponseReturnValue:
    """Every row of the summary as a workbook or a CSV file."""
    buffer = io.BytesIO()
    if fmt == "xlsx":
        write_summary_xlsx(result, buffer)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        write_summary_csv(result, buffer)
        mimetype = "text/csv; charset=utf-8"
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"synthese_temps_{start}_{end}.{fmt}",
    )
