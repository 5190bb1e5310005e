"""Per-client rate limit backed by Redis, so it holds across API processes.

A client is its IPv4 address, or its IPv6 network (``RATE_LIMIT_IPV6_PREFIX``, a /64 by default): one
host or household usually holds a whole /64 and could otherwise take a fresh address for every request.
"""

from __future__ import annotations

import time
from ipaddress import IPv6Address, IPv6Network, ip_address
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from redis.exceptions import RedisError

from app.config import Settings
from app.core.client_ip import client_ip, forwarded_by_untrusted_peer

__all__ = ["public_rate_limit", "rate_limit_bucket"]

logger = structlog.get_logger(__name__)
WINDOW_SECONDS = 60
_FORWARDED_WARNED = "forwarded_header_warned"
"""App state flag: the warning about a forwarding header from an untrusted peer is logged once."""


async def public_rate_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: at most PUBLIC_RATE_LIMIT requests a minute per client (a fixed one-minute window), where a
    client is its :func:`rate_limit_bucket`.

    If Redis is unreachable the request goes through: the limit protects against
    abuse and must not take the signing links down with Redis.
    """
    settings: Settings = connection.app.state.settings
    _warn_once_about_an_untrusted_proxy(connection, settings)
    limit = settings.server.public_rate_limit
    if limit == 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    bucket = rate_limit_bucket(
        client_ip(connection, settings.server.trusted_proxies), settings.server.rate_limit_ipv6_prefix
    )
    key = f"rollcall:ratelimit:public:{bucket}:{window}"
    try:
        async with connection.app.state.redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS * 2)
            count, _ = await pipe.execute()
    except RedisError as error:
        logger.warning("rate_limit_unavailable", error=str(error)[:200])
        return
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
        raise TooManyRequestsException(
            f"too many requests; at most {limit} a minute", headers={"Retry-After": str(retry_after)}
        )


def rate_limit_bucket(ip: str, ipv6_prefix: int) -> str:
    """The bucket of a client IP: the IPv4 address (an IPv4-mapped IPv6 one counts as IPv4), or the IPv6
    address's network of ``ipv6_prefix`` bits (``2001:db8:1:2::/64``). Anything else is its own bucket."""
    try:
        address = ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def _warn_once_about_an_untrusted_proxy(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings) -> None:
    """Once per app (one per process): a forwarding header from an untrusted peer hints at a missing proxy."""
    state = connection.app.state
    if state.get(_FORWARDED_WARNED):
        return
    peer = forwarded_by_untrusted_peer(connection, settings.server.trusted_proxies)
    if peer is None:
        return
    state[_FORWARDED_WARNED] = True
    logger.warning(
        "forwarded_header_ignored",
        peer=peer,
        detail=(
            f"a request from {peer} carried X-Forwarded-For/Forwarded, but {peer} is not in TRUSTED_PROXIES, "
            "so the header is ignored: if the API is behind a proxy, every client is counted as the proxy "
            "(one rate limit bucket for all). Set TRUSTED_PROXIES to the proxy's addresses."
        ),
    )
