"""Forms of the delivery area (CSRF-protected; French messages)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange

from app.security import StrongPassword


class SendForm(FlaskForm):
    resend = BooleanField("Renvoyer aussi les documents déjà envoyés")


class RemindForm(FlaskForm):
    pass


class ScheduleForm(FlaskForm):
    first_days = IntegerField(
        "Première relance (jours après l'échéance)",
        validators=[DataRequired("Indiquez un nombre de jours."),
                    NumberRange(1, 365, "De 1 à 365 jours.")],
    )
    second_days = IntegerField(
        "Seconde relance (jours après l'échéance)",
        validators=[DataRequired("Indiquez un nombre de jours."),
                    NumberRange(1, 365, "De 1 à 365 jours.")],
    )


class ForgotForm(FlaskForm):
    email = StringField(
        "Adresse électronique",
        validators=[DataRequired("Indiquez votre adresse."), Length(max=200),
                    Email("Adresse électronique invalide.", check_deliverability=False)],
    )


class ResetForm(FlaskForm):
    password = PasswordField(
        "Nouveau mot de passe",
        validators=[DataRequired("Choisissez un mot de passe."), StrongPassword()],
    )
    confirm = PasswordField(
        "Confirmation",
        validators=[EqualTo("password", "Les deux mots de passe diffèrent.")],
    )
