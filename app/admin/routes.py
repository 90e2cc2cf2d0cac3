"""Routes of the admin area (each declares its access rule with app.access).

Thin views: validate the form, call one function of :mod:`app.admin.services` (or an
importer, or the configuration module), commit, flash, redirect. Refusals become messages next
to the field or above the form; nothing is saved then.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, bindparam, func, or_, select

from accounting.audit import AuditEvent
from accounting.org import Member, MemberFigures, Role, Service, User
from app.access import ensure_member, roles_required
from app.admin import audit_text
from app.admin.audit_text import ACTION_LABELS, OBJECT_LABELS
from app.admin.blueprint import bp
from app.admin.forms import (
    CARRIER_FORM_FIELDS,
    MEMBER_FORM_FIELDS,
    CarrierForm,
    FiguresForm,
    ImportForm,
    MemberForm,
    ServiceForm,
    UserForm,
    parsed,
)
from app.admin.member_chooser import chosen_member, prepare_member_field
from app.admin.services import (
    AdminError,
    AuditFilter,
    audit_choices,
    audit_page,
    delete_member,
    figures_of_year,
    member_records,
    save_carrier,
    save_figures,
    save_member,
    save_service,
    save_user,
    the_carrier,
)
from app.configuration import (
    audit_mark,
    changes_since,
)
from app.database import get_db
from app.params import parse_page
from app.uploads import TABULAR, chosen_encoding, receive_upload
from imports.errors import ImportRefused
from imports.figures import FIGURE_COLUMNS, FIGURE_FIELDS, FIGURE_LABELS_FR, import_figures
from imports.members import MEMBER_COLUMNS, import_members
from imports.parsing import parse_date
from imports.tabular import DEFAULT_MAX_BYTES, read_table

A, M, T = Role.ADMIN, Role.MEMBER_ACCOUNTANT, Role.TREASURER
NOTHING_CHANGED = "Aucune modification : les valeurs étaient déjà celles-ci."


def _arg(name: str, limit: int, default: str = "") -> str:
    """A query-string value, cut to ``limit`` and without NUL (PostgreSQL refuses it)."""
    return request.args.get(name, default)[:limit].replace("\x00", "").strip()


def _shown(value: Any) -> str:
    """A stored value as a form shows it: empty for None, a decimal comma for amounts."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f").replace(".", ",")
    return str(value)


def _page() -> int:
    return parse_page(request.args.get("page"))


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _get(model: Any, ident: int) -> Any:
    obj = get_db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _saved(db: Any, mark: int, message: str) -> None:
    """Commit and say whether anything changed (the audit log counts the changes)."""
    changed = changes_since(db, mark)
    db.commit()
    flash(message if changed else NOTHING_CHANGED, "success" if changed else "info")


def _refused(db: Any, form: Any, error: AdminError) -> None:
    db.rollback()
    if error.field and error.field in form:
        form[error.field].errors.append(str(error))
    else:
        flash(str(error), "error")


# ------------------------------------------------------------------------------ index


@bp.route("/")
@roles_required(A)
def index() -> ResponseReturnValue:
    db = get_db()
    today = date.today()
    active = (Member.left_on.is_(None)) | (Member.left_on >= today)
    counts = {
        "members": db.scalar(select(func.count()).select_from(Member).where(active)) or 0,
        "members_left": db.scalar(select(func.count()).select_from(Member).where(~active)) or 0,
        "services": db.scalar(select(func.count()).select_from(Service)) or 0,
        "users": db.scalar(select(func.count()).select_from(User).where(User.active)) or 0,
        "events": db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    }
    return render_template("admin/index.html", carrier=the_carrier(db), counts=counts)


# ------------------------------------------------------------------------------ carrier


@bp.route("/structure", methods=["GET", "POST"])
@roles_required(A)
def carrier() -> ResponseReturnValue:
    db = get_db()
    current = the_carrier(db)
    form = CarrierForm()
    filling = request.method == "GET" and current is not None
    member_input = prepare_member_field(
        db, form.member, current.member_id if current else None, fill=filling
    )
    if filling:
        for name in CARRIER_FORM_FIELDS:
            form[name].data = _shown(getattr(current, name))
    member_id = chosen_member(db, form.member, _int_or_none) if form.validate_on_submit() else False
    if member_id is not False:
        values = parsed(form, *(n for n in CARRIER_FORM_FIELDS if n != "vat_regime"))
        values["vat_regime"] = form.vat_regime.data
        values["member_id"] = member_id
        mark = audit_mark(db)
        try:
            save_carrier(db, values)
        except AdminError as error:
            _refused(db, form, error)
        else:
            _saved(db, mark, "Structure porteuse enregistrée.")
            return redirect(url_for("admin.carrier"))
    return render_template(
        "admin/carrier.html", form=form, carrier=current, member_input=member_input
    )


# ------------------------------------------------------------------------------ members

MEMBER_STATUSES = {"actifs": "Adhérents actuels", "sortis": "Sortis", "tous": "Tous"}


@bp.route("/adherents")
@roles_required(A)
def members() -> ResponseReturnValue:
    db = get_db()
    q = _arg("q", 100)
    status = _arg("statut", 20, "actifs")
    status = status if status in MEMBER_STATUSES else "actifs"
    today = date.today()
    values: dict[str, Any] = {"today": today}
    if q:
        values["like"] = f"%{q.replace('%', '').replace('_', '')}%"
    count, listed = _member_list(status, bool(q))
    size = current_app.config.get("PAGE_SIZE", 50)
    total = db.scalar(count, values) or 0
    page = min(_page(), _pages(total, size))
    rows = db.scalars(listed, {**values, "offset": (page - 1) * size, "limit": size}).all()
    args = {k: v for k, v in {"q": q, "statut": status}.items() if v}
    return render_template(
        "admin/members.html", rows=rows, total=total, page=page, pages=_pages(total, size),
        args=args, q=q, status=status, statuses=MEMBER_STATUSES, today=today,
    )  # fmt: skip


@cache
def _member_list(status: str, searched: bool) -> tuple[Select[Any], Select[Any]]:
    """The count and one page of the members list, built once per status and search (the
    day, the text searched, the page bound): the admin's list is a page of every visit."""
    where = []
    if status == "actifs":
        where.append(Member.left_on.is_(None) | (Member.left_on >= bindparam("today")))
    elif status == "sortis":
        where.append(Member.left_on < bindparam("today"))
    if searched:
        like = bindparam("like")
        where.append(or_(Member.code.ilike(like), Member.name.ilike(like),
                         Member.siret.ilike(like)))  # fmt: skip
    return (
        select(func.count(Member.id)).where(*where),
        select(Member).where(*where).order_by(Member.code)
        .offset(bindparam("offset")).limit(bindparam("limit")),
    )


def _member_form_data(member: Member) -> dict[str, Any]:
    data = {name: getattr(member, name) for name in MEMBER_FORM_FIELDS}
    for name in ("joined_on", "left_on"):
        data[name] = data[name].isoformat() if data[name] else ""
    return {k: "" if v is None else v for k, v in data.items()}


@bp.route("/adherents/nouveau", methods=["GET", "POST"])
@roles_required(A)
def member_new() -> ResponseReturnValue:
    form = MemberForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            member = save_member(db, None, parsed(form, *MEMBER_FORM_FIELDS))
        except AdminError as error:
            _refused(db, form, error)
        else:
            db.commit()
            flash(f"Adhérent {member.code} créé.", "success")
            return redirect(url_for("admin.member_edit", member_id=member.id))
    return render_template("admin/member_form.html", form=form, member=None)


@bp.route("/adherents/<int:member_id>", methods=["GET", "POST"])
@roles_required(A)
def member_edit(member_id: int) -> ResponseReturnValue:
    db = get_db()
    member = _get(Member, member_id)
    form = MemberForm(data=_member_form_data(member) if request.method == "GET" else None)
    del form.code
    if form.validate_on_submit():
        mark = audit_mark(db)
        try:
            save_member(db, member, parsed(form, *MEMBER_FORM_FIELDS[1:]))
        except AdminError as error:
            _refused(db, form, error)
        else:
            _saved(db, mark, f"Adhérent {member.code} enregistré.")
            return redirect(url_for("admin.member_edit", member_id=member.id))
    records = member_records(db, member.id)
    return render_template("admin/member_form.html", form=form, member=member, records=records)


@bp.route("/adherents/<int:member_id>/supprimer", methods=["POST"])
@roles_required(A)
def member_delete(member_id: int) -> ResponseReturnValue:
    db = get_db()
    member = _get(Member, member_id)
    code = member.code
    try:
        delete_member(db, member)
    except AdminError as error:
        db.rollback()
        flash(str(error), "error")
        return redirect(url_for("admin.member_edit", member_id=member_id))
    db.commit()
    flash(f"Adhérent {code} supprimé.", "success")
    return redirect(url_for("admin.members"))


# ------------------------------------------------------------------------------ figures


def _int_or_none(value: str | None) -> int | None:
    """A select's id ("" or a missing field: none; not a number: an id that matches nothing)."""
    if not value or value == "None":
        return None
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else -1


def _max_upload() -> int:
    return current_app.config.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_BYTES


def _year_arg(name: str = "annee") -> int | None:
    value = request.args.get(name, "")
    if not (value.isascii() and value.isdigit()):  # "²".isdigit() is true, int("²") raises
        return None
    return int(value) if 1900 <= int(value) <= 2100 else None


@bp.route("/adherents/<int:member_id>/chiffres", methods=["GET", "POST"])
@roles_required(A, M)
def member_figures(member_id: int) -> ResponseReturnValue:
    db = get_db()
    member = _get(Member, member_id)
    ensure_member(member.id)
    rows = db.scalars(
        select(MemberFigures)
        .where(MemberFigures.member_id == member.id)
        .order_by(MemberFigures.year.desc())
    ).all()
    data = None
    year = _year_arg() or date.today().year - 1
    if request.method == "GET":
        current = next((f for f in rows if f.year == year), None)
        data = {"year": str(year)}
        if current is not None:
            data.update({n: _shown(getattr(current, n)) for n in FIGURE_FIELDS})
    form = FiguresForm(data=data)
    if form.validate_on_submit():
        mark = audit_mark(db)
        values = parsed(form, *FIGURE_FIELDS)
        save_figures(db, member, form.year.parsed, values)
        _saved(db, mark, f"Chiffres {form.year.parsed} de {member.code} enregistrés.")
        return redirect(url_for("admin.member_figures", member_id=member.id))
    return render_template(
        "admin/member_figures.html", member=member, rows=rows, form=form,
        fields=FIGURE_FIELDS, labels=FIGURE_LABELS_FR, editing=year,
    )  # fmt: skip


@bp.route("/mes-chiffres")
@roles_required(M)
def my_figures() -> ResponseReturnValue:
    if current_user.member_id is None:
        abort(403)
    return redirect(url_for("admin.member_figures", member_id=current_user.member_id))


@bp.route("/chiffres")
@roles_required(A, T)
def figures() -> ResponseReturnValue:
    db = get_db()
    latest = db.scalar(select(func.max(MemberFigures.year)))
    year = _year_arg() or latest or date.today().year - 1
    rows = figures_of_year(db, year)
    years = sorted(set(db.scalars(select(MemberFigures.year).distinct())) | {year}, reverse=True)
    missing = sum(1 for r in rows if r.missing)
    return render_template(
        "admin/figures.html", rows=rows, year=year, years=years, fields=FIGURE_FIELDS,
        labels=FIGURE_LABELS_FR, missing=missing,
    )  # fmt: skip


# ------------------------------------------------------------------------------ imports

IMPORTS = {
    "adherents": ("Importer des adhérents", MEMBER_COLUMNS, import_members, ("adhérent", False)),
    "chiffres": ("Importer des chiffres", FIGURE_COLUMNS, import_figures,
                 ("ligne de chiffres", True)),
}


@bp.route("/import/<any(adherents, chiffres):kind>", methods=["GET", "POST"])
@roles_required(A)
def import_file(kind: str) -> ResponseReturnValue:
    title, columns, importer, noun = IMPORTS[kind]
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        db = get_db()
        upload = form.file.data
        try:
            received = receive_upload(upload, accept=TABULAR,
                                      max_bytes=_max_upload())  # fmt: skip
            table = read_table(received.data, received.name, encoding=chosen_encoding(form))
            result = importer(db, table)
        except ImportRefused as refused:
            db.rollback()
            errors = refused.errors
        else:
            db.commit()
            flash(result.summary_fr(noun[0], feminine=noun[1]),
                  "success" if result.changed else "info")
            return redirect(url_for("admin.members" if kind == "adherents" else "admin.figures"))
    status = 200 if not errors else 422
    page = render_template(
        "admin/import.html", form=form, title=title, columns=columns, errors=errors, kind=kind
    )
    return page, status


# ------------------------------------------------------------------------------ services


@bp.route("/services")
@roles_required(A)
def services() -> ResponseReturnValue:
    rows = get_db().scalars(select(Service).order_by(Service.code)).all()
    return render_template("admin/services.html", rows=rows)


SERVICE_FIELDS = ("code", "name", "revenue_account", "expense_account")


def _service_values(form: ServiceForm, with_code: bool) -> dict[str, Any]:
    values = parsed(form, *(SERVICE_FIELDS if with_code else SERVICE_FIELDS[1:]))
    values["overheads_by"] = form.overheads_by.data or None
    values["active"] = bool(form.active.data)
    return values


@bp.route("/services/nouveau", methods=["GET", "POST"])
@roles_required(A)
def service_new() -> ResponseReturnValue:
    form = ServiceForm()
    if form.validate_on_submit():
        db = get_db()
        try:
            service = save_service(db, None, _service_values(form, True))
        except AdminError as error:
            _refused(db, form, error)
        else:
            db.commit()
            flash(f"Service {service.code} créé.", "success")
            return redirect(url_for("admin.services"))
    return render_template("admin/service_form.html", form=form, service=None)


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@roles_required(A)
def service_edit(service_id: int) -> ResponseReturnValue:
    db = get_db()
    service = _get(Service, service_id)
    data = None
    if request.method == "GET":
        data = {n: getattr(service, n) for n in SERVICE_FIELDS}
        data.update(overheads_by=service.overheads_by or "", active=service.active)
    form = ServiceForm(data=data)
    del form.code
    if form.validate_on_submit():
        mark = audit_mark(db)
        save_service(db, service, _service_values(form, False))
        _saved(db, mark, f"Service {service.code} enregistré.")
        return redirect(url_for("admin.services"))
    return render_template("admin/service_form.html", form=form, service=service)


# ------------------------------------------------------------------------------ users


@bp.route("/utilisateurs")
@roles_required(A)
def users() -> ResponseReturnValue:
    db = get_db()
    size = current_app.config.get("PAGE_SIZE", 50)
    total = db.scalar(select(func.count()).select_from(User)) or 0
    page = min(_page(), _pages(total, size))
    rows = db.scalars(
        select(User).order_by(User.active.desc(), User.email).offset((page - 1) * size).limit(size)
    ).all()
    members = dict(db.execute(select(Member.id, Member.code)).all())
    return render_template(
        "admin/users.html", rows=rows, members=members, page=page,
        pages=_pages(total, size), total=total,
    )  # fmt: skip


def _user_form(user: User | None) -> UserForm:
    db = get_db()
    data = None
    if request.method == "GET" and user is not None:
        data = {
            "email": user.email, "name": user.name, "roles": [r.value for r in user.role_set],
            "member": str(user.member_id or ""), "active": user.active,
            "gender": user.gender or "",
        }  # fmt: skip
    form = UserForm(data=data)
    form.member_input = prepare_member_field(  # type: ignore[attr-defined]
        db, form.member, user.member_id if user else None, fill=data is not None
    )
    return form


def _save_user(form: UserForm, user: User | None) -> User | None:
    db = get_db()
    member_id = chosen_member(db, form.member, _int_or_none)
    if member_id is False:
        return None
    mark = audit_mark(db)
    try:
        saved = save_user(
            db, user, actor=current_user, email=form.email.parsed, name=form.name.parsed,
            roles={Role(r) for r in form.roles.data or []},
            member_id=member_id,
            active=bool(form.active.data), password=form.password.data or None,
            gender=form.gender.data or None,
        )  # fmt: skip
    except AdminError as error:
        _refused(db, form, error)
        return None
    _saved(db, mark, f"Utilisateur {saved.email} enregistré.")
    return saved


@bp.route("/utilisateurs/nouveau", methods=["GET", "POST"])
@roles_required(A)
def user_new() -> ResponseReturnValue:
    form = _user_form(None)
    if form.validate_on_submit() and _save_user(form, None) is not None:
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None,
                           member_input=form.member_input)


@bp.route("/utilisateurs/<int:user_id>", methods=["GET", "POST"])
@roles_required(A)
def user_edit(user_id: int) -> ResponseReturnValue:
    user = _get(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit() and _save_user(form, user) is not None:
        return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user,
                           member_input=form.member_input)


# ------------------------------------------------------------------------------ audit log

OBJECT_LINKS = {
    "members": ("admin.member_edit", "member_id"),
    "services": ("admin.service_edit", "service_id"),
    "users": ("admin.user_edit", "user_id"),
}


def _date_arg(name: str) -> date | None:
    value = _arg(name, 30)
    if not value:
        return None
    try:
        return parse_date(value)
    except ImportRefused:
        flash(f"Date « {value[:20]} » illisible : elle est ignorée.", "warning")
        return None


@bp.route("/journal")
@roles_required(A, T)
def audit() -> ResponseReturnValue:
    db = get_db()
    audit_filter = AuditFilter(
        actor=_arg("auteur", 200),
        object_type=_arg("objet", 50),
        action=_arg("action", 50),
        start=_date_arg("du"),
        end=_date_arg("au"),
        object_id=_arg("id", 50),
    )
    size = current_app.config.get("PAGE_SIZE", 50)
    page = _page()
    rows, total = audit_page(db, audit_filter, page, size)
    return render_template(
        "admin/audit.html", rows=rows, total=total, page=page, pages=_pages(total, size),
        args=audit_filter.args(), filter=audit_filter, choices=audit_choices(db),
        actions=ACTION_LABELS, objects=OBJECT_LABELS, links=OBJECT_LINKS, text=audit_text,
    )  # fmt: skip

