"""Forms of the budgets area: a vote (lines typed or a file), a call, a true-up, a catch-up
mode. Amounts and lines are parsed by ``imports.budgets`` (French commas, row errors)."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from accounting.budgets.models import CatchUp


class VoteForm(FlaskForm):
    agreed_on = DateField("Voté le", validators=[DataRequired("Indiquez la date du vote.")])
    agreed_by = StringField("Voté par", validators=[
        DataRequired("Indiquez l'instance qui a voté (assemblée, bureau…)."), Length(max=200)])
    reason = StringField("Motif de la révision", validators=[Optional(), Length(max=500)])
    call_key = StringField("Clé des appels (facultatif)", validators=[Optional(), Length(max=300)])
    lines = TextAreaField(
        "Lignes (Service;Type;Compte;Libellé;Montant)", validators=[Optional()],
        render_kw={"rows": 8},
    )
    document = FileField("Ou un fichier (.csv ou .xlsx)")


class CallForm(FlaskForm):
    period = SelectField("Échéance", validators=[DataRequired()])
    issue_date = DateField("Date des appels", default=date.today, validators=[DataRequired()])


class TrueUpForm(FlaskForm):
    issue_date = DateField("Date des documents", default=date.today, validators=[DataRequired()])


class CatchUpForm(FlaskForm):
    mode = RadioField(
        "Rattrapage de la révision",
        choices=[SelectChoice(m.value, m.label.capitalize()) for m in CatchUp],
        default=CatchUp.SPREAD.value,
    )
    issue_date = DateField("Date de l'appel de rattrapage (mode immédiat)", default=date.today,
                           validators=[Optional()])
