"""Which addresses a crawler may fetch: http(s) only, and only public hosts unless a source says
``allow_private = true``.

A sources.toml entry, a redirect or a link on a crawled page could otherwise point the crawler at
the bureau's own network (``http://10.0.0.5/admin``, ``http://127.0.0.1:6379/``, the cloud
metadata address ``169.254.169.254``) or at local files (``file:///etc/passwd``) and store what
comes back as a post. So every URL is checked before it is fetched (source URLs, redirects and
followed links alike): the scheme must be http or https, and every address the host resolves to
must be global. Checking *every* resolved address, and checking again at connect time on the
address actually dialled (``PolicyBackend`` for the feed reader, ``PolicyResolver`` for Scrapy),
keeps a name that answers a public address first and a private one next (DNS rebinding) out.

``allow_private = true`` lets a source's own host and port be private (a self-hosted RSSHub, an
intranet site, the loopback fixture sites of the tests and the demo); links and redirects to any
other internal host or port stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

SCHEMES = ("http", "https")
NOT_ALLOWED = "not allowed for this source"  # every refusal says it (describe_failure looks for it)


class AddressNotAllowed(ValueError):
    """A URL the address policy refuses; the message says which URL and why."""


def refusal(ip: str) -> str | None:
    """Why an IP address may not be fetched by default ("a loopback address"...), or None if it is
    a public (global unicast) address."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return "not an IP address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, flag in (("a loopback", addr.is_loopback), ("a link-local", addr.is_link_local),
                       ("an unspecified", addr.is_unspecified), ("a multicast", addr.is_multicast),
                       ("a reserved", addr.is_reserved), ("a private", addr.is_private)):
        if flag:
            return f"{kind} address"
    return None if addr.is_global else "a non-public address"


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OSError(f"could not resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _origin(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None
    return ((parts.hostname or "").lower(), port) if parts.hostname else None


def proxy_origins() -> set[tuple[str, int]]:
    """The (host, port) of each proxy the environment names (``http_proxy``...): dialled on
    purpose by the operator, so allowed wherever it is. Through a proxy the proxy resolves the
    target: the URL is still checked here, the address the proxy dials cannot be."""
    return {o for url in urllib.request.getproxies().values() if (o := _origin(url))}


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """The policy of one source. ``private_origin``: the (host, port) that may be non-public —
    the source's own, when it says ``allow_private = true``; links and redirects to *other*
    internal hosts or ports stay refused."""

    private_origin: tuple[str, int] | None = None

    @classmethod
    def for_source(cls, url: str, allow_private: bool) -> AddressPolicy:
        """The policy of a source at ``url`` (its own origin allowed to be private if it says so)."""
        return cls(_origin(url) if allow_private else None)

    def vetted_addresses(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to, every one checked; raises AddressNotAllowed if one
        is not public and (host, port) is not the allowed origin (OSError if it does not resolve)."""
        addresses = _resolve(host, port)
        origin = (host.lower().strip("[]"), port)
        if origin == self.private_origin or origin in proxy_origins():
            return addresses
        for ip in addresses:
            why = refusal(ip)
            if why:
                allowed = ("only the source's own address may be private" if self.private_origin
                           else "set allow_private = true on the source to allow it")
                raise AddressNotAllowed(f"{host} resolves to {ip}, {why}: {NOT_ALLOWED} ({allowed})")
        return addresses

    def check_url(self, url: str) -> None:
        """Raise AddressNotAllowed unless ``url`` is http(s) and every address of its host is
        public (or it is the allowed origin). A host that does not resolve passes: fetching it
        fails on its own, with the usual "could not connect"."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES:
            raise AddressNotAllowed(f"only http and https URLs are fetched, not {parts.scheme or 'a relative'} "
                                    f"URL: {url}")
        origin = _origin(url)
        if origin is None:
            raise AddressNotAllowed(f"no host or a bad port in URL: {url}")
        try:
            self.vetted_addresses(*origin)
        except AddressNotAllowed as exc:
            raise AddressNotAllowed(f"{exc}: {url}") from None
        except OSError:
            return


class PolicyBackend(httpcore.SyncBackend):
    """httpcore's network backend, dialling only vetted addresses: the check and the connection
    use the same resolution, so the host cannot answer differently in between. TLS still
    verifies the certificate against the host name (httpcore passes it as the server name)."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        """Connect to the first vetted address of ``host`` that answers."""
        try:
            addresses = self.policy.vetted_addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for ip in addresses:
            try:
                return super().connect_tcp(ip, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error


def policy_client(policy: AddressPolicy, max_redirects: int = 5) -> httpx.Client:
    """An httpx client following redirects under the address policy: every request (the first
    and each redirect) is checked before it is sent, and connections go to vetted addresses only
    (or to the environment's proxy, see ``proxy_origins``)."""

    def check(request: httpx.Request) -> None:
        policy.check_url(str(request.url))

    client = httpx.Client(follow_redirects=True, max_redirects=max_redirects, event_hooks={"request": [check]})
    # httpx has no public way to choose httpcore's network backend; each transport (the direct
    # one and any proxy's) holds a pool that dials through it.
    for transport in [client._transport, *client._mounts.values()]:
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            pool._network_backend = PolicyBackend(policy)
    return client
