"""Email over SMTP (smtplib): plain text, one message per grouped outbox entry."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.errors import NotConfigured
from core.settings import Settings
from storage.sql import SqlStore

from . import DeliveryError, Message


class EmailNotifier:
    """Sends through the SMTP server in settings (``ECOWATCH_SMTP_HOST`` …)."""

    channel = "email"

    def __init__(self, host: str, port: int, sender: str, user: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 20.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore | None = None) -> EmailNotifier:
        """NotConfigured without ``smtp_host``."""
        if not settings.smtp_host:
            raise NotConfigured("ECOWATCH_SMTP_HOST not set")
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                   settings.smtp_password, settings.smtp_starttls, settings.notify_timeout_seconds)

    def send(self, message: Message) -> None:
        """Deliver one email; any SMTP or network error becomes DeliveryError."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="ecowatch")
        if message.incident_id is not None:
            mail["X-Ecowatch-Incident"] = str(message.incident_id)
        mail.set_content(message.body + "\n")
        for name, data, mime in message.attachments:
            main, _, sub = mime.partition("/")
            mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc
