"""The ``carrier`` section: the enterprise that carries the shared services and invoices them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.addresses import expand_address, validate_country, validate_postcode
from accounting.ledger.fiscal_year import parse_start_month
from accounting.org import (
    Carrier,
    Member,
    VatRegime,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat_number,
)
from app.configuration.errors import child
from app.configuration.fields import (
    CODE_AND_NAME,
    Errors,
    bic_value,
    choice_field,
    optional_field,
    plain,
    rate_field,
    set_fields,
    text_field,
    wrap,
)
from imports.members import clean_text, normalize_code, parse_email
from imports.parsing import parse_int

#: The carrier's keys and their parsers (``member`` names the member that is the carrier).
CARRIER_FIELDS: dict[str, Callable[[Any], Any]] = {
    **CODE_AND_NAME,
    "address": text_field(2000),
    "postcode": wrap(lambda v: validate_postcode(None if v is None else str(v))),
    "city": wrap(lambda v: clean_text(v, limit=100) or None),
    "country_code": wrap(lambda v: validate_country(None if v is None else str(v))),
    "electronic_address": wrap(lambda v: clean_text(v, limit=120) or None),
    "siren": wrap(optional_field(validate_siren)),
    "siret": wrap(optional_field(validate_siret)),
    "vat_number": wrap(optional_field(validate_vat_number)),
    "iban": wrap(optional_field(validate_iban)),
    "bic": wrap(optional_field(bic_value)),
    "email": wrap(parse_email),
    "vat_regime": choice_field([v.value for v in VatRegime]),
    "vat_exemption_mention": text_field(300, required=True),
    "payment_terms_days": wrap(lambda v: parse_int(v, minimum=0, maximum=60)),
    "late_penalty_rate": wrap(rate_field),
    #: First month of the fiscal year, 1 (January, the default) to 12.
    "fiscal_year_start_month": wrap(parse_start_month),
    #: Code of the member that is the carrier itself (it uses the services too).
    "member": wrap(lambda v: None if v is None else normalize_code(v)),
}


CARRIER_REQUIRED_ON_CREATE = ("code", "name")


def validate_carrier(
    session: Session, raw: Any, errors: Errors, member_codes: set[str]
) -> dict[str, Any]:
    values = errors.fields("carrier", raw, CARRIER_FIELDS)
    if not isinstance(raw, dict):
        return values
    if session.scalar(select(Carrier.id).limit(1)) is None:
        for required in CARRIER_REQUIRED_ON_CREATE:
            if required not in raw:
                errors.add(
                    child("carrier", required), "valeur obligatoire (première configuration)."
                )
    siren, siret = values.get("siren"), values.get("siret")
    if siren and siret and siret[:9] != siren:
        errors.add("carrier.siret", f"le SIRET {siret} ne commence pas par le SIREN {siren}.")
    member = values.get("member")
    if member and member not in member_codes:
        exists = session.scalar(select(Member.id).where(Member.code == member))
        if exists is None:
            errors.add("carrier.member", f"adhérent « {member} » inconnu.")
    return values


def apply_carrier(session: Session, values: dict[str, Any], members: dict[str, Member]) -> None:
    fields = expand_address(dict(values))
    if "member" in fields:
        code = fields.pop("member")
        if code is None:
            fields["member_id"] = None
        else:
            member = (
                members.get(code)
                or session.scalars(select(Member).where(Member.code == code)).one()
            )
            fields["member_id"] = member.id
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).one_or_none()
    if carrier is None:
        session.add(Carrier(**fields))
    else:
        set_fields(carrier, fields)
    session.flush()


def export_carrier(session: Session) -> dict[str, Any] | None:
    """The carrier's fields, its member as a code; None when there is no carrier yet."""
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).one_or_none()
    if carrier is None:
        return None
    data = {name: plain(getattr(carrier, name)) for name in CARRIER_FIELDS if name != "member"}
    data["member"] = carrier.member.code if carrier.member else None
    return data
