"""The chart of accounts and the journals: PCG defaults, created when first needed.

Design: an account number is a text whose first three characters are PCG digits (``411VH01``
is the auxiliary account of member VH01 under 411 « Clients »). Accounts and journals are rows
the admin may relabel; the application creates the ones it needs when it first posts to them
(a member's 411 account, a service's revenue account, a cost's 6xx account), with the PCG label
of the longest matching prefix, so posting never fails for want of a chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from accounting.audit import record_audit, record_audits
from accounting.ledger.errors import InvalidAccount
from accounting.ledger.models import Account, Journal
from accounting.ledger.pcg import PCG_INCOME_STATEMENT
from accounting.org import Carrier, Member, Service

#: The journals of the carrier's books. AN (à-nouveaux) only appears in the FEC, where the
#: opening balances come first.
DEFAULT_JOURNALS: dict[str, str] = {
    "VT": "Ventes",
    "BQ": "Banque",
    "HA": "Achats",
    "OD": "Opérations diverses",
    "PA": "Paie",
}
OPENING_JOURNAL = ("AN", "À nouveaux")

#: Accounts the postings use.
CUSTOMERS = "411"
SUPPLIERS = "401000"
BANK = "512000"
VAT_COLLECTED = "445710"
VAT_DEDUCTIBLE = "445660"
SUBSIDIES_RECEIVABLE = "441000"
#: Payroll: net pay owed to the staff, and the social bodies (URSSAF; the others).
WAGES_PAYABLE = "421000"
SOCIAL_SECURITY = "431000"
OTHER_SOCIAL_BODIES = "437000"
#: Cut-off: services of the year to invoice (4181 + member code), credit notes to issue
#: (4198 + member code: a true-up that will pay back calls above the year's share), and
#: their VAT.
INVOICES_TO_ISSUE = "4181"
CREDIT_NOTES_TO_ISSUE = "4198"
VAT_TO_INVOICE = "445870"
#: An imported entry whose balance-sheet lines add up to zero (its costs offset one another):
#: each cost's remainder, which clears within the entry. Several counterparts are split
#: (:mod:`accounting.counterpart_split`), never parked here.
SUSPENSE = "471000"
RETAINED_EARNINGS = "110000"
DEFAULT_SUBSIDY = "740000"

#: PCG labels by prefix (the longest matching prefix names an account created on the fly).
PCG_LABELS: dict[str, str] = {
    "1": "Capitaux",
    "110": "Report à nouveau",
    "119": "Report à nouveau (solde débiteur)",
    "120": "Résultat de l'exercice",
    "129": "Résultat de l'exercice (perte)",
    "2": "Immobilisations",
    "4": "Tiers",
    "401": "Fournisseurs",
    "411": "Clients",
    "418": "Clients – produits non encore facturés",
    "4181": "Clients – factures à établir",
    "4191": "Clients – avances et acomptes reçus sur commandes",
    "4198": "Rabais, remises, ristournes à accorder et autres avoirs à établir",
    "421": "Personnel – rémunérations dues",
    "43": "Sécurité sociale et autres organismes sociaux",
    "431": "Sécurité sociale",
    "437": "Autres organismes sociaux",
    "441": "État – subventions à recevoir",
    "4456": "TVA déductible",
    "44566": "TVA déductible sur autres biens et services",
    "4457": "TVA collectée",
    "445710": "TVA collectée",
    "44587": "Taxes sur le chiffre d'affaires sur factures à établir",
    "47": "Comptes transitoires ou d'attente",
    "471": "Compte d'attente",
    "5": "Financier",
    "512": "Banque",
    "530": "Caisse",
    "6": "Charges",
    "60": "Achats",
    "61": "Services extérieurs",
    "62": "Autres services extérieurs",
    "64": "Charges de personnel",
    "65": "Autres charges de gestion courante",
    "67": "Charges exceptionnelles",
    "69": "Impôts sur les bénéfices",
    "601": "Achats stockés – matières premières",
    "604": "Achats d'études et prestations de services",
    "606": "Achats non stockés",
    "6061": "Fournitures non stockables (eau, énergie)",
    "6064": "Fournitures administratives",
    "611": "Sous-traitance générale",
    "613": "Locations",
    "6132": "Locations immobilières",
    "6135": "Locations mobilières",
    "614": "Charges locatives et de copropriété",
    "615": "Entretien et réparations",
    "616": "Primes d'assurance",
    "618": "Divers (documentation, colloques)",
    "621": "Personnel extérieur à l'entité",
    "6214": "Personnel détaché ou prêté à l'entité",
    "622": "Rémunérations d'intermédiaires et honoraires",
    "6226": "Honoraires",
    "623": "Publicité, publications, relations publiques",
    "624": "Transports de biens et transports collectifs du personnel",
    "625": "Déplacements, missions et réceptions",
    "6251": "Voyages et déplacements",
    "626": "Frais postaux et de télécommunications",
    "627": "Services bancaires et assimilés",
    "628": "Divers (cotisations)",
    "63": "Impôts, taxes et versements assimilés",
    "641": "Rémunérations du personnel",
    "6411": "Salaires, appointements",
    "645": "Charges de sécurité sociale et de prévoyance",
    "6451": "Cotisations à l'URSSAF",
    "647": "Autres charges sociales",
    "648": "Autres charges de personnel",
    "651": "Redevances pour concessions, brevets, licences, logiciels",
    "66": "Charges financières",
    "68": "Dotations aux amortissements et provisions",
    "7": "Produits",
    "70": "Ventes de produits fabriqués, prestations de services, marchandises",
    "76": "Produits financiers",
    "77": "Produits exceptionnels",
    "78": "Reprises sur amortissements et provisions",
    "79": "Transferts de charges",
    "706": "Prestations de services",
    "708": "Produits des activités annexes",
    "7084": "Mise à disposition de personnel facturée",
    "7088": "Autres produits d'activités annexes",
    "74": "Subventions d'exploitation",
    "75": "Autres produits de gestion courante",
}

for _number, _label in PCG_INCOME_STATEMENT.items():
    PCG_LABELS.setdefault(_number, _label)
PCG_LABELS.update({"42": "Personnel et comptes rattachés",
                   "428": "Personnel – charges à payer et produits à recevoir"})  # fmt: skip

#: The accounts a new installation starts with (the 411 of each member come when needed).
DEFAULT_ACCOUNTS: tuple[str, ...] = (
    SUPPLIERS, BANK, VAT_COLLECTED, VAT_DEDUCTIBLE, SUBSIDIES_RECEIVABLE, "706000", "708400",
    "708800", DEFAULT_SUBSIDY, "606400", "613200", "616000", "622600", "625100", "626000",
    "627000", "641100", "645100", "651000", WAGES_PAYABLE, SOCIAL_SECURITY, OTHER_SOCIAL_BODIES,
)  # fmt: skip

_NUMBER = re.compile(r"^[0-9]{3}[0-9A-Za-z_.-]{0,17}$")


def pcg_label(number: str) -> str:
    """The PCG label of the longest prefix of ``number`` (``641100`` -> « Salaires... »)."""
    for length in range(len(number), 0, -1):
        label = PCG_LABELS.get(number[:length])
        if label:
            return label
    return f"Compte {number}"


def check_account_number(number: str) -> str:
    """``number`` stripped, or ``InvalidAccount`` (three PCG digits first, 20 characters)."""
    number = (number or "").strip()
    if not _NUMBER.match(number):
        raise InvalidAccount(
            f"Numéro de compte « {number} » refusé : trois chiffres du plan comptable d'abord "
            "(ex. 641100, 411VH01), 20 caractères au plus, sans espace."
        )
    return number


def member_account_number(member: Member) -> str:
    """The auxiliary customer account of a member: 411 + its code."""
    return check_account_number(CUSTOMERS + member.code.replace(" ", ""))


def carrier_supplier_account(carrier: Carrier) -> str:
    """The carrier as a supplier in a member's books: 401 + the carrier's code."""
    return check_account_number("401" + (carrier.code or "").replace(" ", ""))


def ensure_journal(session: Session, code: str) -> Journal:
    """The journal ``code``, created with its default label when missing (flushes)."""
    journal = session.get(Journal, code)
    if journal is None:
        values = {"code": code, "label": DEFAULT_JOURNALS.get(code, code)}
        _insert_missing(session, Journal, values, "code")
        journal = session.get(Journal, code)
        assert journal is not None
    return journal


def _insert_missing(session: Session, model: Any, values: dict[str, Any], key: str) -> None:
    """``INSERT … ON CONFLICT DO NOTHING``: two transactions creating the same row at once both
    go on (a plain insert would fail the second one with a duplicate key), audited like an
    ORM insert."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(
        insert(model).values(**values).on_conflict_do_nothing(index_elements=[key])
    )
    if result.rowcount:
        record_audit(session, "create", model.__tablename__, values[key], after=values)


def ensure_account(
    session: Session, number: str, label: str | None = None, member: Member | None = None
) -> Account:
    """The account ``number``, created when missing with ``label`` (or its PCG label)."""
    number = check_account_number(number)
    query = select(Account).where(Account.number == number)
    account = session.scalars(query).one_or_none()
    if account is None:
        _insert_missing(session, Account, {
            "number": number, "label": (label or pcg_label(number))[:200],
            "member_id": member.id if member is not None else None, "active": True,
        }, "number")  # fmt: skip
        account = session.scalars(query).one()
    return account


def ensure_accounts(session: Session, specs: Iterable[Any], members: dict[int, Member]) -> None:
    """:func:`ensure_account` for the accounts of many lines to post (``LineSpec``: account,
    account_label, member_id), in one read and one multi-row ``INSERT … ON CONFLICT DO
    NOTHING … RETURNING`` (each account created is audited as :func:`ensure_account` does)."""
    wanted: dict[str, dict[str, Any]] = {}
    for spec in specs:
        number = check_account_number(spec.account)
        if number not in wanted:
            member = members.get(spec.member_id) if spec.member_id else None
            wanted[number] = {
                "number": number, "label": (spec.account_label or pcg_label(number))[:200],
                "member_id": member.id if member is not None else None, "active": True,
            }  # fmt: skip
    numbers = list(wanted)
    existing: set[str] = set()
    for start in range(0, len(numbers), 500):
        existing.update(
            session.scalars(
                select(Account.number).where(Account.number.in_(numbers[start : start + 500]))
            )
        )
    missing = [wanted[n] for n in numbers if n not in existing]
    if not missing:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(missing), 200):
        chunk = missing[start : start + 200]
        created = session.scalars(
            insert(Account).values(chunk).on_conflict_do_nothing(index_elements=["number"])
            .returning(Account.number)
        ).all()
        record_audits(session, "create", Account.__tablename__,
                      [(number, wanted[number]) for number in created])  # fmt: skip


def ensure_member_account(session: Session, member: Member) -> Account:
    return ensure_account(session, member_account_number(member), member.name, member)


def seed_chart(session: Session, services: Iterable[Service] = ()) -> int:
    """Create the default journals and accounts (and the services' revenue accounts) that do
    not exist yet; returns how many accounts were created. Existing labels are kept."""
    for code in DEFAULT_JOURNALS:
        ensure_journal(session, code)
    existing = set(session.scalars(select(Account.number)))
    created = 0
    wanted = list(DEFAULT_ACCOUNTS)
    wanted += [service.revenue_account for service in services]
    for number in wanted:
        if number not in existing:
            ensure_account(session, number)
            existing.add(number)
            created += 1
    return created


def rename_account(session: Session, account: Account, label: str) -> Account:
    """Relabel an account (the admin's edit; audited by the session hook)."""
    label = (label or "").strip()
    if not label:
        raise InvalidAccount("Le libellé du compte est obligatoire.")
    account.label = label[:200]
    session.flush()
    return account


def rename_journal(session: Session, journal: Journal, label: str) -> Journal:
    label = (label or "").strip()
    if not label:
        raise InvalidAccount("Le libellé du journal est obligatoire.")
    journal.label = label[:100]
    session.flush()
    return journal
