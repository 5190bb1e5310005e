"""Per-client-IP rate limit backed by Redis, so it holds across API processes."""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from redis.exceptions import RedisError

from app.config import Settings
from app.core.client_ip import client_ip

__all__ = ["public_rate_limit"]

logger = structlog.get_logger(__name__)
WINDOW_SECONDS = 60


async def public_rate_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: at most PUBLIC_RATE_LIMIT requests a minute per client IP (a fixed one-minute window).

    If Redis is unreachable the request goes through: the limit protects against
    abuse and must not take the signing links down with Redis.
    """
    settings: Settings = connection.app.state.settings
    limit = settings.server.public_rate_limit
    if limit == 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"rollcall:ratelimit:public:{client_ip(connection, settings.server.trusted_proxies)}:{window}"
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
