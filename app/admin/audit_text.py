"""The audit log in French words: event kinds, field labels and values as people read them.

The log stores raw column names and JSON values (``last_login_at``, ``"2026-12-02T13:05:41.
123456+00:00"``, ``status: draft → submitted``); the page shows « Dernière connexion »,
« 02/12/2026 14:05 » (Europe/Paris) and « Statut : brouillon → soumise ». A login is its own
kind of event (« Connexion »), including the old rows where it was recorded as a change of the
user's last login date.

Every column of every audited model has a label (a test walks the models); an unknown name
(a column added later) is shown as itself rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from accounting.wording import STATE_KIND_OF_TABLE, STATES, state_word
from app.formatting import date_fr, number

ACTION_LABELS = {
    "create": "Création", "update": "Modification", "delete": "Suppression",
    "import": "Import", "setup": "Configuration", "generate": "Génération (démo)",
    "password_change": "Changement de mot de passe", "password_reset": "Mot de passe réinitialisé",
    "login": "Connexion", "lock": "Compte verrouillé", "approve": "Approbation",
    "issue": "Émission", "close": "Clôture", "post": "Écriture passée", "reopen": "Réouverture",
    "store": "Enregistrement", "prepare": "Préparation", "approve_month": "Validation du mois",
    "credit": "Avoir", "replace": "Remplacement", "override": "Dérogation",
    "submit": "Soumission", "send_back": "Renvoi", "logout_everywhere": "Déconnexion partout",
    "revoke": "Révocation",
}  # fmt: skip

OBJECT_LABELS = {
    "account_mappings": "Correspondance de comptes",
    "api_tokens": "Jeton d'API",
    "members": "Adhérent", "member_figures": "Chiffres d'adhérent", "services": "Service",
    "users": "Utilisateur", "carriers": "Structure porteuse", "work_entries": "Saisie de temps",
    "activities": "Activité", "unit_types": "Unité d'œuvre", "costs": "Charge",
    "subsidies": "Subvention", "periods": "Période", "configuration": "Configuration",
    "allocation_keys": "Clé de répartition", "allocation_runs": "Répartition",
    "invoices": "Facture", "payments": "Paiement", "journal_entries": "Écriture",
    "accounts": "Compte", "credit_notes": "Avoir", "payment_allocations": "Lettrage",
    "journals": "Journal", "import_mappings": "Correspondance d'import",
    "vat_regime_rules": "Régime de TVA", "fec_cost_rules": "Règle d'import FEC",
    "period_corrections": "Correction de période", "sessions": "Session",
    "budgets": "Budget", "budget_lines": "Ligne de budget", "call_schedules": "Calendrier d'appels",
    "true_ups": "Régularisation annuelle",
}  # fmt: skip

FIELD_LABELS = {
    # the year's cash (issue 19): budgets, calls, true-ups
    "role": "Rôle du document", "revision": "Révision", "call_key": "Clé des appels",
    "created_by": "Créé par", "budget_id": "Budget", "frequency": "Fréquence des appels",
    "catch_up": "Rattrapage d'une révision", "round": "Tour", "run_id": "Répartition",
    "done_at": "Fait le", "done_by": "Fait par",
    # the books (issue 15): cost kinds, payroll, suppliers, account mapping
    "target": "Compte cible", "counterpart": "Contrepartie", "journal_code": "Journal",
    "nature": "Type de charge", "net_pay": "Salaire net", "social_account": "Compte social",
    "social_paid_on": "Cotisations payées le", "supplier_code": "Code fournisseur",
    # addresses frozen on an issued document
    "carrier_city": "Ville de la structure", "carrier_country": "Pays de la structure",
    "carrier_postcode": "Code postal de la structure",
    "carrier_electronic_address": "Adresse électronique de la structure",
    "customer_city": "Ville du client", "customer_country": "Pays du client",
    "customer_postcode": "Code postal du client",
    "customer_electronic_address": "Adresse électronique du client",
    "user_id": "Utilisateur",
    # structured addresses, reminders (Factur-X and delivery), API tokens
    "postcode": "Code postal", "city": "Ville", "country_code": "Pays",
    "electronic_address": "Adresse électronique (facturation)",
    "reminder_first_days": "Première relance (jours après l'échéance)",
    "reminder_second_days": "Seconde relance (jours après l'échéance)",
    "token_hash": "Empreinte du jeton", "prefix": "Début du jeton", "read_only": "Lecture seule",
    "expires_at": "Expire le", "last_used_at": "Dernière utilisation",
    "revoked_at": "Révoqué le",
    # people and members
    "id": "Identifiant", "code": "Code", "name": "Nom", "email": "Adresse e-mail",
    "roles": "Rôles", "active": "Actif", "gender": "Civilité", "member_id": "Adhérent",
    "last_login_at": "Dernière connexion", "failed_logins": "Échecs de connexion",
    "locked_until": "Verrouillé jusqu'au", "created_at": "Créé le", "created_by_id": "Créé par",
    "updated_at": "Modifié le", "updated_by_id": "Modifié par", "legal_form": "Forme juridique",
    "siren": "SIREN", "siret": "SIRET", "vat_number": "N° de TVA", "address": "Adresse",
    "billing_email": "E-mail de facturation", "joined_on": "Adhésion le",
    "left_on": "Départ le", "iban": "IBAN", "bic": "BIC", "vat_regime": "Régime de TVA",
    "regime": "Régime de TVA", "vat_exemption_mention": "Mention d'exonération de TVA",
    "payment_terms_days": "Délai de paiement (jours)", "late_penalty_rate": "Taux des pénalités",
    "fiscal_year_start_month": "Premier mois de l'exercice", "year": "Année",
    "revenue": "Chiffre d'affaires", "headcount": "Effectif",
    "insertion_workers": "Salariés en insertion", "volunteers": "Bénévoles",
    # services and time
    "service_id": "Service", "revenue_account": "Compte de produits",
    "expense_account": "Compte de charges", "overheads_by": "Frais de structure répartis par",
    "staff_id": "Intervenant", "day": "Jour", "minutes": "Durée", "activity_id": "Activité",
    "unit_type_id": "Unité d'œuvre", "quantity": "Quantité", "note": "Commentaire",
    "status": "Statut", "review_comment": "Commentaire de validation",
    "import_key": "Clé d'import", "weight": "Pondération",
    # allocation
    "period_id": "Période", "total": "Total", "inputs": "Données de calcul",
    "input_digests": "Empreintes des données de calcul",
    "approved_at": "Approuvée le", "approved_by_id": "Approuvée par",
    "valid_from": "En vigueur le",
    "text": "Clé", "agreed_on": "Convenue le", "agreed_by": "Convenue par", "kind": "Nature",
    "start": "Début", "end": "Fin", "closed_at": "Clôturée le", "closed_by_id": "Clôturée par",
    # costs, invoices, payments, ledger
    "amount": "Montant", "account": "Compte", "label": "Libellé", "party": "Tiers",
    "reference": "Référence", "attachment_name": "Pièce jointe", "carrier_id": "Structure",
    "original_id": "Facture d'origine", "reason": "Motif", "number": "Numéro",
    "sequence": "N° d'ordre", "issue_date": "Date d'émission", "due_date": "Échéance",
    "service_start": "Début de la prestation", "service_end": "Fin de la prestation",
    "customer_code": "Code client", "customer_name": "Client",
    "customer_address": "Adresse du client", "customer_siren": "SIREN du client",
    "customer_siret": "SIRET du client", "customer_vat_number": "N° de TVA du client",
    "carrier_name": "Structure porteuse", "carrier_address": "Adresse de la structure",
    "carrier_siren": "SIREN de la structure", "carrier_siret": "SIRET de la structure",
    "carrier_vat_number": "N° de TVA de la structure", "carrier_iban": "IBAN de la structure",
    "carrier_bic": "BIC de la structure", "carrier_email": "E-mail de la structure",
    "total_excl_tax": "Total HT", "total_vat": "TVA", "total_incl_tax": "Total TTC",
    "amount_paid": "Montant payé", "amount_credited": "Montant crédité",
    "issued_at": "Émise le", "issued_by": "Émise par", "payment_id": "Paiement",
    "invoice_id": "Facture", "paid_on": "Payé le", "method": "Mode de paiement",
    "source": "Source", "external": "Nom d'origine", "target_id": "Cible",
    "pattern": "Motif reconnu", "position": "Ordre",
    # corrections of an invoiced period
    "replaces_id": "Remplace la répartition", "replace_reason": "Motif du remplacement",
    "replaced_at": "Remplacée le", "work_override": "Temps non validés acceptés (motif)",
    "corrects_id": "Corrige la facture", "opened_at": "Rouverte le",
    "opened_by_id": "Rouverte par",
}  # fmt: skip

#: Words of the stored values, per field. The states come from the one table
#: (accounting/wording.py:STATES), of the object's kind (:func:`value_text`'s ``table``); this
#: merged one is for a table without states of its own (a time entry's « validée » wins).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "status": {status: word for kind in ("run", "period", "invoice", "entry")
               for status, word in STATES[kind].items()},
    "kind": {
        "invoice": "facture", "credit_note": "avoir", "month": "mois", "quarter": "trimestre",
        "year": "année", "cost": "charge", "subsidy": "subvention",
    },
    "method": {
        "transfer": "virement", "direct_debit": "prélèvement", "cheque": "chèque",
        "cash": "espèces",
    },
    "roles": {
        "admin": "administrateur", "accountant": "comptable",
        "developer": "chargé de développement", "treasurer": "trésorier",
        "member_accountant": "comptable d'adhérent",
    },
    "gender": {"female": "Madame", "male": "Monsieur"},
}  # fmt: skip

#: The fields a login changes on the user: such an update is shown as a login.
_LOGIN_FIELDS = frozenset({"last_login_at", "failed_logins", "locked_until"})


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def _moment(text: str) -> str | None:
    """An ISO date or date-time as « 02/12/2026 » or « 02/12/2026 14:05 » (Paris time)."""
    if len(text) < 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        if len(text) == 10:
            return date_fr(date.fromisoformat(text))
        return date_fr(datetime.fromisoformat(text))
    except ValueError:
        return None


def value_text(name: str, value: Any, table: str | None = None) -> str:
    """A stored value as people read it: « — » for nothing, oui / non, dates in French,
    states in words (those of the ``table``'s kind of object), durations in hours, amounts
    with a decimal comma."""
    if value is None or value == "":
        return "—"
    if name == "status" and table in STATE_KIND_OF_TABLE and isinstance(value, str):
        return state_word(STATE_KIND_OF_TABLE[table], value, capital=False)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(value_text(name, v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{field_label(k)} : {value_text(k, v)}" for k, v in value.items())
    words = VALUE_LABELS.get(name)
    if name == "roles" and isinstance(value, str):  # stored as « admin treasurer »
        return ", ".join(VALUE_LABELS["roles"].get(r, r) for r in value.split()) or "—"
    if words is not None and str(value) in words:
        return words[str(value)]
    if name == "minutes" and isinstance(value, int):
        hours, minutes = divmod(value, 60)
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return moment
        if name in ("amount", "total", "revenue") or name.startswith(("total_", "amount_")):
            try:
                return number(Decimal(value), 2) + " €"
            except InvalidOperation:
                return value
    return str(value)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def is_login(event: Any) -> bool:
    """A login: the explicit event, or an old update of the user's last login only."""
    if event.action == "login":
        return True
    return (event.action == "update" and event.object_type == "users" and bool(event.after)
            and "last_login_at" in event.after and set(event.after) <= _LOGIN_FIELDS)


def event_kind(event: Any) -> str:
    """« Connexion », « Modification », ..."""
    if is_login(event):
        return ACTION_LABELS["login"]
    return ACTION_LABELS.get(event.action, event.action)


def changes(event: Any) -> list[Change]:
    """The changed fields of an update, labelled and in words (none for a login)."""
    if is_login(event) or event.action != "update" or not event.after:
        return []
    before = event.before or {}
    table = event.object_type
    return [Change(field_label(k), value_text(k, before.get(k), table), value_text(k, v, table))
            for k, v in event.after.items()]


def values(event: Any) -> list[tuple[str, str]]:
    """The values of a creation, deletion or business event, labelled and in words."""
    data = event.after or event.before or {}
    return [(field_label(k), value_text(k, v, event.object_type)) for k, v in data.items()]
