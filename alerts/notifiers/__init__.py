"""Notification channels behind one interface (the Scrapy component pattern).

Each channel is a class with ``from_settings(settings, store)`` that raises
:class:`core.errors.NotConfigured` when the channel is switched off, and ``send(message)`` that
delivers one grouped message or raises :class:`DeliveryError`. The outbox job
(``alerts.delivery.deliver``) calls them; the pipeline never does, so a slow or broken channel
never holds up detection. A channel that delivers by writing to the store (the in-app feed) also
has ``send_in(tx, message, at)``, which the job calls in the transaction that marks it sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.errors import EcowatchError, NotConfigured
from core.settings import Settings
from storage.sql import SqlStore, Tx

log = logging.getLogger(__name__)


class DeliveryError(EcowatchError):
    """A channel could not deliver a message (the outbox retries it with backoff)."""


@dataclass(slots=True)
class Message:
    """One grouped message to one address: every line is an event about the incident."""

    id: int
    channel: str
    recipient: str
    address: str
    subject: str
    lines: list[str] = field(default_factory=list)
    grade: str | None = None
    incident_id: int | None = None
    events: list[str] = field(default_factory=list)
    # Files sent along (a special report's DOCX): (file name, bytes, MIME type). Channels that
    # cannot carry files (group robots) send the lines only.
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    @property
    def body(self) -> str:
        """Plain-text body: one event per line."""
        return "\n".join(self.lines)


class Notifier(Protocol):
    """A delivery channel."""

    channel: str

    def send(self, message: Message) -> None:
        """Deliver or raise DeliveryError."""
        ...


@runtime_checkable
class StoredNotifier(Notifier, Protocol):
    """A channel whose delivery is a write to the store (the in-app feed): the outbox job calls
    ``send_in`` inside the transaction that marks the message sent, so both happen or neither."""

    def send_in(self, tx: Tx, message: Message, at: dt.datetime) -> None:
        """Store the message inside ``tx`` or raise."""
        ...


_MD = re.compile(r"([\\`*_\[\]()#>!|<~])")


def markdown_escape(text: str) -> str:
    """Crawled text is untrusted: escape markdown so a title cannot inject links or markup."""
    return _MD.sub(r"\\\1", text)


def build_notifiers(settings: Settings, store: SqlStore) -> dict[str, Notifier]:
    """Every configured channel by name; switched-off ones are logged and left out."""
    from alerts.notifiers.email import EmailNotifier
    from alerts.notifiers.feed import FeedNotifier
    from alerts.notifiers.signed_webhook import SignedWebhookNotifier
    from alerts.notifiers.sms import SmsNotifier
    from alerts.notifiers.webhooks import DingTalkNotifier, WeComNotifier

    out: dict[str, Notifier] = {}
    cls: Any
    for cls in (FeedNotifier, EmailNotifier, WeComNotifier, DingTalkNotifier, SmsNotifier, SignedWebhookNotifier):
        try:
            out[cls.channel] = cls.from_settings(settings, store)
        except NotConfigured as exc:
            log.info("notification channel %s off: %s", cls.channel, exc)
    return out
