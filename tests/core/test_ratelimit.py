"""The public links' rate limit buckets: per IPv4 address, per IPv6 /64 (configurable), behind a trusted proxy."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.asgi import create_app
from app.config import Settings, SettingsError
from app.core.ratelimit import RequestCounter
from tests.processes import free_port
from tests.waiting import wait_for

LINK = "/api/v1/contracts/no-such-token"
PREFIX = "rollcall:ratelimit:public:"


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a loopback port (the peer of every request is 127.0.0.1), and a client for it."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=free_port(), log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started or task.done(), what="the server to start")
        assert not task.done(), "the server stopped before it started"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.config.port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task


async def buckets(redis_url: str) -> Counter[str]:
    """Requests counted per bucket (the client part of the key; the minute window stripped)."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        counts: Counter[str] = Counter()
        async for key in redis.scan_iter(f"{PREFIX}*"):
            counts[key.removeprefix(PREFIX).rpartition(":")[0]] += int(await redis.get(key) or 0)
        return counts
    finally:
        await redis.aclose()


async def forget_buckets(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(f"{PREFIX}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (
            None,
            {"2001:db8:1:2::/64": 2, "2001:db8:1:3::/64": 1, "198.51.100.7": 2, "198.51.100.8": 1},
        ),
        (
            "128",
            {
                "2001:db8:1:2::a/128": 1,
                "2001:db8:1:2::b/128": 1,
                "2001:db8:1:3::a/128": 1,
                "198.51.100.7": 2,
                "198.51.100.8": 1,
            },
        ),
        ("48", {"2001:db8:1::/48": 3, "198.51.100.7": 2, "198.51.100.8": 1}),
    ],
    ids=["default-64", "per-address", "48"],
)
async def test_ipv6_clients_share_a_bucket_per_network_and_ipv4_per_address(
    env: dict[str, str], redis_url: str, prefix: str | None, expected: dict[str, int]
) -> None:
    overrides = {"TRUSTED_PROXIES": "127.0.0.1", "PUBLIC_RATE_LIMIT": "100"}
    if prefix is not None:
        overrides["RATE_LIMIT_IPV6_PREFIX"] = prefix
    clients = ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:3::a", "198.51.100.7", "::ffff:198.51.100.7"]
    async with serving(Settings.from_env({**env, **overrides})) as http:
        for client in [*clients, "198.51.100.8"]:
            response = await http.get(LINK, headers={"X-Forwarded-For": client})
            assert response.status_code == 404, response.text
    assert await buckets(redis_url) == expected


async def test_a_second_address_of_a_limited_ipv6_network_is_limited_too(env: dict[str, str], redis_url: str) -> None:
    settings = Settings.from_env({**env, "TRUSTED_PROXIES": "127.0.0.1", "PUBLIC_RATE_LIMIT": "2"})
    async with serving(settings) as http:
        for _ in range(2):  # a second go, from empty buckets, only if the minute turned during the first
            await forget_buckets(redis_url)
            window = time.time() // 60
            statuses = [
                (await http.get(LINK, headers={"X-Forwarded-For": client})).status_code
                for client in ("2001:db8:1:2::a", "2001:db8:1:2::a", "2001:db8:1:2::1:b", "2001:db8:1:3::a")
            ]
            if time.time() // 60 == window:
                break
    assert statuses == [404, 404, 429, 404]


@pytest.mark.parametrize("value", ["31", "129", "sixty-four"])
def test_the_ipv6_prefix_is_a_network_length_between_32_and_128(env: dict[str, str], value: str) -> None:
    with pytest.raises(SettingsError, match="RATE_LIMIT_IPV6_PREFIX"):
        Settings.from_env({**env, "RATE_LIMIT_IPV6_PREFIX": value})


async def test_concurrent_requests_are_each_counted_once_and_the_window_key_expires(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        counter = RequestCounter(redis)
        key = f"{PREFIX}concurrent-test:1"
        counts = await asyncio.gather(*(counter.hit(key, 120) for _ in range(50)))
        assert sorted(counts) == list(range(1, 51))
        assert 0 < await redis.ttl(key) <= 120
        assert await counter.hit(key, 120) == 51  # a lone request after the burst goes at once
    finally:
        await redis.aclose()


async def test_when_redis_is_unreachable_every_waiting_request_hears_so() -> None:
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        counter = RequestCounter(redis)
        outcomes = await asyncio.gather(
            *(counter.hit(f"{PREFIX}down:{n}", 120) for n in range(5)), return_exceptions=True
        )
        assert all(isinstance(outcome, RedisError) for outcome in outcomes), outcomes
    finally:
        await redis.aclose()


async def test_a_request_that_goes_away_while_counted_leaves_the_others_counted(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        counter = RequestCounter(redis)
        key = f"{PREFIX}cancelled-test:1"
        first = asyncio.create_task(counter.hit(key, 120))
        others = [asyncio.create_task(counter.hit(key, 120)) for _ in range(3)]
        # One turn of the event loop (no time passes), part of what is tested: the requests are being
        # counted when the first one goes away.
        await asyncio.sleep(0)
        first.cancel()
        assert sorted(await asyncio.gather(*others)) in ([1, 2, 3], [2, 3, 4])
    finally:
        await redis.aclose()
