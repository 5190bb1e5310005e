"""Per-client rate limit backed by Redis, so it holds across API processes.

A client is its IPv4 address, or its IPv6 network (``RATE_LIMIT_IPV6_PREFIX``, a /64 by default): one
host or household usually holds a whole /64 and could otherwise take a fresh address for every request.
"""

from __future__ import annotations

import asyncio
import time
from ipaddress import IPv6Address, IPv6Network
from typing import Any

import structlog
from litestar import Request
from litestar.exceptions import TooManyRequestsException
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.config import ServerSettings
from app.core.client_ip import client_ip, forwarded_by_untrusted_peer, parsed_address

__all__ = ["PublicRateLimit", "RequestCounter", "rate_limit_bucket"]

logger = structlog.get_logger(__name__)
WINDOW_SECONDS = 60


class PublicRateLimit:
    """``before_request`` hook of the public links: at most PUBLIC_RATE_LIMIT requests a minute per client (a
    fixed one-minute window), where a client is its :func:`rate_limit_bucket`. It runs before the body is read.

    A hook rather than a guard because Litestar copies the route handler for every guard call, a cost
    paid on every signature. If Redis is unreachable the request goes through: the limit protects
    against abuse and must not take the signing links down with Redis.
    """

    def __init__(self, settings: ServerSettings, counter: RequestCounter) -> None:
        self.settings = settings
        self.counter = counter
        self._warned_about_proxy = False

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        settings = self.settings
        self._warn_once_about_an_untrusted_proxy(request)
        limit = settings.public_rate_limit
        if limit == 0:
            return
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        ip = client_ip(request, settings.trusted_proxies)
        bucket = rate_limit_bucket(ip, settings.rate_limit_ipv6_prefix)
        key = f"rollcall:ratelimit:public:{bucket}:{window}"
        try:
            count = await self.counter.hit(key, WINDOW_SECONDS * 2)
        except RedisError as error:
            logger.warning("rate_limit_unavailable", error=str(error)[:200])
            return
        if count > limit:
            retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
            raise TooManyRequestsException(
                f"too many requests; at most {limit} a minute", headers={"Retry-After": str(retry_after)}
            )

    def _warn_once_about_an_untrusted_proxy(self, request: Request[Any, Any, Any]) -> None:
        """Once per process: a forwarding header from an untrusted peer hints at a missing proxy."""
        if self._warned_about_proxy:
            return
        peer = forwarded_by_untrusted_peer(request, self.settings.trusted_proxies)
        if peer is None:
            return
        self._warned_about_proxy = True
        logger.warning(
            "forwarded_header_ignored",
            peer=peer,
            detail=(
                f"a request from {peer} carried X-Forwarded-For/Forwarded, but {peer} is not in TRUSTED_PROXIES, "
                "so the header is ignored: if the API is behind a proxy, every client is counted as the proxy "
                "(one rate limit bucket for all). Set TRUSTED_PROXIES to the proxy's addresses."
            ),
        )


class RequestCounter:
    """Counts requests in Redis keys (INCR, and EXPIRE so a window's key goes away), pipelined across requests.

    While one pipeline is on its way, the counts asked for meanwhile wait and leave together in the next:
    under load one round trip (and one system call each way) serves many requests, and a lone request
    goes at once. Redis client calls cost far more CPU than the commands themselves, so this is what
    keeps the limit cheap on the signing path.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: list[tuple[str, int, asyncio.Future[int]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def hit(self, key: str, expire_seconds: int) -> int:
        """Count one more request in ``key`` (kept ``expire_seconds`` after its latest) and return the count."""
        loop = asyncio.get_running_loop()
        counted: asyncio.Future[int] = loop.create_future()
        self._waiting.append((key, expire_seconds, counted))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_while_waiting())
        return await counted

    async def _send_while_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for key, expire_seconds, _ in batch:
                        pipe.incr(key)
                        pipe.expire(key, expire_seconds)
                    replies = await pipe.execute()
            except Exception as error:  # noqa: BLE001  (handed to each request: a RedisError lets it through)
                for _, _, counted in batch:
                    if not counted.done():
                        counted.set_exception(error)
                continue
            except BaseException:  # cancelled (shutting down): nobody is left waiting forever
                for _, _, counted in [*batch, *self._waiting]:
                    counted.cancel()
                self._waiting = []
                raise
            for index, (_, _, counted) in enumerate(batch):
                if not counted.done():  # its request may have gone away meanwhile
                    counted.set_result(int(replies[2 * index]))


def rate_limit_bucket(ip: str, ipv6_prefix: int) -> str:
    """The bucket of a client IP: the IPv4 address (an IPv4-mapped IPv6 one counts as IPv4), or the IPv6
    address's network of ``ipv6_prefix`` bits (``2001:db8:1:2::/64``). Anything else is its own bucket."""
    address = parsed_address(ip)
    if address is None:
        return ip
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)
