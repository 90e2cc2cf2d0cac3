"""Forms of the admin screens (French labels and messages).

Fields are read with the same parsers as the imports and the configuration file
(:mod:`imports.members`, :mod:`imports.figures`, :mod:`accounting.org` validators), through
the :class:`Parsed` validator: a SIRET, a date or an amount is accepted or refused the same way
whichever door it comes in by. The parsed value is kept on the field (``field.parsed``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    i18n,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from accounting.ledger.fiscal_year import parse_start_month, start_month_choices
from accounting.org import (
    DEFAULT_EXEMPTION_MENTION,
    OrgError,
    Role,
    VatRegime,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat_number,
)
from app.security import StrongPassword
from app.uploads import encoding_field
from imports.errors import InvalidValue
from imports.figures import parse_figure_value
from imports.members import clean_text, normalize_code, parse_email, parse_member_value
from imports.parsing import parse_decimal, parse_int


class FrenchForm(FlaskForm):
    """A form whose built-in messages (required field, invalid choice...) are French."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return i18n.get_translations(["fr"])


class Parsed:
    """Runs a domain parser on the field's text; keeps the result in ``field.parsed``."""

    def __init__(self, parser: Callable[[Any], Any]) -> None:
        self.parser = parser

    def __call__(self, form: Any, field: Field) -> None:
        try:
            field.parsed = self.parser(field.data)  # type: ignore[attr-defined]
        except InvalidValue as exc:
            raise ValidationError(exc.message) from None
        except (OrgError, ValueError) as exc:
            raise ValidationError(str(exc)) from None


def _optional(validator: Callable[[str | None], str | None]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        text = (value or "").strip()
        return validator(text) if text else None

    return parse


def _member(name: str) -> Parsed:
    return Parsed(lambda value: parse_member_value(name, value))


def _figure(name: str) -> Parsed:
    return Parsed(lambda value: parse_figure_value(name, value))


def _text(limit: int, *, required: str | None = None) -> Parsed:
    return Parsed(lambda value: clean_text(value, limit=limit, required=required))


def _account(value: Any) -> str:
    text = (value or "").strip()
    if not text.isdigit() or not 3 <= len(text) <= 20:
        raise InvalidValue("Numéro de compte invalide : 3 à 20 chiffres (ex. 706100).")
    return text


def _code_text() -> StringField:
    return StringField(
        "Code",
        validators=[Parsed(normalize_code)],
        render_kw={"maxlength": 20, "autocapitalize": "characters"},
    )


def parsed(form: FlaskForm, *names: str) -> dict[str, Any]:
    """The parsed values of the named fields (after ``validate_on_submit``)."""
    return {name: getattr(form[name], "parsed", None) for name in names}


# ------------------------------------------------------------------------------ members

MEMBER_FORM_FIELDS = (
    "code", "name", "legal_form", "siret", "vat_number", "address", "postcode", "city",
    "country_code", "electronic_address", "billing_email", "joined_on", "left_on",
)  # fmt: skip


class MemberForm(FrenchForm):
    code = _code_text()
    name = StringField("Nom", validators=[_member("name")], render_kw={"maxlength": 200})
    legal_form = StringField(
        "Forme juridique", validators=[_member("legal_form")], render_kw={"maxlength": 100}
    )
    siret = StringField("SIRET", validators=[_member("siret")], render_kw={"inputmode": "numeric"})
    vat_number = StringField("N° de TVA intracommunautaire", validators=[_member("vat_number")])
    address = TextAreaField("Adresse (rue, lieu-dit)", validators=[_member("address")],
                            render_kw={"rows": 3})
    postcode = StringField("Code postal", validators=[_member("postcode")])
    city = StringField("Ville", validators=[_member("city")])
    country_code = StringField("Pays (code ISO)", validators=[_member("country_code")],
                               default="FR", render_kw={"maxlength": 2})
    electronic_address = StringField(
        "Adresse électronique de facturation", validators=[_member("electronic_address")]
    )
    billing_email = EmailField("E-mail de facturation", validators=[_member("billing_email")])
    joined_on = StringField(
        "Date d'adhésion", validators=[_member("joined_on")], render_kw={"type": "date"}
    )
    left_on = StringField(
        "Date de sortie", validators=[_member("left_on")], render_kw={"type": "date"}
    )

    def validate_left_on(self, field: Field) -> None:
        joined = getattr(self.joined_on, "parsed", None)
        left = getattr(field, "parsed", None)
        if joined and left and left < joined:
            raise ValidationError("La date de sortie précède la date d'adhésion.")


class FiguresForm(FrenchForm):
    year = StringField(
        "Année", validators=[_figure("year")], render_kw={"inputmode": "numeric", "size": 6}
    )
    revenue = StringField(
        "Chiffre d'affaires (€)",
        validators=[_figure("revenue")],
        render_kw={"inputmode": "decimal"},
    )
    headcount = StringField(
        "Effectif (ETP)", validators=[_figure("headcount")], render_kw={"inputmode": "decimal"}
    )
    insertion_workers = StringField(
        "Salariés en insertion",
        validators=[_figure("insertion_workers")],
        render_kw={"inputmode": "numeric"},
    )
    volunteers = StringField(
        "Bénévoles", validators=[_figure("volunteers")], render_kw={"inputmode": "numeric"}
    )


class ImportForm(FrenchForm):
    file = FileField(
        "Fichier CSV ou Excel (.xlsx)",
        validators=[FileRequired("Choisissez un fichier.")],
        render_kw={"accept": ".csv,.xlsx,.txt,.tsv"},
    )
    encoding = encoding_field()


class ConfigurationForm(FrenchForm):
    file = FileField(
        "Fichier de configuration (.yaml)",
        validators=[FileRequired("Choisissez un fichier.")],
        render_kw={"accept": ".yaml,.yml"},
    )


# ------------------------------------------------------------------------------ carrier

CARRIER_FORM_FIELDS = (
    "code", "name", "address", "postcode", "city", "country_code", "electronic_address",
    "siren", "siret", "vat_number", "iban", "bic", "email",
    "vat_regime", "vat_exemption_mention", "payment_terms_days", "late_penalty_rate",
    "fiscal_year_start_month",
)  # fmt: skip


def _bic(value: str | None) -> str | None:
    from stdnum import bic
    from stdnum.exceptions import ValidationError as StdnumError

    if not value:
        return None
    try:
        return bic.validate(value.upper())
    except StdnumError:
        raise InvalidValue(f"BIC invalide : « {value} ».") from None


class CarrierForm(FrenchForm):
    code = _code_text()
    name = StringField("Nom", validators=[_text(200, required="Nom manquant.")])
    address = TextAreaField("Adresse (rue, lieu-dit)", validators=[_text(2000)],
                            render_kw={"rows": 3})
    postcode = StringField("Code postal", validators=[_member("postcode")])
    city = StringField("Ville", validators=[_member("city")])
    country_code = StringField("Pays (code ISO)", validators=[_member("country_code")],
                               default="FR", render_kw={"maxlength": 2})
    electronic_address = StringField(
        "Adresse électronique de facturation", validators=[_member("electronic_address")]
    )
    siren = StringField("SIREN", validators=[Parsed(_optional(validate_siren))])
    siret = StringField("SIRET", validators=[Parsed(_optional(validate_siret))])
    vat_number = StringField(
        "N° de TVA intracommunautaire", validators=[Parsed(_optional(validate_vat_number))]
    )
    iban = StringField("IBAN", validators=[Parsed(_optional(validate_iban))])
    bic = StringField("BIC", validators=[Parsed(_optional(_bic))])
    email = EmailField("E-mail", validators=[Parsed(parse_email)])
    vat_regime = SelectField(
        "Régime de TVA par défaut", choices=[SelectChoice(v.value, v.label) for v in VatRegime]
    )
    vat_exemption_mention = StringField(
        "Mention d'exonération de TVA",
        validators=[_text(300, required="Mention manquante.")],
        default=DEFAULT_EXEMPTION_MENTION,
    )
    payment_terms_days = StringField(
        "Délai de paiement (jours, au plus 60)",
        validators=[Parsed(lambda v: parse_int(v, minimum=0, maximum=60))],
        default="30",
        render_kw={"inputmode": "numeric", "size": 4},
    )
    late_penalty_rate = StringField(
        "Taux des pénalités de retard (% par an)",
        validators=[
            Parsed(
                lambda v: parse_decimal(
                    v, max_places=2, allow_negative=False, maximum=Decimal(100)
                ).quantize(Decimal("0.01"))
            )
        ],
        default="12.00",
        render_kw={"inputmode": "decimal", "size": 6},
    )
    #: Parsed, not checked against the choices: « 0 » or « 13 » gets the same French message
    #: as in the configuration file.
    fiscal_year_start_month = SelectField(
        "Premier mois de l'exercice comptable",
        choices=[SelectChoice(value, label) for value, label in start_month_choices()],
        default="1",
        validate_choice=False,
        validators=[Parsed(parse_start_month)],
    )
    #: Choices set by the view; an unknown id is refused by the service (no choice check here:
    #: an absent field means "none").
    member = SelectField(
        "Adhérent qui est la structure elle-même", coerce=str, validate_choice=False
    )


# ------------------------------------------------------------------------------ services

OVERHEADS_CHOICES = [
    SelectChoice("", "Non : service réparti entre les adhérents"),
    SelectChoice("costs", "Oui, reporté sur les autres services au prorata de leurs charges"),
    SelectChoice("hours", "Oui, reporté sur les autres services au prorata de leurs heures"),
]


class ServiceForm(FrenchForm):
    code = _code_text()
    name = StringField("Nom", validators=[_text(200, required="Nom manquant.")])
    revenue_account = StringField(
        "Compte de produit (refacturation)", validators=[Parsed(_account)], default="706000"
    )
    expense_account = StringField(
        "Compte de charge chez l'adhérent", validators=[Parsed(_account)], default="6226"
    )
    overheads_by = SelectField("Frais de structure", choices=OVERHEADS_CHOICES)
    active = BooleanField("Service actif", default=True)


# ------------------------------------------------------------------------------ users


class StrongPasswordIfGiven(StrongPassword):
    """An empty password keeps the current one (edit); a new one must be strong."""

    def __call__(self, form: Any, field: Field) -> None:
        if field.data:
            super().__call__(form, field)


def _missing(message: str) -> Any:
    raise InvalidValue(message)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(FrenchForm):
    email = EmailField(
        "Adresse e-mail",
        validators=[Parsed(lambda v: parse_email(v) or _missing("Adresse e-mail manquante."))],
    )
    name = StringField("Nom", validators=[_text(200, required="Nom manquant.")])
    gender = SelectField(
        "Civilité (facultative : accorde les titres, « Chargée de développement »)",
        choices=[SelectChoice("", "— non précisée —"), SelectChoice("female", "Madame"),
                 SelectChoice("male", "Monsieur")],
        default="", validate_choice=False,  # checked by save_user, in French
    )
    roles = MultiCheckboxField("Rôles", choices=[SelectChoice(r.value, r.label) for r in Role])
    member = SelectField(
        "Adhérent (pour un comptable d'adhérent)", coerce=str, validate_choice=False
    )
    active = BooleanField("Compte actif", default=True)
    password = PasswordField(
        "Mot de passe",
        validators=[StrongPasswordIfGiven(email_field="email")],
        render_kw={"autocomplete": "new-password"},
    )

