"""Outgoing mail: SMTP when LOTS_SMTP_HOST is set, otherwise (development and test only) .eml files in an outbox.

Built on the standard library (``email.message.EmailMessage`` and ``smtplib``).
Production has no outbox: without an SMTP host nothing is sent, and
:func:`check_ready` says what is missing before anything is attempted.
The test configuration never has an SMTP host, so tests never reach the network.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app


class MailError(RuntimeError):
    """Mail cannot be sent with this configuration; the message says what to set."""


def transport() -> str:
    """"smtp" when an SMTP host is configured, else "outbox"."""
    return "smtp" if current_app.config.get("LOTS_SMTP_HOST") else "outbox"


def outbox_path() -> Path | None:
    """The outbox folder (development and test), or None."""
    outbox = current_app.config.get("LOTS_MAIL_OUTBOX")
    return Path(outbox) if outbox else None


def check_ready() -> None:
    """Raise MailError unless mail can be sent: production needs SMTP, a sender and the base URL for links."""
    config = current_app.config
    if config.get("LOTS_ENV") in ("development", "test"):
        if transport() == "outbox" and outbox_path() is None:
            raise MailError("No outbox folder: set LOTS_MAIL_OUTBOX or LOTS_SMTP_HOST.")
        return
    missing = [name for name in ("LOTS_SMTP_HOST", "LOTS_MAIL_FROM", "LOTS_BASE_URL") if not config.get(name)]
    if missing:
        raise MailError("Production mail needs an SMTP server; missing: " + ", ".join(missing)
                        + ". Nothing was sent (there is no outbox folder in production).")


def build_message(to: str, subject: str, text_body: str, html_body: str | None = None) -> EmailMessage:
    """A MIME message: plain text, with an HTML alternative when given."""
    sender = current_app.config.get("LOTS_MAIL_FROM") or "Lots <lots@localhost>"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    return message


def _smtp_connection() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["LOTS_SMTP_HOST"], int(config.get("LOTS_SMTP_PORT") or 587)
    security = config.get("LOTS_SMTP_SECURITY", "starttls")
    timeout = int(config.get("LOTS_SMTP_TIMEOUT") or 30)
    context = ssl.create_default_context()
    if security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            smtp.starttls(context=context)
    if config.get("LOTS_SMTP_USERNAME"):
        smtp.login(config["LOTS_SMTP_USERNAME"], config["LOTS_SMTP_PASSWORD"])
    return smtp


def _write_outbox(message: EmailMessage) -> Path:
    folder = outbox_path()
    if folder is None:
        raise MailError("No outbox folder: set LOTS_MAIL_OUTBOX or LOTS_SMTP_HOST.")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:12]}.eml"
    path.write_bytes(bytes(message))
    path.chmod(0o600)
    return path


@contextmanager
def mailer() -> Iterator[Callable[[EmailMessage], str]]:
    """Yield a function that sends one message (one SMTP connection for all of them); it returns where it went."""
    check_ready()
    if transport() == "outbox":
        yield lambda message: str(_write_outbox(message))
        return
    smtp = _smtp_connection()
    try:
        def send(message: EmailMessage) -> str:
            smtp.send_message(message)
            return "smtp"

        yield send
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            smtp.close()


def send_mail(to: str, subject: str, text_body: str, html_body: str | None = None) -> str:
    """Send one mail; returns "smtp" or the path of the .eml written to the outbox."""
    with mailer() as send:
        return send(build_message(to, subject, text_body, html_body))
