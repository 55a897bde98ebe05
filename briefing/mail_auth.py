"""Whether our own mail server vouched for a mail's From address (RFC 8601 Authentication-Results).

Why: anyone who can send to the briefs mailbox can write any From address, and a registered address
makes a mail a unit's brief with nobody looking at it. The receiving server checks SPF, DKIM and
DMARC and records its verdict in an ``Authentication-Results`` header headed by its own authserv-id
(the pack's ``[briefs] mail_authserv_id``). A header headed by any other id was written by someone
else, possibly the forger, and is ignored (RFC 8601 §5); the receiving server must strip incoming
headers that carry its own id, as Postfix with OpenDMARC or Exchange do.

Pure: the header values and the From domain in, a verdict out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

_COMMENT = re.compile(r"\([^()]*\)")
_METHOD = re.compile(r"^\s*([A-Za-z][\w-]*)\s*(?:/\s*\d+\s*)?=\s*([A-Za-z]+)")
_PROPERTY = re.compile(r"([A-Za-z][\w-]*)\.([A-Za-z][\w.-]*)\s*=\s*(\"[^\"]*\"|[^\s;]+)")


class SenderCheck(StrEnum):
    """What the trusted header says of the From address."""

    PASS = "pass"  # DMARC passed, or an aligned DKIM signature or SPF domain passed
    FAIL = "fail"  # DMARC failed, or every DKIM/SPF check there is failed
    NONE = "none"  # no header of our server, or it checked nothing that decides


@dataclass(slots=True, frozen=True)
class SenderAuth:
    """The verdict and the results it rests on (``dmarc=fail``), shown to the duty officer."""

    check: SenderCheck
    detail: str = ""


@dataclass(slots=True, frozen=True)
class _Result:
    method: str
    result: str
    properties: dict[str, str]


def _results(headers: Iterable[str], authserv_id: str) -> list[_Result]:
    """Every method result of the headers our server wrote."""
    found: list[_Result] = []
    wanted = authserv_id.strip().lower()
    for header in headers:
        text = " ".join(_COMMENT.sub(" ", header).split())
        head, _, rest = text.partition(";")
        words = head.split()
        if not words or words[0].lower() != wanted:
            continue
        for part in rest.split(";"):
            method = _METHOD.match(part)
            if method is None:
                continue
            props = {f"{p.lower()}.{name.lower()}": value.strip('"').lower()
                     for p, name, value in _PROPERTY.findall(part[method.end():])}
            found.append(_Result(method.group(1).lower(), method.group(2).lower(), props))
    return found


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".").lower()


def _aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment (DMARC): one domain is the other or a subdomain of it."""
    return bool(domain) and (domain == from_domain or domain.endswith("." + from_domain)
                             or from_domain.endswith("." + domain))


def sender_auth(headers: Sequence[str], authserv_id: str, from_address: str) -> SenderAuth:
    """The verdict of our server (``authserv_id``) on ``from_address``.

    DMARC's own result decides when present. Otherwise a passing DKIM signature of an aligned domain
    (``header.d``/``header.i``) or a passing SPF check of an aligned envelope domain
    (``smtp.mailfrom``) is a pass; failures with no pass are a fail; anything else says nothing.
    """
    from_domain = _domain(from_address)
    results = _results(headers, authserv_id)
    for r in results:
        if r.method == "dmarc" and r.result in ("pass", "fail"):
            return SenderAuth(SenderCheck(r.result), f"dmarc={r.result}")
    failed: list[str] = []
    for r in results:
        if r.method == "dkim":
            signer = _domain(r.properties.get("header.d") or r.properties.get("header.i") or "")
        elif r.method == "spf":
            signer = _domain(r.properties.get("smtp.mailfrom") or r.properties.get("smtp.helo") or "")
        else:
            continue
        if r.result == "pass" and _aligned(signer, from_domain):
            return SenderAuth(SenderCheck.PASS, f"{r.method}=pass")
        if r.result in ("fail", "softfail", "permerror"):
            failed.append(f"{r.method}={r.result}")
    if failed:
        return SenderAuth(SenderCheck.FAIL, ", ".join(failed))
    return SenderAuth(SenderCheck.NONE)
