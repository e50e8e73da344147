"""The SSRF guard: where a webhook may be sent.

A target must be http(s) and every address its host resolves to must be public, unless an operator
allows a network with WEBHOOK_ALLOWED_NETWORKS. It is checked when an endpoint is saved and again just
before each attempt, which then connects to the address it checked (no second DNS lookup); redirects
are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why, for people."""


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.WEBHOOK_ALLOWED_NETWORKS]


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified or not address.is_global)


def webhook_target_check(url: str) -> str:
    """Raise TargetRefused unless `url` may receive webhooks now; returns the vetted address to connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("the URL is not valid") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("the URL must start with http:// or https://")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not contain a user name or password")
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"the host '{parts.hostname}' does not resolve") from None
    allowed = _allowed_networks()
    vetted = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if _is_internal(address) and not any(address in net for net in allowed):
            raise TargetRefused(
                f"the host '{parts.hostname}' resolves to a loopback, private, link-local or reserved address; "
                "webhooks go to public addresses only (operators can allow networks with WEBHOOK_ALLOWED_NETWORKS)"
            )
        vetted.append(address)
    return str(vetted[0])


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url, headers, httpx extensions) that connect to the vetted `address` while naming the original host.

    Connecting to the address that was checked, instead of letting the HTTP client resolve the name
    again, closes the gap a DNS answer changing between check and connect would open. The Host header
    keeps virtual hosting working; for https the original name is still used for SNI and for checking
    the certificate.
    """
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    original = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in (parts.hostname or "") and not original.startswith("["):
        original = f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return pinned, {"host": original}, extensions
