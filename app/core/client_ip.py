"""The client's IP address: the peer, or what a trusted proxy says in X-Forwarded-For."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["client_ip", "forwarded_by_untrusted_peer", "parsed_address"]

_SCOPE_KEY = "rollcall.client_ip"
"""Where a request keeps its client address once worked out (the rate limit and the handler both ask)."""


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy; the first untrusted one is the client.

    Without trusted proxies the header is ignored: anyone can write it. Worked out once per request.
    """
    scope: dict[str, Any] = connection.scope  # type: ignore[assignment]
    known: str | None = scope.get(_SCOPE_KEY)
    if known is None:
        known = scope[_SCOPE_KEY] = _client_ip(connection, trusted)
    return known


def _client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    peer = connection.client.host if connection.client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in ",".join(connection.headers.getall("x-forwarded-for", [])).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _valid(hop) else peer
    return hops[0] if hops and _valid(hops[0]) else peer


def forwarded_by_untrusted_peer(
    connection: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[IPv4Network | IPv6Network]
) -> str | None:
    """The peer, when it sent X-Forwarded-For or Forwarded but is not a trusted proxy (the header is ignored).

    From a proxy that is not in TRUSTED_PROXIES this is the sign of a misconfiguration: every client
    behind it gets the proxy's address.
    """
    peer = connection.client.host if connection.client else "unknown"
    if _is_trusted(peer, trusted):
        return None
    headers = connection.headers
    return peer if "x-forwarded-for" in headers or "forwarded" in headers else None


def _valid(value: str) -> bool:
    return parsed_address(value) is not None


def _is_trusted(value: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    address = parsed_address(value)
    return address is not None and any(address in network for network in trusted)


@lru_cache(maxsize=1024)
def parsed_address(value: str) -> IPv4Address | IPv6Address | None:
    """``value`` as an IP address, or None. Remembered: one request asks about its client's address
    several times (the proxy walk, the rate limit bucket), and ``ipaddress`` parses slowly."""
    if len(value) > 64:  # no address is this long (an IPv6 one with a zone id is at most about 60)
        return None
    try:
        return ip_address(value)
    except ValueError:
        return None
