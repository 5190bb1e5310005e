"""Job functions: tiny, taking a ctx and plain arguments (never ORM objects).

arq only carries signals here; the outbox rows in PostgreSQL are the work.
"""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime
from typing import Any

import structlog

from app.hall.registrations.daily import DailyReport, run_daily
from app.outbox import sql
from app.outbox.relay import Relay

__all__ = ["hall_daily", "outbox_nudge", "outbox_retention", "outbox_sweep", "ping"]

logger = structlog.get_logger(__name__)

RETENTION_BATCH = 10_000


async def ping(ctx: dict[str, Any]) -> str:
    """Answer which worker took the job: proves a worker consumes the queue (``rollcall worker-ping``)."""
    return f"pong from {socket.gethostname()}:{os.getpid()}"


async def outbox_nudge(ctx: dict[str, Any]) -> None:
    """A nudge sent as an arq job, by an API process of the version before nudges were published: wake this
    worker's relay now. Kept so a rolling upgrade loses no nudge; current processes publish
    (``app.outbox.emit.listen_for_nudges``)."""
    relay: Relay = ctx["relay"]
    relay.wake()


async def outbox_sweep(ctx: dict[str, Any]) -> None:
    """Every second (cron): wake the relay even if a nudge was lost (each relay also sweeps on its own)."""
    relay: Relay = ctx["relay"]
    relay.wake()


async def outbox_retention(ctx: dict[str, Any]) -> int:
    """Daily: delete delivered events older than OUTBOX_RETENTION_DAYS, a bounded batch per transaction."""
    relay: Relay = ctx["relay"]
    deleted = 0
    while True:
        async with relay.session_maker() as session:
            count = await sql.delete_delivered_before(
                session, days=relay.settings.retention_days, batch_size=RETENTION_BATCH
            )
            await session.commit()
        deleted += count
        if count < RETENTION_BATCH:
            break
        await asyncio.sleep(0)  # let deliveries run between batches
    logger.info("outbox_retention_done", deleted=deleted, older_than_days=relay.settings.retention_days)
    return deleted


async def hall_daily(ctx: dict[str, Any]) -> DailyReport:
    """Every quarter hour (cron): each hall's registrations that its *today* makes due (rules 3 and 6):
    exemptions begin and end, lapsed registrations roll off, re-sign reminders go out. Idempotent."""
    return await run_daily(ctx["session_maker"], now=datetime.now(UTC))
