"""Every SQL statement of the outbox protocol, in one place, each with the rule it implements.

The relay (``app.outbox.relay``) and the admin service call these; nothing
else writes ``outbox_events`` except ``emit``'s insert. Statements that finish
a claimed event are fenced by ``attempts``: a worker whose lease expired and
whose event was claimed again (``attempts`` + 1) cannot overwrite the new owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

__all__ = [
    "ClaimedEvent",
    "Completion",
    "OutboxCounts",
    "claim_batch",
    "complete_batch",
    "delete_delivered_before",
    "delivered_handlers",
    "discard_dead",
    "mark_skipped",
    "next_lease_expiry",
    "outbox_counts",
    "record_deliveries",
    "record_delivery",
    "release",
    "replay_dead",
]

Executor = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    id: UUID
    seq: int
    tenant_id: UUID | None
    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: Any
    """The raw JSON text (or decoded object) of the payload."""
    attempts: int
    """Including this claim: 1 on the first delivery attempt."""
    created_at: datetime


# Claim: the oldest claimable rows (pending and due, or in flight with an expired lease), skipping rows
# another worker holds, and skipping any event whose aggregate has an earlier event not yet delivered
# (dead events block their aggregate until replayed or discarded).
_CLAIM = text(
    """
    WITH claimable AS (
        SELECT e.id
        FROM outbox_events AS e
        WHERE e.status IN ('pending', 'in_flight')
          AND ((e.status = 'pending' AND e.available_at <= now())
               OR (e.status = 'in_flight' AND e.locked_until < now()))
          AND NOT EXISTS (
              SELECT 1 FROM outbox_events AS earlier
              WHERE earlier.aggregate_type = e.aggregate_type
                AND earlier.aggregate_id = e.aggregate_id
                AND earlier.seq < e.seq
                AND earlier.status <> 'delivered'
          )
        ORDER BY e.seq
        LIMIT :batch_size
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_events AS e
    SET status = 'in_flight',
        locked_until = now() + make_interval(secs => :lease_seconds),
        attempts = e.attempts + 1
    WHERE e.id = ANY(ARRAY(SELECT id FROM claimable))
    RETURNING e.id, e.seq, e.tenant_id, e.aggregate_type, e.aggregate_id, e.event_type,
              e.payload::text AS payload, e.attempts, e.created_at
    """
)


async def claim_batch(connection: Executor, *, batch_size: int, lease_seconds: float) -> list[ClaimedEvent]:
    """Claim up to ``batch_size`` events for ``lease_seconds``; commit right after to publish the lease."""
    result = await connection.execute(_CLAIM, {"batch_size": batch_size, "lease_seconds": lease_seconds})
    events = [ClaimedEvent(*row) for row in result.all()]
    events.sort(key=lambda claimed: claimed.seq)
    return events


_DELIVERED_HANDLERS = text("SELECT event_id, handler FROM outbox_deliveries WHERE event_id = ANY(CAST(:ids AS uuid[]))")


async def delivered_handlers(connection: Executor, event_ids: Sequence[UUID]) -> set[tuple[UUID, str]]:
    """(event, handler) pairs already recorded: a retry skips them."""
    if not event_ids:
        return set()
    result = await connection.execute(_DELIVERED_HANDLERS, {"ids": list(event_ids)})
    return {(row.event_id, row.handler) for row in result}


# One handler's delivery, written first in the handler's own transaction: the primary key then serialises
# a duplicate run (a worker whose lease expired) and the loser's writes roll back with its insert.
_RECORD_DELIVERY = text(
    """
    INSERT INTO outbox_deliveries (event_id, handler, outcome, note)
    VALUES (:event_id, :handler, 'done', NULL)
    ON CONFLICT (event_id, handler) DO NOTHING
    RETURNING event_id
    """
)


async def record_delivery(session: AsyncSession, event_id: UUID, handler: str) -> bool:
    """Record the handler as done; False when it already was (then it must not run again)."""
    result = await session.execute(_RECORD_DELIVERY, {"event_id": event_id, "handler": handler})
    return result.first() is not None


_MARK_SKIPPED = text(
    "UPDATE outbox_deliveries SET outcome = 'skipped', note = :note WHERE event_id = :event_id AND handler = :handler"
)


async def mark_skipped(session: AsyncSession, event_id: UUID, handler: str, reason: str) -> None:
    await session.execute(_MARK_SKIPPED, {"event_id": event_id, "handler": handler, "note": reason})


_RECORD_DELIVERIES = text(
    """
    INSERT INTO outbox_deliveries (event_id, handler, outcome, note)
    SELECT * FROM unnest(CAST(:event_ids AS uuid[]), CAST(:handlers AS text[]),
                         CAST(:outcomes AS text[]), CAST(:notes AS text[]))
    ON CONFLICT (event_id, handler) DO NOTHING
    """
)


async def record_deliveries(connection: Executor, rows: Sequence[tuple[UUID, str, str, str | None]]) -> None:
    """Bulk-record (event, handler, outcome, note) for handlers that write nothing themselves."""
    if not rows:
        return
    event_ids, handlers, outcomes, notes = (list(column) for column in zip(*rows, strict=True))
    await connection.execute(
        _RECORD_DELIVERIES, {"event_ids": event_ids, "handlers": handlers, "outcomes": outcomes, "notes": notes}
    )


@dataclass(frozen=True, slots=True)
class Completion:
    """How one claimed event ended: delivered, or failed with a retry delay, or failed for good (dead)."""

    event_id: UUID
    attempts: int
    delivered: bool
    retry_in_seconds: float = 0.0
    dead: bool = False
    error: str | None = None


# Finish a batch in one statement: delivered rows, retries (back to pending after a delay) and dead rows.
_COMPLETE = text(
    """
    WITH outcome AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS int[]), CAST(:results AS text[]),
                             CAST(:delays AS float8[]), CAST(:errors AS text[]))
                 AS o(id, attempts, result, delay, error)
    ), delivered AS (
        UPDATE outbox_events AS e
        SET status = 'delivered', delivered_at = now(), locked_until = NULL
        FROM outcome AS o
        WHERE e.id = o.id AND e.attempts = o.attempts AND e.status = 'in_flight' AND o.result = 'delivered'
        RETURNING e.id
    ), failed AS (
        UPDATE outbox_events AS e
        SET status = CASE WHEN o.result = 'dead' THEN 'dead' ELSE 'pending' END,
            available_at = now() + make_interval(secs => o.delay),
            locked_until = NULL,
            last_error = o.error
        FROM outcome AS o
        WHERE e.id = o.id AND e.attempts = o.attempts AND e.status = 'in_flight' AND o.result <> 'delivered'
        RETURNING e.id
    )
    SELECT (SELECT count(*) FROM delivered) AS delivered, (SELECT count(*) FROM failed) AS failed
    """
)


async def complete_batch(connection: Executor, completions: Sequence[Completion]) -> tuple[int, int]:
    """Apply every completion still owned by this worker; return (delivered, failed) row counts."""
    if not completions:
        return 0, 0
    results = ["delivered" if c.delivered else "dead" if c.dead else "retry" for c in completions]
    row: Row[Any] = (
        await connection.execute(
            _COMPLETE,
            {
                "ids": [c.event_id for c in completions],
                "attempts": [c.attempts for c in completions],
                "results": results,
                "delays": [c.retry_in_seconds for c in completions],
                "errors": [c.error for c in completions],
            },
        )
    ).one()
    return int(row.delivered), int(row.failed)


# Give back events claimed but never started (shutdown): as if they had not been claimed.
_RELEASE = text(
    """
    UPDATE outbox_events AS e
    SET status = 'pending', locked_until = NULL, attempts = e.attempts - 1
    FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS int[])) AS r(id, attempts)
    WHERE e.id = r.id AND e.attempts = r.attempts AND e.status = 'in_flight'
    """
)


async def release(connection: Executor, claimed: Sequence[ClaimedEvent]) -> None:
    if claimed:
        await connection.execute(_RELEASE, {"ids": [c.id for c in claimed], "attempts": [c.attempts for c in claimed]})


_NEXT_LEASE_EXPIRY = text(
    "SELECT EXTRACT(EPOCH FROM min(locked_until) - now()) FROM outbox_events WHERE status = 'in_flight'"
)


async def next_lease_expiry(connection: Executor) -> float | None:
    """Seconds until the earliest lease expires (negative: already expired); None when nothing is in flight."""
    value = (await connection.execute(_NEXT_LEASE_EXPIRY)).scalar()
    return None if value is None else float(value)


# Admin: a dead event goes back to pending as if new (attempts reset); its aggregate flows again.
_REPLAY_DEAD = text(
    """
    UPDATE outbox_events
    SET status = 'pending', attempts = 0, available_at = now(), locked_until = NULL
    WHERE id = :event_id AND tenant_id = :tenant_id AND status = 'dead'
    RETURNING id
    """
)


async def replay_dead(session: AsyncSession, event_id: UUID, tenant_id: UUID) -> bool:
    """True when the event was dead (and is now pending)."""
    return (await session.execute(_REPLAY_DEAD, {"event_id": event_id, "tenant_id": tenant_id})).first() is not None


# Admin: a dead event is given up on; it counts as delivered (unblocking its aggregate) and the
# decision is recorded as a skipped delivery of the pseudo-handler "discarded".
_DISCARD_DEAD = text(
    """
    WITH discarded AS (
        UPDATE outbox_events
        SET status = 'delivered', delivered_at = now(), locked_until = NULL
        WHERE id = :event_id AND tenant_id = :tenant_id AND status = 'dead'
        RETURNING id
    )
    INSERT INTO outbox_deliveries (event_id, handler, outcome, note)
    SELECT id, 'discarded', 'skipped', :note FROM discarded
    ON CONFLICT (event_id, handler) DO UPDATE SET note = EXCLUDED.note, delivered_at = now()
    RETURNING event_id
    """
)


async def discard_dead(session: AsyncSession, event_id: UUID, tenant_id: UUID, note: str) -> bool:
    """True when the event was dead (and is now delivered with the note)."""
    params = {"event_id": event_id, "tenant_id": tenant_id, "note": note}
    return (await session.execute(_DISCARD_DEAD, params)).first() is not None


# Retention: delivered events older than the cut-off, a bounded batch at a time (deliveries cascade).
_DELETE_DELIVERED = text(
    """
    DELETE FROM outbox_events
    WHERE id IN (
        SELECT id FROM outbox_events
        WHERE status = 'delivered' AND delivered_at < now() - make_interval(days => :days)
        LIMIT :batch_size
    )
    """
)


async def delete_delivered_before(connection: Executor, *, days: int, batch_size: int) -> int:
    """Delete one batch; returns how many rows went (0 when done)."""
    result = await connection.execute(_DELETE_DELIVERED, {"days": days, "batch_size": batch_size})
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    in_flight: int
    dead: int
    oldest_pending_age_seconds: float | None


_COUNTS = text(
    """
    SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'in_flight') AS in_flight,
           count(*) FILTER (WHERE status = 'dead') AS dead,
           EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE status IN ('pending', 'in_flight'))) AS oldest
    FROM outbox_events
    WHERE status <> 'delivered' AND (CAST(:tenant_id AS uuid) IS NULL OR tenant_id = CAST(:tenant_id AS uuid))
    """
)


async def outbox_counts(connection: Executor, tenant_id: UUID | None = None) -> OutboxCounts:
    """Undelivered counts and the age of the oldest undelivered (lag), for one tenant or all."""
    row = (await connection.execute(_COUNTS, {"tenant_id": tenant_id})).one()
    oldest = None if row.oldest is None else float(row.oldest)
    return OutboxCounts(int(row.pending), int(row.in_flight), int(row.dead), oldest)
