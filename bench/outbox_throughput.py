"""Outbox drain throughput: N no-op ``system.ping`` events, W worker processes.

    uv run python bench/outbox_throughput.py --events 100000 --workers 1

Uses DATABASE_URL / REDIS_URL (embedded servers when unset) but only its own
database ``rollcall_bench`` (recreated and migrated) and Redis db 12. The events
are inserted through ``emit`` in transactions of 100 (distinct aggregates, as
independent pings are). The bench then holds a lock on the outbox table while
the workers start, so their start-up is not timed: the clock runs from the
release of the lock until the last event is delivered. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from app.config import DatabaseSettings
from app.core.db import alchemy_config
from app.outbox import emit
from app.outbox.events import SYSTEM_PING, Ping
from bench._support import Worker, report, scratch_database, servers, worker_env

DATABASE = "rollcall_bench"


async def insert_events(database_url: str, events: int) -> None:
    config = alchemy_config(DatabaseSettings(url=database_url, pool_size=0))
    ping = Ping(requested_by="bench", requested_at=datetime.now(UTC))
    for start in range(0, events, 100):
        async with config.get_session() as session:
            for n in range(start, min(start + 100, events)):
                emit(
                    session,
                    aggregate_type="system",
                    aggregate_id=f"bench-{n}",
                    event_type=SYSTEM_PING,
                    payload=ping,
                    tenant_id=None,
                )
            await session.commit()
    async with config.get_session() as session:
        await session.execute(text("ANALYZE outbox_events"))  # a long-lived table has statistics
        await session.commit()
    await config.get_engine().dispose()


async def drain_behind_a_gate(database_url: str, events: int, workers: list[Worker], env: dict[str, str]) -> float:
    """Start the workers while the outbox is locked; time from unlocking to the last delivery."""
    config = alchemy_config(DatabaseSettings(url=database_url, pool_size=0))
    async with config.get_session() as gate, config.get_session() as watch:
        await gate.execute(text("LOCK TABLE outbox_events IN ACCESS EXCLUSIVE MODE"))
        for worker in workers:
            worker.start(env)
        for worker in workers:
            await asyncio.to_thread(worker.wait_ready)
        await asyncio.sleep(0.5)  # let every relay reach its first (blocked) claim
        started = time.perf_counter()
        await gate.commit()
        while True:
            undelivered = await watch.scalar(
                text("SELECT EXISTS (SELECT 1 FROM outbox_events WHERE status IN ('pending', 'in_flight'))")
            )
            await watch.commit()
            if not undelivered:
                seconds = time.perf_counter() - started
                break
            await asyncio.sleep(0.02)
        delivered = await watch.scalar(text("SELECT count(*) FROM outbox_events WHERE status = 'delivered'"))
    await config.get_engine().dispose()
    if delivered != events:
        raise SystemExit(f"only {delivered} of {events} events were delivered")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500, help="OUTBOX_BATCH_SIZE of the workers")
    args = parser.parse_args()
    with servers() as (server_url, redis_url):
        database_url = scratch_database(server_url, DATABASE)
        asyncio.run(insert_events(database_url, args.events))
        env = worker_env(database_url, redis_url, OUTBOX_BATCH_SIZE=str(args.batch_size))
        workers = [Worker() for _ in range(args.workers)]
        try:
            seconds = asyncio.run(drain_behind_a_gate(database_url, args.events, workers, env))
        finally:
            for worker in workers:
                worker.stop()
    report(
        {
            "events": args.events,
            "workers": args.workers,
            "seconds": round(seconds, 3),
            "events_per_s": round(args.events / seconds),
            "batch_size": args.batch_size,
        }
    )


if __name__ == "__main__":
    main()
