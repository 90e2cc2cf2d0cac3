"""Forms of the ledger area (labels and messages in French)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

REQUIRED = "Champ obligatoire."


class AccountForm(FlaskForm):
    number = StringField("Numéro", validators=[InputRequired(REQUIRED), Length(max=20)])
    label = StringField("Intitulé", validators=[InputRequired(REQUIRED), Length(max=200)])


class LabelForm(FlaskForm):
    label = StringField("Intitulé", validators=[InputRequired(REQUIRED), Length(max=200)])


class UploadForm(FlaskForm):
    document = FileField("Fichier FEC (.txt)", validators=[FileRequired("Choisissez un fichier.")])


class RulesForm(FlaskForm):
    fichier = HiddenField()
    rules = TextAreaField(
        "Règles d'affectation (une par ligne)",
        validators=[Length(max=5000)],
        description="64* = DEV (les comptes qui commencent par 64 vont au service DEV), "
        "6226 = COMPTA, analytique:ACP = COMPTA (le code analytique ACP).",
    )
    accept_unmapped = BooleanField(
        "J'ai vu les lignes laissées de côté et leur total : importer quand même"
    )
    analytic_column = StringField("Colonne des codes analytiques", validators=[Optional(),
                                                                               Length(max=100)])
