"""Outbox latency: commit → handler start, through the real emit + commit + nudge path.

    uv run python bench/outbox_latency.py --rate 200 --seconds 30

Uses DATABASE_URL / REDIS_URL (embedded servers when unset), its own database
``rollcall_bench`` and Redis db 12. One worker process (``--workers``) runs a
probe handler that notes the wall-clock time it started; the emitter notes the
time each commit returned. Both clocks are this machine's. Prints one JSON line
with the percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq.connections import ArqRedis

from app.config import DatabaseSettings
from app.core.db import alchemy_config
from app.outbox import emit
from app.outbox.emit import Nudger, nudging
from bench._support import percentile, report, scratch_database, servers, start_workers, worker_env
from bench.probes import LATENCY, LATENCY_KEY, Probe

DATABASE = "rollcall_bench"


async def emit_at_rate(database_url: str, redis_url: str, rate: float, seconds: float) -> dict[UUID, float]:
    """Emit ``rate`` events a second for ``seconds``; return each event's commit time."""
    nudger = Nudger()
    nudger.pool = ArqRedis.from_url(redis_url)
    config = alchemy_config(DatabaseSettings(url=database_url, pool_size=4), session_info=nudging(nudger))
    committed: dict[UUID, float] = {}
    count = int(rate * seconds)
    started = time.perf_counter()
    for n in range(count):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        async with config.get_session() as session:
            event_id = emit(
                session,
                aggregate_type="bench",
                aggregate_id=f"probe-{n}",
                event_type=LATENCY,
                payload=Probe(n=n),
                tenant_id=None,
            )
            await session.commit()
            committed[event_id] = time.time()
    await nudger.drain()
    await config.get_engine().dispose()
    await nudger.pool.aclose()
    return committed


async def collect_starts(redis_url: str, expected: int, within: float = 60) -> dict[UUID, float]:
    redis = ArqRedis.from_url(redis_url)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and await redis.hlen(LATENCY_KEY) < expected:  # noqa: ASYNC110 (polls Redis)
        await asyncio.sleep(0.1)
    raw = await redis.hgetall(LATENCY_KEY)
    await redis.aclose()
    return {UUID(key.decode()): float(value) for key, value in raw.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200, help="events per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with servers() as (server_url, redis_url):
        database_url = scratch_database(server_url, DATABASE)
        workers = start_workers(args.workers, worker_env(database_url, redis_url))
        try:
            redis = ArqRedis.from_url(redis_url)
            asyncio.run(_reset(redis))
            committed = asyncio.run(emit_at_rate(database_url, redis_url, args.rate, args.seconds))
            started = asyncio.run(collect_starts(redis_url, len(committed)))
        finally:
            for worker in workers:
                worker.stop()
    latencies = [(started[event_id] - at) * 1000 for event_id, at in committed.items() if event_id in started]
    report(
        {
            "rate": args.rate,
            "seconds": args.seconds,
            "workers": args.workers,
            "events": len(committed),
            "missing": len(committed) - len(latencies),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "mean_ms": round(statistics.fmean(latencies), 2),
            "max_ms": round(max(latencies), 2),
        }
    )


async def _reset(redis: ArqRedis) -> None:
    await redis.delete(LATENCY_KEY)
    await redis.aclose()


if __name__ == "__main__":
    main()
