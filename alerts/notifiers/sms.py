"""An SMS gateway behind a webhook: the bureau's gateway (运营商短信平台) takes ``{phone, text}``.

The address of a message is the phone number (a page's, from the rota); the gateway's URL is
``ECOWATCH_SMS_GATEWAY_URL``. It answers HTTP 200, with ``{"errcode": 0}`` or no errcode on
success, like the group robots, so the robots' sending and error handling are reused.
"""

from __future__ import annotations

from typing import Any

from alerts.notify_rules import SMS
from core.errors import NotConfigured
from core.settings import Settings
from storage.sql import SqlStore

from . import Message
from .webhooks import _Webhook


class SmsNotifier(_Webhook):
    """POSTs each message to the SMS gateway for the message's phone number."""

    channel = SMS

    def __init__(self, gateway: str, timeout: float = 10.0) -> None:
        super().__init__(timeout)
        self.gateway = gateway

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore | None = None) -> SmsNotifier:
        """NotConfigured without ``sms_gateway_url``."""
        if not settings.sms_gateway_url:
            raise NotConfigured("ECOWATCH_SMS_GATEWAY_URL not set")
        return cls(settings.sms_gateway_url, settings.notify_timeout_seconds)

    def url(self, message: Message) -> str:
        """The gateway, whoever the message is for."""
        return self.gateway

    def payload(self, message: Message) -> dict[str, Any]:
        """Phone and plain text (an SMS has no markup)."""
        return {"phone": message.address, "text": f"{message.subject}\n{message.body}"}
