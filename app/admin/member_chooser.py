"""The member field of the administration's forms (the carrier, a user): a select while the
members are few, a text input with suggestions beyond (the timesheet and invoice pages'
pattern, :data:`timesheets.listing.MEMBER_SELECT_LIMIT`).

Why: a select of 1 000 members is 1 000 options built and escaped per view (about half of
those pages' time at 1 000 members) for a choice typed in a few letters. The text input shows
« CODE — Nom », its suggestions load from ``/temps/adherents.json`` when it first gets the
focus (``static/timesheets.js``), and the server reads a code, « CODE — Nom » or an id
(:func:`timesheets.listing.member_by_reference`). An unknown member is an error on the field,
named by its label, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounting.org import Member
from timesheets.errors import InvalidEntry
from timesheets.listing import COMMON, MEMBER_SELECT_LIMIT, member_by_reference, member_labels

#: Marks a field switched to the text input (read by :func:`chosen_member`).
TEXT_MODE = "member_text_mode"


class MemberTextInput:
    """A WTForms widget: a text input bound to a datalist filled by ``timesheets.js``."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        extra = "".join(
            f' {escape(k.replace("_", "-"))}="{escape(v)}"' for k, v in kwargs.items()
        )
        return Markup(
            f'<input type="text" id="{escape(field.id)}" name="{escape(field.name)}" '
            f'value="{escape(field.data or "")}" list="{escape(field.id)}-choix" '
            'autocomplete="off" spellcheck="false" class="member-input" '
            f'placeholder="Code ou nom (vide : aucun)" '
            f'data-options-url="{escape(url_for("timesheets.member_choices"))}"{extra}>'
            f'<datalist id="{escape(field.id)}-choix"></datalist>'
        )


def prepare_member_field(
    db: Session, field: Any, current_id: int | None, *, fill: bool, none_label: str = "— aucun —"
) -> bool:
    """Give ``field`` (a SelectField, ``validate_choice=False``) its members as choices while
    they are few, or turn it into a text input beyond; ``fill``: show ``current_id`` (a GET of
    an existing object). Returns whether the text input is used (the page then loads
    ``timesheets.js``)."""
    count = db.scalar(select(func.count(Member.id))) or 0
    if count <= MEMBER_SELECT_LIMIT:
        rows = db.execute(select(Member.id, Member.code, Member.name).order_by(Member.code))
        field.choices = [("", none_label)] + [(str(m.id), f"{m.code} — {m.name}") for m in rows]
        if fill:
            field.data = str(current_id or "")
        return False
    field.choices = []
    field.widget = MemberTextInput()
    setattr(field, TEXT_MODE, True)
    if fill:
        field.data = member_labels(db, [current_id]).get(current_id, "") if current_id else ""
    return True


def chosen_member(db: Session, field: Any, as_id: Any) -> int | bool | None:
    """The member id ``field`` holds (None: none chosen). In text mode an unknown or
    unreadable member adds a French error naming the field and returns False (the caller saves
    nothing); in select mode ``as_id`` reads the select's value as before."""
    if not getattr(field, TEXT_MODE, False):
        return as_id(field.data)
    text = str(field.data or "")
    try:
        member = member_by_reference(db, text)
    except InvalidEntry as error:
        field.errors = [*field.errors, f"{field.label.text} : {error}"]
        return False
    if member == COMMON:
        wrong = f"choisissez un adhérent, pas « {text.strip()} »."
        field.errors = [*field.errors, f"{field.label.text} : {wrong}"]
        return False
    return None if member is None else int(member)
