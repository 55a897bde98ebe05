"""An upper body's platform (the city bureau's or 网信办's receiving system): a JSON POST, over httpx.

Used for reports going up (报送) and feedback on items handed down, to the address each sending
names. Any 2xx answer is delivery; anything else, or no answer in time, is a DeliveryError the
sending job retries and keeps visible.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from . import DeliveryError, Message


class PlatformNotifier:
    """POSTs ``{subject, lines, incident_id, attachments: [{name, mime, base64}]}`` to the address."""

    channel = "webhook"

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def payload(self, message: Message) -> dict[str, Any]:
        """The JSON body."""
        return {"subject": message.subject, "lines": message.lines, "incident_id": message.incident_id,
                "attachments": [{"name": name, "mime": mime, "base64": base64.b64encode(data).decode("ascii")}
                                for name, data, mime in message.attachments]}

    def send(self, message: Message) -> None:
        """POST the message; a refusal (non-2xx) or a time-out becomes DeliveryError."""
        try:
            resp = httpx.post(message.address, json=self.payload(message), timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"webhook: HTTP {resp.status_code}: {resp.text[:200]}")
