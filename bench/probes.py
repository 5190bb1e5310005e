"""Event types and handlers the benchmarks load into their workers (``OUTBOX_HANDLER_MODULES=bench.probes``)."""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox import Event, handler, register_event_type

LATENCY = "bench.latency"
EFFECT = "bench.effect"
LATENCY_KEY = "bench:handler_started"


class Probe(msgspec.Struct):
    n: int


register_event_type(LATENCY, Probe)
register_event_type(EFFECT, Probe)

_redis: dict[str, Any] = {}


@handler(LATENCY, name="record_start")
async def record_start(event: Event[Probe]) -> None:
    """Note when the handler started (wall clock), keyed by event id, for the latency benchmark."""
    started = time.time()
    redis = _redis.get("client")
    if redis is None:
        redis = _redis["client"] = Redis.from_url(os.environ["REDIS_URL"])
    await redis.hset(LATENCY_KEY, str(event.id), repr(started))


@handler(EFFECT, name="write_effect")
async def write_effect(event: Event[Probe], session: AsyncSession) -> None:
    """An effect row per delivery, deliberately without a unique key: duplicates would show."""
    await session.execute(
        text("INSERT INTO bench_effects (event_id, worker_pid) VALUES (:event_id, :pid)"),
        {"event_id": event.id, "pid": os.getpid()},
    )
