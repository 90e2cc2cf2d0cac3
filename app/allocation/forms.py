"""Forms of the allocation area (labels and messages in French)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.uploads import encoding_field

REQUIRED = "Champ obligatoire."


class CostForm(FlaskForm):
    kind = SelectField(
        "Nature", choices=[SelectChoice("cost", "Charge"), SelectChoice("subsidy", "Subvention")]
    )
    service_id = SelectField("Service", coerce=int)
    day = DateField("Date", validators=[InputRequired(REQUIRED)])
    amount = StringField("Montant (€)", validators=[InputRequired(REQUIRED), Length(max=30)])
    account = StringField("Compte (PCG)", validators=[InputRequired(REQUIRED), Length(max=10)])
    label = StringField("Libellé", validators=[InputRequired(REQUIRED), Length(max=300)])
    party = StringField("Fournisseur ou financeur", validators=[Length(max=200)])
    reference = StringField("Référence", validators=[Length(max=100)])
    attachment_name = StringField("Pièce justificative (nom)", validators=[Length(max=200)])
    #: How the cost is posted (a subsidy ignores it): the accountant says which kind it is.
    nature = SelectField("Type de charge", choices=[
        SelectChoice("", "— choisir —"),
        SelectChoice("payroll", "Paie : salaires et charges sociales (journal PA)"),
        SelectChoice("supplier_invoice", "Facture fournisseur (journal HA, 401 + code)"),
        SelectChoice("other", "Autre : payé directement en banque (journal BQ)"),
    ], validators=[Optional()])  # fmt: skip
    supplier_code = StringField("Code fournisseur", validators=[Length(max=16)])
    net_pay = StringField("Net à payer au salarié (€)", validators=[Length(max=30)])
    social_account = SelectField("Organisme social", choices=[
        SelectChoice("431000", "URSSAF (431)"),
        SelectChoice("437000", "Autres organismes sociaux (437)"),
    ], validators=[Optional()])  # fmt: skip
    paid_on = DateField("Payé le (fournisseur, salaire net) ou reçu le (subvention)",
                        validators=[Optional()])  # fmt: skip
    social_paid_on = DateField("Cotisations payées le", validators=[Optional()])


class ImportForm(FlaskForm):
    document = FileField("Fichier (.csv ou .xlsx)", validators=[FileRequired(REQUIRED)])
    encoding = encoding_field()


class KeyForm(FlaskForm):
    text = StringField("Clé", validators=[InputRequired(REQUIRED), Length(max=1000)])
    valid_from = DateField("En vigueur à partir du", validators=[InputRequired(REQUIRED)])
    agreed_on = DateField("Convenue le", validators=[Optional()])
    agreed_by = StringField("Convenue par", validators=[Length(max=200)])


class PeriodForm(FlaskForm):
    code = StringField(
        "Période", validators=[InputRequired(REQUIRED), Length(max=10)],
        description="2026-03 (mois), 2026-T1 (trimestre) ou 2026 (année)",
    )


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Motif de la réouverture", validators=[InputRequired(REQUIRED), Length(max=500)]
    )
