"""Outbox under chaos: workers killed with SIGKILL while events flow, and Redis flushed in the middle.

    uv run python bench/outbox_chaos.py --events 5000 --workers 3

Emits ``--events`` ``bench.effect`` events at ``--rate`` a second through the
real emit + commit + nudge path. Their handler writes an effect row keyed by
the event id, in a table without a unique key, so a duplicate delivery would
show. Every ``--kill-every`` seconds (jittered) a random worker gets SIGKILL
and a new one starts; once, half way, Redis gets FLUSHALL (the whole Redis
server named by REDIS_URL: use a Redis that holds nothing else). At the end
every event must be delivered, every effect must exist exactly once and
nothing may be dead. Uses its own database (``--database``). Prints one JSON
line; exits 1 when an invariant fails.

Recovery: right after each kill the bench notes every in-flight claim (event,
``claim_count``). A claim that is later superseded by another claim was held by
a worker that died, at the last kill whose note has it (its holder was alive,
and renewing it, until then). ``max_recovery_seconds`` is the longest time from
such a kill to the event's delivery: how long a killed worker's events wait.
``max_in_flight_at_kill_seconds`` is the older, looser figure: from a kill to
the delivery of anything in flight at that moment, whoever held it (under a
backlog it measures the backlog more than the recovery).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq.connections import ArqRedis
from sqlalchemy import text

from app.config import DatabaseSettings, OutboxSettings
from app.core.db import alchemy_config
from app.outbox import emit
from app.outbox.emit import Nudger, nudging
from bench._support import Worker, drop_database, report, scratch_database, servers, worker_env
from bench.probes import EFFECT, Probe


class Chaos:
    def __init__(self, args: argparse.Namespace, database_url: str, redis_url: str) -> None:
        self.args = args
        self.database_url = database_url
        self.redis_url = redis_url
        self.lease = OutboxSettings().lease_seconds if args.lease is None else args.lease
        self.env = worker_env(database_url, redis_url, OUTBOX_LEASE_SECONDS=str(self.lease))
        self.workers: list[Worker] = []
        self.kills: list[tuple[float, dict[UUID, int]]] = []
        """(when, {event id: claim_count}) of the claims in flight right after each kill."""
        self.flushed = False
        self.emitted = 0
        self.rng = random.Random(args.seed)  # noqa: S311
        nudger = Nudger()
        nudger.pool = ArqRedis.from_url(redis_url)
        self.nudger = nudger
        self.db = alchemy_config(DatabaseSettings(url=database_url, pool_size=4), session_info=nudging(nudger))

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.db.get_session() as session:
            result = await session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await session.commit()
            return rows

    async def run(self) -> dict[str, Any]:
        await self.sql(
            "CREATE TABLE bench_effects (event_id uuid NOT NULL, worker_pid int NOT NULL, at timestamptz DEFAULT now())"
        )
        self.workers = [Worker(self.env) for _ in range(self.args.workers)]
        for worker in self.workers:
            await asyncio.to_thread(worker.wait_ready)
        started = time.perf_counter()
        emitting = asyncio.create_task(self.emit_events())
        while not emitting.done():
            await asyncio.sleep(self.args.kill_every * self.rng.uniform(0.5, 1.5))
            if not emitting.done():
                await self.kill_one()
            if not self.flushed and self.emitted >= self.args.events // 2:
                await self.flushall()
        await emitting
        await self.wait_for_delivery(deadline=time.monotonic() + self.lease + 120)
        seconds = time.perf_counter() - started
        return await self.verdict(seconds)

    async def emit_events(self) -> None:
        """``rate`` events a second, committed in small transactions every 20 ms."""
        per_tick = max(1, round(self.args.rate / 50))
        started = time.perf_counter()
        while self.emitted < self.args.events:
            async with self.db.get_session() as session:
                for _ in range(min(per_tick, self.args.events - self.emitted)):
                    emit(
                        session,
                        aggregate_type="chaos",
                        aggregate_id=f"effect-{self.emitted}",
                        event_type=EFFECT,
                        payload=Probe(n=self.emitted),
                        tenant_id=None,
                    )
                    self.emitted += 1
                await session.commit()
            due = started + self.emitted / self.args.rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    async def kill_one(self) -> None:
        alive = [worker for worker in self.workers if worker.process and worker.process.poll() is None]
        victim = self.rng.choice(alive)
        victim.kill()
        killed_at = time.time()
        rows = await self.sql("SELECT id, claim_count FROM outbox_events WHERE status = 'in_flight'")
        self.kills.append((killed_at, {row.id: row.claim_count for row in rows}))
        self.workers.append(Worker(self.env))

    async def flushall(self) -> None:
        redis = ArqRedis.from_url(self.redis_url)
        await redis.flushall()
        await redis.aclose()
        self.flushed = True

    async def wait_for_delivery(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            rows = await self.sql("SELECT count(*) AS n FROM outbox_events WHERE status IN ('pending', 'in_flight')")
            if rows[0].n == 0:
                return
            await asyncio.sleep(0.2)

    async def verdict(self, seconds: float) -> dict[str, Any]:
        statuses = {
            row.status: row.n
            for row in await self.sql("SELECT status, count(*) AS n FROM outbox_events GROUP BY status")
        }
        effects = (
            await self.sql("SELECT count(*) AS total, count(DISTINCT event_id) AS distinct_events FROM bench_effects")
        )[0]
        delivered = {
            row.id: (row.delivered_at, row.claim_count)
            for row in await self.sql(
                "SELECT id, delivered_at, claim_count FROM outbox_events WHERE status = 'delivered'"
            )
        }
        loose = [
            delivered[event_id][0].timestamp() - killed_at
            for killed_at, in_flight in self.kills
            for event_id in in_flight
            if event_id in delivered
        ]
        orphaned: dict[UUID, float] = {}  # event -> the kill of the last worker that held it
        for killed_at, in_flight in self.kills:
            for event_id, claim in in_flight.items():
                if event_id in delivered and delivered[event_id][1] > claim:
                    orphaned[event_id] = killed_at
        recoveries = [delivered[event_id][0].timestamp() - killed_at for event_id, killed_at in orphaned.items()]
        return {
            "events": self.args.events,
            "workers": self.args.workers,
            "lease_seconds": self.lease,
            "kills": len(self.kills),
            "flushall": self.flushed,
            "delivered": statuses.get("delivered", 0),
            "dead": statuses.get("dead", 0),
            "lost": self.args.events - statuses.get("delivered", 0) - statuses.get("dead", 0),
            "effects": effects.total,
            "duplicate_effects": effects.total - effects.distinct_events,
            "missing_effects": self.args.events - effects.distinct_events,
            "in_flight_at_kills": sum(len(in_flight) for _, in_flight in self.kills),
            "taken_over_from_killed_workers": len(orphaned),
            "max_recovery_seconds": round(max(recoveries), 2) if recoveries else None,
            "max_in_flight_at_kill_seconds": round(max(loose), 2) if loose else None,
            "seconds": round(seconds, 2),
        }

    async def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        await self.nudger.drain()
        await self.nudger.pool.aclose()
        await self.db.get_engine().dispose()


async def chaos(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    run = Chaos(args, database_url, redis_url)
    try:
        return await run.run()
    finally:
        await run.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=250, help="events emitted per second")
    parser.add_argument("--kill-every", type=float, default=2.0, help="mean seconds between SIGKILLs")
    parser.add_argument(
        "--lease", type=float, default=None, help="OUTBOX_LEASE_SECONDS of the workers (default: the setting's default)"
    )
    parser.add_argument("--database", default="rollcall_chaos", help="scratch database (recreated)")
    parser.add_argument("--drop", action="store_true", help="drop the scratch database afterwards")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    with servers() as (server_url, redis_url):
        database_url = scratch_database(server_url, args.database)
        try:
            result = asyncio.run(chaos(args, database_url, redis_url))
        finally:
            if args.drop:
                drop_database(server_url, args.database)
    report(result)
    failed = result["lost"] or result["dead"] or result["duplicate_effects"] or result["missing_effects"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
