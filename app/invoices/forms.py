"""Forms of the invoices area. Amounts are read as text and parsed by the domain's ``D``
(French commas, spaces): WTForms' DecimalField only formats for display."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from accounting.invoicing.amounts import PaymentMethod
from accounting.money import MoneyError, parse_amount
from accounting.org import VatRegime


def _amount(form: FlaskForm, field: StringField) -> None:
    if not field.data or not field.data.strip():
        return
    try:
        value = parse_amount(field.data)
    except MoneyError as error:
        raise ValidationError(str(error)) from None
    if value <= 0:
        raise ValidationError("Le montant doit être positif.")
    if value != value.quantize(value.__class__("0.01")):
        raise ValidationError("Au plus deux décimales (euros et centimes).")


class IssueForm(FlaskForm):
    issue_date = DateField(
        "Date des factures", default=date.today,
        validators=[DataRequired("Indiquez la date des factures.")],
    )
    confirm_year = BooleanField(
        "Je confirme cette date, même dans un exercice postérieur à la période facturée"
    )


class CreditNoteForm(FlaskForm):
    amount = StringField(
        "Montant HT à créditer", validators=[Optional(), _amount],
        description="Vide : tout ce qui reste de la facture (avoir total).",
    )
    reason = TextAreaField(
        "Motif", validators=[DataRequired("Indiquez le motif : il figure sur l'avoir."),
                             Length(max=500)],
    )
    issue_date = DateField(
        "Date de l'avoir", default=date.today,
        validators=[DataRequired("Indiquez la date de l'avoir.")],
    )


class PaymentForm(FlaskForm):
    member = SelectField(
        "Adhérent", coerce=int, validators=[DataRequired("Choisissez l'adhérent.")]
    )
    paid_on = DateField(
        "Date du paiement", default=date.today,
        validators=[DataRequired("Indiquez la date du paiement.")],
    )
    amount = StringField(
        "Montant reçu", validators=[DataRequired("Indiquez le montant."), _amount]
    )
    method = SelectField(
        "Mode", choices=[SelectChoice(m.value, m.label) for m in PaymentMethod],
        default=PaymentMethod.TRANSFER.value,
    )
    reference = StringField("Référence (libellé du relevé)", validators=[Length(max=200)])
    invoice = StringField(
        "Facture réglée (numéro)", validators=[Optional(), Length(max=20)],
        description="Vide : les factures de l'adhérent les plus anciennes d'abord ; "
        "le surplus reste en crédit.",
    )


class ImportForm(FlaskForm):
    document = FileField(
        "Relevé (.csv ou .xlsx)", validators=[FileRequired("Choisissez un fichier.")]
    )


class VatRuleForm(FlaskForm):
    member = SelectField("Adhérent", coerce=int)
    service = SelectField("Service", coerce=int)
    regime = SelectField(
        "Régime",
        choices=[SelectChoice(r.value, r.label) for r in VatRegime]
        + [SelectChoice("", "Par défaut (structure)")],
    )
