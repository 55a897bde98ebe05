"""WeCom (企业微信) and DingTalk (钉钉) group-robot webhooks, over httpx.

The webhook URL of each group is the recipient's address (from the contacts); both robots answer
HTTP 200 with ``{"errcode": 0}`` on success and a non-zero errcode otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import urllib.parse
from typing import Any

import httpx

from core.errors import NotConfigured
from core.settings import Settings
from storage.sql import SqlStore

from . import DeliveryError, Message, markdown_escape

# A page names the person it calls as "@13812345678" (alerts.paging): the robots notify that member.
_MENTION = re.compile(r"@(1[3-9]\d{9})\b")


def mentions(message: Message) -> list[str]:
    """The mobiles a message @-mentions, in order, once each."""
    return list(dict.fromkeys(m for line in message.lines for m in _MENTION.findall(line)))


def _markdown(message: Message) -> str:
    lines = [f"**{markdown_escape(message.subject)}**", ""]
    lines += [f"- {markdown_escape(line)}" for line in message.lines]
    return "\n".join(lines)


class _Webhook:
    channel = ""
    enabled_setting = ""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings, store: SqlStore | None = None) -> Any:
        """NotConfigured unless enabled in settings."""
        if not getattr(settings, cls.enabled_setting):
            raise NotConfigured(f"ECOWATCH_{cls.enabled_setting.upper()} is off")
        return cls.build(settings)

    @classmethod
    def build(cls, settings: Settings) -> Any:
        return cls(settings.notify_timeout_seconds)

    def payload(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def url(self, message: Message) -> str:
        return message.address

    def send(self, message: Message) -> None:
        """POST the message; HTTP errors, timeouts and errcode ≠ 0 become DeliveryError."""
        try:
            resp = httpx.post(self.url(message), json=self.payload(message), timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.channel}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise DeliveryError(f"{self.channel}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            answer = resp.json()
        except ValueError as exc:
            raise DeliveryError(f"{self.channel}: answer is not JSON: {resp.text[:200]}") from exc
        if not isinstance(answer, dict) or answer.get("errcode", 0) != 0:
            raise DeliveryError(f"{self.channel}: refused: {answer}")


class WeComNotifier(_Webhook):
    """企业微信群机器人: markdown message."""

    channel = "wecom"
    enabled_setting = "wecom_enabled"

    def payload(self, message: Message) -> dict[str, Any]:
        """The robot's markdown message body; a text message when it @-mentions someone (WeCom
        notifies a member by mobile only in text messages)."""
        mobiles = mentions(message)
        if mobiles:
            return {"msgtype": "text", "text": {"content": f"{message.subject}\n{message.body}",
                                                "mentioned_mobile_list": mobiles}}
        return {"msgtype": "markdown", "markdown": {"content": _markdown(message)}}


class DingTalkNotifier(_Webhook):
    """钉钉群机器人: markdown message, signed when a secret is configured (加签)."""

    channel = "dingtalk"
    enabled_setting = "dingtalk_enabled"

    def __init__(self, timeout: float = 10.0, secret: str | None = None) -> None:
        super().__init__(timeout)
        self.secret = secret

    @classmethod
    def build(cls, settings: Settings) -> DingTalkNotifier:
        return cls(settings.notify_timeout_seconds, settings.dingtalk_secret)

    def payload(self, message: Message) -> dict[str, Any]:
        """The robot's markdown message body."""
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": message.subject,
                                                                    "text": _markdown(message)}}
        mobiles = mentions(message)
        if mobiles:
            body["at"] = {"atMobiles": mobiles, "isAtAll": False}
        return body

    def url(self, message: Message) -> str:
        """The webhook URL, with timestamp and HMAC-SHA256 signature when signing is on."""
        if not self.secret:
            return message.address
        stamp = str(int(time.time() * 1000))
        digest = hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        sep = "&" if "?" in message.address else "?"
        return f"{message.address}{sep}timestamp={stamp}&sign={sign}"
