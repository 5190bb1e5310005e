"""The client's IP address: the peer, or what a trusted proxy says in X-Forwarded-For."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from litestar.connection import ASGIConnection

__all__ = ["client_ip", "forwarded_by_untrusted_peer"]


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy; the first untrusted one is the client.

    Without trusted proxies the header is ignored: anyone can write it.
    """
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
    headers = connection.headers
    if "x-forwarded-for" not in headers and "forwarded" not in headers:
        return None
    peer = connection.client.host if connection.client else "unknown"
    return None if _is_trusted(peer, trusted) else peer


def _valid(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(value: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        address = ip_address(value)
    except ValueError:
        return False
    return any(address in network for network in trusted)
