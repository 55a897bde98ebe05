"""Notification channels behind one interface (the Scrapy component pattern).

Each channel is a class with ``from_settings(settings, store)`` that raises
:class:`core.errors.NotConfigured` when the channel is switched off, and ``send(message)`` that
delivers one grouped message or raises :class:`DeliveryError`. The outbox job
(``alerts.outbox.deliver``) calls them; the pipeline never does, so a slow or broken channel
never holds up detection.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import EcowatchError, NotConfigured
from core.settings import Settings
from storage.sql import SqlStore

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


_MD = re.compile(r"([\\`*_\[\]()#>!|<~])")


def markdown_escape(text: str) -> str:
    """Crawled text is untrusted: escape markdown so a title cannot inject links or markup."""
    return _MD.sub(r"\\\1", text)


def build_notifiers(settings: Settings, store: SqlStore) -> dict[str, Notifier]:
    """Every configured channel by name; switched-off ones are logged and left out."""
    from alerts.notifiers.email import EmailNotifier
    from alerts.notifiers.feed import FeedNotifier
    from alerts.notifiers.webhooks import DingTalkNotifier, WeComNotifier

    out: dict[str, Notifier] = {}
    cls: Any
    for cls in (FeedNotifier, EmailNotifier, WeComNotifier, DingTalkNotifier):
        try:
            out[cls.channel] = cls.from_settings(settings, store)
        except NotConfigured as exc:
            log.info("notification channel %s off: %s", cls.channel, exc)
    return out
