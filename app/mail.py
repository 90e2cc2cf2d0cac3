"""Sending e-mail over SMTP, configured from the environment.

``MUTUALISE_SMTP_URL``: ``smtp://user:password@host:587?starttls=1`` (STARTTLS on a plain
connection), ``smtps://user:password@host:465`` (TLS from the start) or ``smtp://host:25``
(no TLS, no login: a local relay). User and password are URL-encoded (``%40`` for ``@``).
``MUTUALISE_MAIL_FROM``: the sender address (« Pôle <compta@pole.example> »). Without a URL
nothing is sent: the pages and commands say that e-mail is not configured.

:func:`send` returns the Message-ID once the server accepted the message for every recipient,
and raises :class:`MailError` (a French message) otherwise — server down, login refused,
recipient refused: then nothing may be recorded as sent.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit


class MailError(RuntimeError):
    """The message was not accepted (French message)."""


class ServerUnreachable(MailError):
    """No SMTP session at all (connection refused, timeout, TLS failure)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    tls: bool = False
    timeout: float = 20.0

    @classmethod
    def parse(cls, url: str, sender: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"MUTUALISE_SMTP_URL invalide : « {url} » (smtp://utilisateur:mot-de-passe@hôte:587"
                "?starttls=1 ou smtps://…:465)."
            )
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes", "on")
        timeout = float(query.get("timeout", ["20"])[0])
        port = parts.port or (465 if tls else 587 if starttls else 25)
        return cls(
            host=parts.hostname, port=port, sender=sender,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=starttls, tls=tls, timeout=timeout,
        )


def settings_from_env(environ: dict[str, str] | None = None) -> SmtpSettings | None:
    env = os.environ if environ is None else environ
    url = env.get("MUTUALISE_SMTP_URL", "").strip()
    if not url:
        return None
    sender = env.get("MUTUALISE_MAIL_FROM", "").strip()
    if not sender:
        raise ValueError("MUTUALISE_MAIL_FROM manque : l'adresse d'expédition des courriels.")
    return SmtpSettings.parse(url, sender)


def new_message(settings: SmtpSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    domain = settings.sender.rpartition("@")[2].strip(">") or None
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> str:
    """Send ``message``; its Message-ID once accepted, :class:`MailError` otherwise."""
    try:
        if settings.tls:
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        who = ", ".join(error.recipients)
        raise MailError(f"Destinataire refusé par le serveur de courriel : {who}.") from error
    except smtplib.SMTPAuthenticationError as error:
        raise MailError("Le serveur de courriel a refusé l'identifiant ou le mot de passe.") \
            from error
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error.decode(errors="replace") if isinstance(
            error.smtp_error, bytes) else str(error.smtp_error)
        raise MailError(f"Le serveur de courriel a refusé le message ({error.smtp_code} "
                        f"{text}).") from error
    except (OSError, smtplib.SMTPException) as error:
        raise ServerUnreachable(
            f"Serveur de courriel injoignable ({settings.host}:{settings.port}) : {error}."
        ) from error
    if refused:
        raise MailError("Destinataire refusé par le serveur de courriel : "
                        + ", ".join(refused) + ".")
    return str(message["Message-ID"])
