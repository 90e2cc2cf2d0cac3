"""The organisation: the carrier, its members and their yearly figures, the shared services,
and the people who use the application.

Invariants: a member's code is unique and never reused; a member with records is never
deleted, it leaves (``left_on``); SIRET, SIREN, VAT numbers and IBAN are validated with
python-stdnum before they are stored (the ``validate_*`` functions below, called by every way in:
the admin forms, the imports and the configuration file).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from stdnum import iban as std_iban
from stdnum.eu import vat as std_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as std_siren
from stdnum.fr import siret as std_siret

from accounting.addresses import Address, electronic_address, split_address, structured
from accounting.db import Base, Quantity, utcnow


class OrgError(ValueError):
    """Invalid organisation data (French message, shown as is)."""


class Role(enum.StrEnum):
    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    MEMBER_ACCOUNTANT = "member_accountant"
    DEVELOPER = "developer"
    TREASURER = "treasurer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def cluster_wide(self) -> bool:
        """Whether this role sees every member by itself (see :data:`CLUSTER_WIDE_ROLES`)."""
        return self in CLUSTER_WIDE_ROLES


#: Roles explicitly marked cluster-wide: held beside the member accountant role, they lift its
#: member scope for what they grant (``accounting.authz``). Any other role held beside it (the
#: developer) is narrowed to the member accountant's member.
CLUSTER_WIDE_ROLES = frozenset({Role.ADMIN, Role.ACCOUNTANT, Role.TREASURER})

class Gender(enum.StrEnum):
    """The optional civility of a user: the words of their titles agree with it."""

    FEMALE = "female"
    MALE = "male"


#: Titles of a woman (the default ones are those of a man or of an unknown civility).
FEMININE_ROLE_LABELS = {
    "admin": "Coordination (administratrice)",
    "accountant": "Comptable mutualisée",
    "member_accountant": "Comptable d'un adhérent",
    "developer": "Chargée de développement",
    "treasurer": "Trésorière",
}

ROLE_LABELS = {
    Role.ADMIN: "Coordination (administrateur)",
    Role.ACCOUNTANT: "Comptable mutualisé",
    Role.MEMBER_ACCOUNTANT: "Comptable d'un adhérent",
    Role.DEVELOPER: "Chargé de développement",
    Role.TREASURER: "Trésorier",
}


class VatRegime(enum.StrEnum):
    #: VAT at the standard rate (20 %).
    STANDARD = "standard"
    #: Cost-sharing grouping exemption, CGI art. 261 B.
    EXEMPT_261B = "exempt_261b"

    @property
    def label(self) -> str:
        return {
            VatRegime.STANDARD: "TVA 20 %",
            VatRegime.EXEMPT_261B: "Exonération art. 261 B du CGI",
        }[self]


DEFAULT_EXEMPTION_MENTION = "Exonération de TVA – article 261 B du CGI"


def clean_digits(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = "".join(ch for ch in value if not ch.isspace() and ch not in ".-")
    return cleaned or None


def _checked(
    value: str | None, validate: Callable[[str], str], message: str, *, upper: bool = False
) -> str | None:
    """Clean a number, validate it with python-stdnum, and raise OrgError with ``message``
    (``{value}`` is the cleaned text) when it is wrong; an empty value stays None."""
    value = clean_digits(value)
    if value is None:
        return None
    try:
        return validate(value.upper() if upper else value)
    except StdnumError as exc:
        raise OrgError(message.format(value=value)) from exc


def validate_siren(value: str | None) -> str | None:
    return _checked(value, std_siren.validate, "SIREN invalide : « {value} »")


def validate_siret(value: str | None) -> str | None:
    return _checked(
        value, std_siret.validate, "SIRET invalide : « {value} » (14 chiffres, clé de contrôle)"
    )


def validate_vat_number(value: str | None) -> str | None:
    return _checked(
        value, std_vat.validate, "Numéro de TVA intracommunautaire invalide : « {value} »",
        upper=True,
    )


def validate_iban(value: str | None) -> str | None:
    return _checked(value, std_iban.validate, "IBAN invalide : « {value} »", upper=True)


class Carrier(Base):
    """The legal entity that employs the shared staff and re-invoices (one per installation)."""

    __tablename__ = "carriers"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code used for the member-side supplier account (401 + code).
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    #: Street lines (a free text with « 01600 Trévoux » at the end is split on assignment).
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[Optional[str]] = mapped_column(String(10))
    city: Mapped[Optional[str]] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(String(2), default="FR", server_default="FR")
    #: BT-34, ``SCHEME:ID``; empty: ``0225:<SIREN>``.
    electronic_address: Mapped[Optional[str]] = mapped_column(String(120))
    siren: Mapped[Optional[str]] = mapped_column(String(9))
    siret: Mapped[Optional[str]] = mapped_column(String(14))
    vat_number: Mapped[Optional[str]] = mapped_column(String(20))
    iban: Mapped[Optional[str]] = mapped_column(String(34))
    bic: Mapped[Optional[str]] = mapped_column(String(11))
    email: Mapped[Optional[str]] = mapped_column(String(200))
    #: Default VAT regime of invoice lines (a member and service may override it).
    vat_regime: Mapped[str] = mapped_column(String(20), default=VatRegime.STANDARD)
    #: The exemption's legal wording is a setting: the tax code's numbering may change.
    vat_exemption_mention: Mapped[str] = mapped_column(
        String(300), default=DEFAULT_EXEMPTION_MENTION
    )
    #: Days between invoice date and due date (at most 60, Code de commerce L441-10).
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    #: Annual late-payment penalty rate, percent.
    late_penalty_rate: Mapped[Decimal] = mapped_column(default=Decimal("12.00"))
    #: First month of the fiscal year (1 = January: the calendar year; 9 = September, closing
    #: on 31 August). The ledger's years follow it: see ``accounting.ledger.fiscal_year``.
    fiscal_year_start_month: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Days after the due date when an unpaid invoice gets its first and second reminder.
    reminder_first_days: Mapped[int] = mapped_column(default=15, server_default="15")
    reminder_second_days: Mapped[int] = mapped_column(default=30, server_default="30")
    #: The carrier is a member too when it uses the services; it is never invoiced to itself.
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"))

    member: Mapped[Optional[Member]] = relationship()

    __table_args__ = (
        CheckConstraint("payment_terms_days BETWEEN 0 AND 60", name="payment_terms"),
        CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_year_start"),
    )

    @property
    def postal_address(self) -> Address:
        return structured(self.address, self.postcode, self.city, self.country_code)

    @property
    def electronic_id(self) -> tuple[str, str] | None:
        return electronic_address(self.electronic_address, self.siren)


class Member(Base):
    """An enterprise of the cluster that uses the shared services."""

    __tablename__ = "members"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(100), default="")
    siret: Mapped[Optional[str]] = mapped_column(String(14))
    vat_number: Mapped[Optional[str]] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[Optional[str]] = mapped_column(String(10))
    city: Mapped[Optional[str]] = mapped_column(String(100))
    country_code: Mapped[str] = mapped_column(String(2), default="FR", server_default="FR")
    #: BT-49, ``SCHEME:ID``; empty: ``0225:<SIREN>``.
    electronic_address: Mapped[Optional[str]] = mapped_column(String(120))
    billing_email: Mapped[Optional[str]] = mapped_column(String(200))
    #: First and last day of membership, both inclusive.
    joined_on: Mapped[date]
    left_on: Mapped[Optional[date]]

    figures: Mapped[list[MemberFigures]] = relationship(
        back_populates="member", order_by="MemberFigures.year"
    )

    __table_args__ = (
        CheckConstraint("left_on IS NULL OR left_on >= joined_on", name="membership_dates"),
    )

    @property
    def siren(self) -> str | None:
        return self.siret[:9] if self.siret else None

    @property
    def postal_address(self) -> Address:
        return structured(self.address, self.postcode, self.city, self.country_code)

    @property
    def electronic_id(self) -> tuple[str, str] | None:
        return electronic_address(self.electronic_address, self.siren)

    def active_days(self, start: date, end: date) -> int:
        """Days of membership inside [start, end], both inclusive."""
        first = max(start, self.joined_on)
        last = min(end, self.left_on) if self.left_on else end
        return max(0, (last - first).days + 1)

    def is_active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)

    def __repr__(self) -> str:
        return f"<Member {self.code}>"


def _split_on_set(target: Carrier | Member, value: str | None, *_: object) -> str | None:
    """An address typed as one text (form, configuration file, import) whose last lines read
    « 01600 Trévoux » [« France »] is stored structured: street lines, postcode, city."""
    found = split_address(value)
    if found is None:
        return value
    target.postcode = found.postcode
    target.city = found.city
    target.country_code = found.country_code
    return found.street


event.listen(Carrier.address, "set", _split_on_set, retval=True)
event.listen(Member.address, "set", _split_on_set, retval=True)


class MemberFigures(Base):
    """A member's figures for one fiscal year. A figure not known stays NULL: never invented."""

    __tablename__ = "member_figures"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    year: Mapped[int]
    revenue: Mapped[Optional[Decimal]]
    #: Full-time equivalents.
    headcount: Mapped[Optional[Decimal]] = mapped_column(Quantity())
    insertion_workers: Mapped[Optional[int]]
    volunteers: Mapped[Optional[int]]

    member: Mapped[Member] = relationship(back_populates="figures")

    __table_args__ = (
        UniqueConstraint("member_id", "year"),
        CheckConstraint("revenue IS NULL OR revenue >= 0", name="revenue_positive"),
        CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount_positive"),
    )


class Service(Base):
    """A pooled service whose net cost is allocated across the members."""

    __tablename__ = "services"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Carrier's revenue account credited when the service is re-invoiced (706 / 708x).
    revenue_account: Mapped[str] = mapped_column(String(20), default="706000")
    #: Member-side expense account debited in the members' own books (6214, 6226, ...).
    expense_account: Mapped[str] = mapped_column(String(20), default="6226")
    #: Set on the overheads service: its pool is stepped down onto the other services by
    #: ``costs`` or ``hours`` before the member allocation.
    overheads_by: Mapped[Optional[str]] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint(
            "overheads_by IS NULL OR overheads_by IN ('costs', 'hours')", name="overheads_by"
        ),
    )

    def __repr__(self) -> str:
        return f"<Service {self.code}>"


#: Module-level so tests can swap in cheap parameters; argon2id defaults in production.
PASSWORD_HASHER = PasswordHasher()


class User(Base):
    """A person who logs in. Roles combine; a member accountant is scoped to one member."""

    __tablename__ = "users"
    __audited__ = True
    #: Never copy the password hash into the audit log.
    #: The login bookkeeping is not a change of the user: a login is its own audit event
    #: (« Connexion », recorded by the login page).
    __audit_exclude__ = frozenset({"password_hash", "last_login_at", "failed_logins"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    #: Space-separated role codes (see Role).
    roles: Mapped[str] = mapped_column(String(200), default="")
    #: The one member a member accountant works for.
    member_id: Mapped[Optional[int]] = mapped_column(ForeignKey("members.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[Optional[datetime]]
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[Optional[datetime]]
    #: Optional civility (:class:`Gender` value): « Chargée » or « Chargé de développement ».
    gender: Mapped[Optional[str]] = mapped_column(String(10))

    member: Mapped[Optional[Member]] = relationship()

    def role_title(self, role: Role) -> str:
        """The title of ``role`` in words that agree with the user's civility."""
        if self.gender == Gender.FEMALE.value:
            return FEMININE_ROLE_LABELS[role.value]
        return role.label

    @property
    def role_titles(self) -> list[str]:
        return [self.role_title(role) for role in sorted(self.role_set)]

    # Flask-Login's user protocol, written out so that the domain needs no Flask import.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(code) for code in self.roles.split() if code)

    @role_set.setter
    def role_set(self, roles: set[Role] | frozenset[Role] | list[Role]) -> None:
        self.roles = " ".join(sorted(Role(r).value for r in roles))

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def sees_all_members(self) -> bool:
        """Whether no member scope applies whatever the action: not a member accountant, or
        also holding a cluster-wide role. A member accountant who is also (say) developer
        sees their own member only (issue 13); ``accounting.authz`` refines this per action."""
        held = self.role_set
        return Role.MEMBER_ACCOUNTANT not in held or bool(held & CLUSTER_WIDE_ROLES)

    def set_password(self, password: str) -> None:
        self.password_hash = PASSWORD_HASHER.hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            return PASSWORD_HASHER.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def __repr__(self) -> str:
        return f"<User {self.email}>"
