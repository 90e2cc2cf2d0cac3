"""The parties of an invoice: the carrier, the members' VAT regimes, the mandatory mentions
and the identities a document copies when it is issued."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounting.invoicing.errors import MissingIdentity
from accounting.invoicing.models import Invoice, VatRegimeRule
from accounting.org import Carrier, Member, Service, VatRegime


def get_carrier(session: Session) -> Carrier:
    """The carrier (one per installation)."""
    carrier = session.scalars(select(Carrier).order_by(Carrier.id).limit(1)).first()
    if carrier is None:
        raise MissingIdentity(
            {"Structure porteuse": ["à créer dans l'administration avant toute facture"]}
        )
    return carrier


def vat_regimes(
    session: Session, carrier: Carrier, member_ids: Iterable[int]
) -> dict[tuple[int, int | None], str]:
    """The rules of these members: (member id, service id or None) → regime."""
    ids = list(set(member_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VatRegimeRule.member_id, VatRegimeRule.service_id, VatRegimeRule.regime).where(
            VatRegimeRule.member_id.in_(ids)
        )
    )
    return {(m, s): regime for m, s, regime in rows}


def resolve_vat_regime(
    rules: Mapping[tuple[int, int | None], str], default: str, member_id: int, service_id: int
) -> str:
    """Member × service rule, else the member's rule for all services, else the carrier's."""
    return rules.get((member_id, service_id)) or rules.get((member_id, None)) or default


def set_vat_regime(
    session: Session, member: Member, service: Service | None, regime: str | None
) -> VatRegimeRule | None:
    """Set (or, with ``regime=None``, remove) the regime of a member for a service (``None``:
    all its services). Drafts already prepared keep theirs until prepared again."""
    if regime is not None:
        regime = VatRegime(regime).value
    service_id = service.id if service else None
    rule = session.scalars(
        select(VatRegimeRule).where(
            VatRegimeRule.member_id == member.id,
            VatRegimeRule.service_id.is_(None)
            if service_id is None
            else VatRegimeRule.service_id == service_id,
        )
    ).one_or_none()
    if regime is None:
        if rule is not None:
            session.delete(rule)
            session.flush()
        return None
    if rule is None:
        rule = VatRegimeRule(member_id=member.id, service_id=service_id, regime=regime)
        session.add(rule)
    else:
        rule.regime = regime
    session.flush()
    return rule


# ============================================================================ identities


def missing_mentions(
    carrier: Carrier, members: Iterable[Member], *, needs_vat_number: bool
) -> dict[str, list[str]]:
    """What the mandatory mentions lack, per party (empty when all is there)."""
    missing: dict[str, list[str]] = {}
    lacks = []
    if not carrier.name.strip():
        lacks.append("raison sociale")
    if not carrier.address.strip():
        lacks.append("adresse")
    if not carrier.siret:
        lacks.append("SIRET")
    if needs_vat_number and not carrier.vat_number:
        lacks.append("numéro de TVA intracommunautaire")
    if lacks:
        missing[f"structure porteuse {carrier.name}".strip()] = lacks
    for member in sorted(members, key=lambda m: m.code):
        lacks = []
        if not member.siret:
            lacks.append("SIRET (donne le SIREN)")
        if not member.address.strip():
            lacks.append("adresse")
        if lacks:
            missing[f"adhérent {member.code} {member.name}"] = lacks
    return missing


def check_mentions(carrier: Carrier, invoices: Sequence[Invoice]) -> None:
    members = {inv.member.id: inv.member for inv in invoices}.values()
    needs_vat = any(
        line.vat_regime == VatRegime.STANDARD for inv in invoices for line in inv.lines
    )
    missing = missing_mentions(carrier, members, needs_vat_number=needs_vat)
    if missing:
        raise MissingIdentity(missing)


def identities(member: Member, carrier: Carrier) -> dict[str, Any]:
    """The parties' identities and terms as the document copies them (frozen at issue)."""
    return {
        "customer_code": member.code,
        "customer_name": member.name,
        "customer_address": member.postal_address.street,
        "customer_postcode": member.postal_address.postcode,
        "customer_city": member.postal_address.city,
        "customer_country": member.postal_address.country_code,
        "customer_electronic_address": ":".join(member.electronic_id or ()) or None,
        "carrier_postcode": carrier.postal_address.postcode,
        "carrier_city": carrier.postal_address.city,
        "carrier_country": carrier.postal_address.country_code,
        "carrier_electronic_address": ":".join(carrier.electronic_id or ()) or None,
        "customer_siret": member.siret,
        "customer_siren": member.siren,
        "customer_vat_number": member.vat_number,
        "carrier_name": carrier.name,
        "carrier_address": carrier.postal_address.street,
        "carrier_siret": carrier.siret,
        "carrier_siren": carrier.siren or (carrier.siret[:9] if carrier.siret else None),
        "carrier_vat_number": carrier.vat_number,
        "carrier_iban": carrier.iban,
        "carrier_bic": carrier.bic,
        "carrier_email": carrier.email,
        "payment_terms_days": carrier.payment_terms_days,
        "late_penalty_rate": carrier.late_penalty_rate,
        "vat_exemption_mention": carrier.vat_exemption_mention,
    }


def snapshot(invoice: Invoice, member: Member, carrier: Carrier) -> None:
    """Copy the parties' identities and terms onto the document (frozen at issue)."""
    for key, value in identities(member, carrier).items():
        setattr(invoice, key, value)
