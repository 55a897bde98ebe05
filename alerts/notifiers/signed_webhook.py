"""The outbound webhook for other systems: the live feed's console lines POSTed as JSON, signed.

Each POST carries a batch of ``ecowatch.event.v1`` documents (alerts.event_documents) in an
``ecowatch.webhook.v1`` envelope, and three headers:

- ``X-Ecowatch-Timestamp``: Unix seconds when it was signed;
- ``X-Ecowatch-Signature``: ``sha256=`` + hex HMAC-SHA256 over ``<timestamp>.<body bytes>`` with
  ``ECOWATCH_WEBHOOK_SECRET`` (the receiver recomputes it, compares in constant time and refuses
  a timestamp more than 5 minutes away, so a captured request cannot be replayed later);
- ``X-Ecowatch-Delivery``: the outbox id; a retry of the same delivery sends the same id.

Any 2xx answer is delivery; anything else, or no answer in time, is a DeliveryError the outbox
retries with backoff and then keeps as failed (docs/exports.md says how to verify).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from core.errors import NotConfigured
from core.settings import Settings
from storage.sql import SqlStore

from . import DeliveryError, Message

CHANNEL = "webhook_out"
ENVELOPE_SCHEMA = "ecowatch.webhook.v1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Ecowatch-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def envelope(message: Message) -> dict[str, Any]:
    """The JSON body: the delivery's id and its events, oldest first (each line is one stored document)."""
    return {"schema_version": ENVELOPE_SCHEMA, "delivery": message.id,
            "events": [json.loads(line) for line in message.lines]}


class SignedWebhookNotifier:
    """POSTs each outbox message of the ``webhook_out`` channel to its address, signed."""

    channel = CHANNEL

    def __init__(self, urls: list[str], secret: str, timeout: float = 10.0) -> None:
        self.urls = urls
        self.secret = secret
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore | None = None) -> SignedWebhookNotifier:
        """NotConfigured unless ``ECOWATCH_WEBHOOK_URLS`` is set (Settings refuses URLs without a secret)."""
        if not settings.webhook_url_list or not settings.webhook_secret:
            raise NotConfigured("ECOWATCH_WEBHOOK_URLS is not set")
        return cls(settings.webhook_url_list, settings.webhook_secret, settings.notify_timeout_seconds)

    def send(self, message: Message) -> None:
        """POST the batch; a refusal (non-2xx) or a time-out becomes DeliveryError."""
        body = json.dumps(envelope(message), ensure_ascii=False).encode("utf-8")
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Ecowatch-Timestamp": stamp,
                   "X-Ecowatch-Signature": signature(self.secret, stamp, body),
                   "X-Ecowatch-Delivery": str(message.id)}
        try:
            resp = httpx.post(message.address, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{CHANNEL}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"{CHANNEL}: HTTP {resp.status_code}: {resp.text[:200]}")
