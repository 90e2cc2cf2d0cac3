"""Routes of the timesheets area (each declares its access rule with app.access).

Thin views: read the request, call one service of ``timesheets`` or ``imports``, flash the
French message of a refusal, redirect. Every page applies the user's member scope through the
services (a member accountant sees and logs only their own member's work).
"""

from __future__ import annotations

import io
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
from sqlalchemy import select

from accounting.org import Role, Service
from app.access import roles_required
from app.database import get_db
from app.downloads import send_csv, send_rows_written
from app.params import MAX_ID, BadParameter, bounded_list, parse_id, parse_ids, parse_page
from app.timesheets import bp
from app.timesheets.configuration import plain_decimal
from app.uploads import PendingUploads
from imports.errors import ImportRefused, InvalidValue
from imports.parsing import (
    DURATION_FORMATS,
    format_minutes,
    parse_date,
    parse_decimal,
    parse_duration,
)
from imports.tabular import read_limited
from imports.timesheets import (
    analyse,
    import_file,
    save_mapping,
    template_csv,
    template_xlsx,
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
from timesheets.models import Activity, EntryStatus, MappingKind, UnitType
from timesheets.services import EntryData
from timesheets.summaries import monthly_summary
from timesheets.week import DAYS_FR, GridRefused, RowKey, load_week, previous_week_keys, save_week

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
        "can_common": current_user.sees_all_members,
        "is_admin": current_user.has_role(A),
    }


# ---------------------------------------------------------------- weekly grid


@bp.route("/semaine", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def week() -> ResponseReturnValue:
    db = get_db()
    day = _day(request.values.get("jour"), _today()) or _today()
    staff_id = current_user.id
    if current_user.has_role(A) and parse_id(request.values.get("intervenant"), "intervenant"):
        staff_id = parse_id(request.values.get("intervenant"), "intervenant")
    grid_errors: dict[tuple[int, int | None], str] = {}
    typed: dict[str, list[str]] = {}
    if request.method == "POST":
        if request.form.get("action") == "soumettre":
            try:
                count = services.submit_week(db, current_user, day)
                db.commit()
                flash(f"{count} saisie(s) soumise(s) pour validation.", "success")
            except TimesheetError as error:
                db.rollback()
                _refused(error)
            return redirect(url_for(".week", jour=day.isoformat()))
        rows, typed, parse_errors = _grid_from_form(request.form)
        if not parse_errors:
            try:
                # Read first: an unknown member in the new row refuses the whole save.
                added_key = _new_row_key(request.form)
                saved = save_week(
                    db,
                    current_user,
                    day,
                    rows,
                    staff_id=None if staff_id == current_user.id else staff_id,
                )
                db.commit()
                _warn(saved.warnings)
                if added_key is not None:
                    flash("Ligne ajoutée : saisissez les durées puis enregistrez.", "info")
                else:
                    flash("Semaine enregistrée.", "success")
                return redirect(
                    url_for(
                        ".week",
                        jour=day.isoformat(),
                        intervenant=staff_id,
                        ajout=added_key.encode() if added_key else None,
                    )
                )
            except GridRefused as refused:
                db.rollback()
                grid_errors = {(e.row, e.day): e.message for e in refused.errors}
            except TimesheetError as error:
                db.rollback()
                _refused(error)
        else:
            grid_errors = parse_errors
        flash("La semaine n'a pas été enregistrée : corrigez les cases signalées.", "error")
    grid = load_week(db, staff_id, day)
    keys = [row.key for row in grid.rows]
    if request.args.get("copier"):
        added = [k for k in previous_week_keys(db, staff_id, day) if k not in keys]
        keys.extend(added)
        flash(
            f"{len(added)} ligne(s) de la semaine précédente ajoutée(s) : saisissez les durées.",
            "info",
        )
    for text in [*typed, *bounded_list(request.args.getlist("ajout"), "ajout")]:
        try:
            key = RowKey.decode(text)
        except TimesheetError:
            continue
        if key not in keys:
            keys.append(key)
    cells = {row.key: row.cells for row in grid.rows}
    # Names of the rows' services and activities, the inactive ones included.
    names = choices(db, current_user, member_limit=0)
    return render_template(
        "timesheets/week.html",
        grid=grid,
        keys=keys,
        cells=cells,
        typed=typed,
        grid_errors=grid_errors,
        days_fr=DAYS_FR,
        staff_id=staff_id,
        services_shown={
            sid: (code, name)
            for sid, code, name in db.execute(select(Service.id, Service.code, Service.name))
        },
        activity_names={aid: name for aid, _sid, name in names.activities},
        previous=(grid.monday - timedelta(days=7)).isoformat(),
        following=(grid.monday + timedelta(days=7)).isoformat(),
        member_names=member_labels(db, [key.member_id for key in keys]),
        format_minutes=format_minutes,
        **_common(),
    )


def _new_row_key(form: Any) -> RowKey | None:
    service_id = parse_id(form.get("nouvelle-service"), "nouvelle-service")
    if not service_id:
        return None
    return RowKey(
        service_id,
        _member_id(form.get("nouvelle-adherent", "")),
        parse_id(form.get("nouvelle-activite"), "nouvelle-activite"),
    )


def _grid_from_form(
    form: Any,
) -> tuple[list[tuple[RowKey, list[int | None]]], dict[str, list[str]], dict]:
    """Rows of the grid as posted: ``ligne`` (encoded keys, in order) and ``c-<key>-<day>``
    cells; a new row from ``nouvelle-*`` selects. Unreadable durations are errors by cell."""
    rows: list[tuple[RowKey, list[int | None]]] = []
    typed: dict[str, list[str]] = {}
    errors: dict[tuple[int, int | None], str] = {}
    encoded = bounded_list(form.getlist("ligne"), "ligne")
    for row_index, text in enumerate(encoded):
        try:
            key = RowKey.decode(text)
        except TimesheetError:
            continue
        values: list[int | None] = []
        raw = [form.get(f"c-{text}-{day}", "").strip() for day in range(7)]
        typed[text] = raw
        for day_index, cell in enumerate(raw):
            if not cell:
                values.append(None)
                continue
            try:
                values.append(parse_duration(cell))
            except InvalidValue as error:
                errors[(row_index, day_index)] = error.message
                values.append(None)
        rows.append((key, values))
    return rows, typed, errors


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
        return send_csv(entries_csv_lines(rows), download_name=f"temps_{stamp}.csv")
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
        values=form if request.method == "POST" else request.args,
        entry=None,
        split_lines=SPLIT_LINES,
        today=_today().isoformat(),
        **_common(),
    )


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


# ---------------------------------------------------------------- units entry


@bp.route("/unites", methods=["GET", "POST"])
@roles_required(A, C, M)
def units() -> ResponseReturnValue:
    """Quantities per unit type per member, for one service and day (accountants)."""
    db = get_db()
    options = choices(db, current_user, active_only=True)
    service_id = parse_id(request.values.get("service"), "service") or (
        options.services[0][0] if options.services else None
    )
    day = _day(request.values.get("jour"), _today()) or _today()
    unit_types = [(uid, name) for uid, sid, name in options.unit_types if sid == service_id]
    errors: list[str] = []
    if request.method == "POST" and service_id:
        count = 0
        try:
            for member_id, _label in options.members:
                for unit_id, unit_name in unit_types:
                    text = request.form.get(f"q-{member_id}-{unit_id}", "").strip()
                    if not text:
                        continue
                    try:
                        quantity = parse_decimal(text, max_places=3, allow_negative=False)
                    except InvalidValue as error:
                        errors.append(f"{_label}, {unit_name} : {error.message}")
                        continue
                    services.create_entry(
                        db,
                        current_user,
                        EntryData(
                            day=day,
                            service_id=service_id,
                            minutes=0,
                            member_id=member_id,
                            unit_type_id=unit_id,
                            quantity=quantity,
                            note=request.form.get("commentaire", "")[:2000],
                        ),
                    )
                    count += 1
            if errors:
                raise InvalidValue(" ; ".join(errors))
            db.commit()
            flash(f"{count} quantité(s) enregistrée(s).", "success")
            return redirect(url_for(".units", service=service_id, jour=day.isoformat()))
        except (TimesheetError, InvalidValue) as error:
            db.rollback()
            _refused(error)
    return render_template(
        "timesheets/units.html",
        service_id=service_id,
        day=day,
        unit_types=unit_types,
        values=request.form,
        **_common(),
    )


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
                message = f"{count} saisie(s) validée(s)."
            elif action == "renvoyer":
                count = services.send_back(
                    db, current_user, ids, request.form.get("commentaire", "")
                )
                message = f"{count} saisie(s) renvoyée(s) à leur auteur."
            elif action == "valider-mois":
                count = services.approve_month(
                    db,
                    current_user,
                    month.year,
                    month.month,
                    staff_id=parse_id(request.form.get("intervenant"), "intervenant"),
                )
                message = f"{count} saisie(s) soumise(s) de {month:%m/%Y} validée(s)."
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


# ---------------------------------------------------------------- summary


@bp.route("/synthese")
@bp.route("/synthese.<fmt>")
@roles_required(*READERS)
def summary(fmt: str | None = None) -> ResponseReturnValue:
    db = get_db()
    start, end = _month_bounds(_today())
    start = _day(request.args.get("du"), start.replace(month=1)) or start
    end = _day(request.args.get("au"), end) or end
    scope = services.member_scope(current_user)
    result = monthly_summary(
        db, start, end, member_id=scope, service_id=parse_id(request.args.get("service"), "service")
    )
    if fmt in ("xlsx", "csv"):
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
    if fmt is not None:
        abort(404)
    latest = None
    if not result.rows:
        service_id = parse_id(request.args.get("service"), "service")
        latest = latest_day(db, current_user, EntryFilter(service_id=service_id))
    return render_template(
        "timesheets/summary.html",
        summary=result,
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


# ---------------------------------------------------------------- import


#: Files kept between the preview and the confirmation of an import.
UPLOADS = PendingUploads("timesheets")


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*LOGGERS)
def import_upload() -> ResponseReturnValue:
    db = get_db()
    report = None
    token = request.values.get("fichier", "")
    if request.method == "POST" and "document" in request.files:
        upload = request.files["document"]
        if not upload.filename:
            flash("Choisissez un fichier.", "error")
            return redirect(url_for(".import_upload"))
        try:
            data = read_limited(
                upload.stream,
                upload.filename,
                max_bytes=current_app.config.get("MAX_CONTENT_LENGTH") or 50 * 2**20,
            )
        except ImportRefused as refused:
            flash(str(refused), "error")
            return redirect(url_for(".import_upload"))
        token = UPLOADS.store(current_user.id, data, upload.filename)
        return redirect(url_for(".import_upload", fichier=token))
    stored = UPLOADS.get(current_user.id, token) if token else None
    if token and stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_upload"))
    if stored is not None:
        path, name = stored
        report = analyse(db, current_user, path.read_bytes(), name)
        db.rollback()
    return render_template(
        "timesheets/import.html",
        report=report,
        token=token,
        mapping_targets=_mapping_targets(db) if report and report.unmapped else None,
        **_common(),
    )


def _mapping_targets(db: Any) -> dict[str, list[tuple[int, str]]]:
    options = choices(db, current_user)
    from accounting.org import User

    return {
        MappingKind.CUSTOMER.value: options.members,
        MappingKind.PROJECT.value: options.services,
        MappingKind.ACTIVITY.value: [
            (aid, f"{dict(options.services).get(sid, sid)} › {name}")
            for aid, sid, name in options.activities
        ],
        MappingKind.USER.value: [
            (uid, f"{name} <{email}>")
            for uid, name, email in db.execute(
                select(User.id, User.name, User.email).order_by(User.name)
            )
        ],
    }


@bp.route("/import/correspondances", methods=["POST"])
@roles_required(A)
def import_mapping() -> ResponseReturnValue:
    """Save what the unmapped Kimai names stand for, then show the preview again."""
    db = get_db()
    token = request.form.get("fichier", "")
    saved = 0
    try:
        for name, value in request.form.items():
            match = re.fullmatch(r"map-(customer|project|activity|user)-([0-9a-f]{16})", name)
            if not match or not value:
                continue
            external = request.form.get(f"ext-{match[1]}-{match[2]}", "")
            target = None if value == COMMON else parse_id(value, name)
            if value != COMMON and target is None:
                continue
            save_mapping(db, MappingKind(match[1]), external, target)
            saved += 1
        db.commit()
        flash(
            f"{saved} correspondance(s) enregistrée(s) : elles serviront aux prochains imports.",
            "success",
        )
    except ImportRefused as refused:
        db.rollback()
        flash(str(refused), "error")
    return redirect(url_for(".import_upload", fichier=token))


@bp.route("/import/confirmer", methods=["POST"])
@roles_required(*LOGGERS)
def import_confirm() -> ResponseReturnValue:
    db = get_db()
    token = request.form.get("fichier", "")
    stored = UPLOADS.get(current_user.id, token)
    if stored is None:
        flash("Le fichier n'est plus disponible : déposez-le à nouveau.", "error")
        return redirect(url_for(".import_upload"))
    path, name = stored
    try:
        report = import_file(db, current_user, path.read_bytes(), name)
        db.commit()
    except ImportRefused as refused:
        db.rollback()
        flash(refused.summary, "error")
        return redirect(url_for(".import_upload", fichier=request.form.get("fichier")))
    UPLOADS.discard(current_user.id, token)
    flash(report.summary(), "success" if report.added else "info")
    for warning in report.warnings:
        flash(str(warning), "warning")
    return redirect(url_for(".entries", du="", au=""))


@bp.route("/import/modele.<fmt>")
@roles_required(*READERS)
def import_template(fmt: str) -> ResponseReturnValue:
    if fmt == "csv":
        data, mimetype = template_csv(), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        data = template_xlsx()
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        abort(404)
    return send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"modele_saisie_temps.{fmt}",
    )


# ---------------------------------------------------------------- activities and unit types


@bp.route("/services", methods=["GET"])
@roles_required(A)
def service_settings() -> ResponseReturnValue:
    db = get_db()
    all_services = db.scalars(select(Service).order_by(Service.code)).all()
    activities = db.scalars(select(Activity).order_by(Activity.name)).all()
    unit_types = db.scalars(select(UnitType).order_by(UnitType.name)).all()
    return render_template(
        "timesheets/services.html",
        services=all_services,
        activities=activities,
        unit_types=unit_types,
    )


@bp.route("/services/<int:service_id>", methods=["POST"])
@roles_required(A)
def service_settings_save(service_id: int) -> ResponseReturnValue:
    from timesheets.settings import SettingsError, save_activity, save_unit_type

    db = get_db()
    if service_id > MAX_ID or db.get(Service, service_id) is None:
        abort(404)
    form = request.form
    try:
        if form.get("quoi") == "activite":
            save_activity(
                db,
                service_id,
                form.get("nom", ""),
                parse_id(form.get("id"), "id"),
                active=form.get("actif") == "1",
            )
        elif form.get("quoi") == "unite":
            save_unit_type(
                db,
                service_id,
                form.get("nom", ""),
                form.get("poids", ""),
                parse_id(form.get("id"), "id"),
                active=form.get("actif") == "1",
            )
        else:
            raise BadParameter(
                "Le paramètre « quoi » doit valoir « activite » ou « unite » : valeur refusée. "
                "Rien n'a été enregistré."
            )
        db.commit()
        flash("Enregistré.", "success")
    except SettingsError as error:
        db.rollback()
        _refused(error)
    return redirect(url_for(".service_settings") + f"#service-{service_id}")
