from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo

from app.security import MIN_PASSWORD_LENGTH, StrongPassword

MIN_PASSWORD = MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Adresse e-mail", validators=[DataRequired("Saisissez votre e-mail.")])
    password = PasswordField(
        "Mot de passe", validators=[DataRequired("Saisissez votre mot de passe.")]
    )
    submit = SubmitField("Se connecter")


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Mot de passe actuel", validators=[DataRequired("Saisissez votre mot de passe actuel.")]
    )
    new = PasswordField(
        "Nouveau mot de passe",
        validators=[
            DataRequired("Saisissez un nouveau mot de passe."),
            StrongPassword(),  # length, variety, not common, not the e-mail
        ],
    )
    confirm = PasswordField(
        "Confirmation",
        validators=[EqualTo("new", message="Les deux mots de passe diffèrent.")],
    )
    submit = SubmitField("Changer le mot de passe")
