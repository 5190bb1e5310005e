"""Every SQL statement of the outbox protocol, in one place, each with the rule it implements.

The relay (``app.outbox.relay``) and the admin service call these; nothing
else writes ``outbox_events`` except ``app.outbox.emit``: ``emit`` (the ORM
insert) and ``event_insert_sql`` (the same insert for a write path that is one
statement). Statements that finish
or renew a claim are fenced by ``claim_count``, which every claim increments and
nothing resets: a worker whose lease expired and whose event was claimed again
(or dead-lettered, replayed and claimed again) cannot touch the new owner's claim.
``attempts`` is only the retry budget (a replay resets it).

Text that comes from an exception or a remote reply goes through
:func:`storable_text` on its way in, so no value PostgreSQL rejects reaches a
statement that finishes a batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

__all__ = [
    "MAX_TEXT_LENGTH",
    "Claim",
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
    "renew_leases",
    "replay_dead",
    "storable_text",
]

Executor = AsyncSession | AsyncConnection

MAX_TEXT_LENGTH = 2000
"""The longest ``last_error`` or delivery note kept (characters)."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str, *, limit: int = MAX_TEXT_LENGTH) -> str:
    """``text`` as PostgreSQL ``text`` accepts it: NUL dropped, lone surrogates (what ``surrogateescape``
    makes of a non-UTF-8 reply) replaced by U+FFFD, at most ``limit`` characters (cut ones end in "…")."""
    text = _LONE_SURROGATE.sub("\ufffd", text.replace("\x00", ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _storable_or_none(text: str | None) -> str | None:
    return None if text is None else storable_text(text)


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
    claim: int
    """The row's ``claim_count`` as this claim set it: the fencing value of everything that finishes it."""


@dataclass(frozen=True, slots=True)
class Claim:
    claimed: list[ClaimedEvent]
    """Now in flight for this worker, in ``seq`` order."""
    dead: list[ClaimedEvent]
    """Found with an expired lease and no attempts left: now dead (their last attempt never returned)."""


# Claim: the oldest claimable rows (pending and due, or in flight with an expired lease), skipping rows
# another worker holds, and skipping any event whose aggregate has an earlier event not yet delivered
# (dead events block their aggregate until replayed or discarded). Claiming bumps attempts (the retry
# budget) and claim_count (the fence). An expired lease whose attempt was the last one allowed means no
# handler returned within max_attempts (a hang, or a handler that kills its worker): that event is made
# dead here instead of being claimed again, forever.
_CLAIM = text(
    """
    WITH candidate AS (
        SELECT e.id, (e.status = 'in_flight' AND e.attempts >= :max_attempts) AS exhausted
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
    ), dead AS (
        UPDATE outbox_events AS e
        SET status = 'dead',
            locked_until = NULL,
            last_error = format('the lease of attempt %s of %s expired before a handler returned '
                                '(its worker died or hung)', e.attempts, CAST(:max_attempts AS int))
        WHERE e.id = ANY(ARRAY(SELECT id FROM candidate WHERE exhausted))
        RETURNING e.id, e.seq, e.tenant_id, e.aggregate_type, e.aggregate_id, e.event_type,
                  e.payload::text AS payload, e.attempts, e.created_at, e.claim_count AS claim, true AS dead
    ), claimed AS (
        UPDATE outbox_events AS e
        SET status = 'in_flight',
            locked_until = now() + make_interval(secs => :lease_seconds),
            attempts = e.attempts + 1,
            claim_count = e.claim_count + 1
        WHERE e.id = ANY(ARRAY(SELECT id FROM candidate WHERE NOT exhausted))
        RETURNING e.id, e.seq, e.tenant_id, e.aggregate_type, e.aggregate_id, e.event_type,
                  e.payload::text AS payload, e.attempts, e.created_at, e.claim_count AS claim, false AS dead
    )
    SELECT * FROM claimed UNION ALL SELECT * FROM dead
    """
)


async def claim_batch(connection: Executor, *, batch_size: int, lease_seconds: float, max_attempts: int) -> Claim:
    """Claim up to ``batch_size`` events for ``lease_seconds``; commit right after to publish the lease."""
    result = await connection.execute(
        _CLAIM, {"batch_size": batch_size, "lease_seconds": lease_seconds, "max_attempts": max_attempts}
    )
    claimed: list[ClaimedEvent] = []
    dead: list[ClaimedEvent] = []
    for *columns, is_dead in result.all():
        (dead if is_dead else claimed).append(ClaimedEvent(*columns))
    claimed.sort(key=lambda event: event.seq)
    return Claim(claimed, dead)


# Heartbeat: a live worker extends the leases of the events it still holds, so work that runs longer than a
# lease is not taken over. Fenced by claim_count (never a lease another worker now holds); rows locked right
# now are skipped, not waited for (their completion is being written). NO KEY UPDATE does not conflict with
# the key-share lock a running handler's delivery record holds on its event.
_RENEW_LEASES = text(
    """
    WITH held AS (
        SELECT e.id
        FROM outbox_events AS e
        JOIN unnest(CAST(:ids AS uuid[]), CAST(:claims AS bigint[])) AS h(id, claim) ON e.id = h.id
        WHERE e.claim_count = h.claim AND e.status = 'in_flight'
        FOR NO KEY UPDATE OF e SKIP LOCKED
    )
    UPDATE outbox_events AS e
    SET locked_until = now() + make_interval(secs => :lease_seconds)
    WHERE e.id = ANY(ARRAY(SELECT id FROM held))
    RETURNING e.id
    """
)


async def renew_leases(connection: Executor, held: Sequence[ClaimedEvent], *, lease_seconds: float) -> set[UUID]:
    """Extend the leases still held by these claims; returns the ids renewed (the others are no longer held)."""
    if not held:
        return set()
    result = await connection.execute(
        _RENEW_LEASES,
        {
            "ids": [event.id for event in held],
            "claims": [event.claim for event in held],
            "lease_seconds": lease_seconds,
        },
    )
    return {row.id for row in result}


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
    await session.execute(_MARK_SKIPPED, {"event_id": event_id, "handler": handler, "note": storable_text(reason)})


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
    notes = [_storable_or_none(note) for note in notes]
    await connection.execute(
        _RECORD_DELIVERIES, {"event_ids": event_ids, "handlers": handlers, "outcomes": outcomes, "notes": notes}
    )


@dataclass(frozen=True, slots=True)
class Completion:
    """How one claimed event ended: delivered, or failed with a retry delay, or failed for good (dead)."""

    event_id: UUID
    claim: int
    """The claim it finishes (``ClaimedEvent.claim``): a claim taken over since changes nothing."""
    delivered: bool
    retry_in_seconds: float = 0.0
    dead: bool = False
    error: str | None = None


# Finish events in one statement: delivered rows, retries (back to pending after a delay) and dead rows,
# each only while the claim it finishes is still the row's (fenced by claim_count).
_COMPLETE = text(
    """
    WITH outcome AS (
        SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:claims AS bigint[]), CAST(:results AS text[]),
                             CAST(:delays AS float8[]), CAST(:errors AS text[]))
                 AS o(id, claim, result, delay, error)
    ), delivered AS (
        UPDATE outbox_events AS e
        SET status = 'delivered', delivered_at = now(), locked_until = NULL
        FROM outcome AS o
        WHERE e.id = o.id AND e.claim_count = o.claim AND e.status = 'in_flight' AND o.result = 'delivered'
        RETURNING e.id
    ), failed AS (
        UPDATE outbox_events AS e
        SET status = CASE WHEN o.result = 'dead' THEN 'dead' ELSE 'pending' END,
            available_at = now() + make_interval(secs => o.delay),
            locked_until = NULL,
            last_error = o.error
        FROM outcome AS o
        WHERE e.id = o.id AND e.claim_count = o.claim AND e.status = 'in_flight' AND o.result <> 'delivered'
        RETURNING e.id
    )
    SELECT (SELECT count(*) FROM delivered) AS delivered, (SELECT count(*) FROM failed) AS failed
    """
)


async def complete_batch(connection: Executor, completions: Sequence[Completion]) -> tuple[int, int]:
    """Apply every completion whose claim is still current; return (delivered, failed) row counts."""
    if not completions:
        return 0, 0
    results = ["delivered" if c.delivered else "dead" if c.dead else "retry" for c in completions]
    row: Row[Any] = (
        await connection.execute(
            _COMPLETE,
            {
                "ids": [c.event_id for c in completions],
                "claims": [c.claim for c in completions],
                "results": results,
                "delays": [c.retry_in_seconds for c in completions],
                "errors": [_storable_or_none(c.error) for c in completions],
            },
        )
    ).one()
    return int(row.delivered), int(row.failed)


# Give back events claimed but never started (shutdown): the attempt is given back too, the claim count is
# not (a fence value is never handed out twice).
_RELEASE = text(
    """
    UPDATE outbox_events AS e
    SET status = 'pending', locked_until = NULL, attempts = e.attempts - 1
    FROM unnest(CAST(:ids AS uuid[]), CAST(:claims AS bigint[])) AS r(id, claim)
    WHERE e.id = r.id AND e.claim_count = r.claim AND e.status = 'in_flight'
    """
)


async def release(connection: Executor, claimed: Sequence[ClaimedEvent]) -> None:
    if claimed:
        await connection.execute(_RELEASE, {"ids": [c.id for c in claimed], "claims": [c.claim for c in claimed]})


_NEXT_LEASE_EXPIRY = text(
    "SELECT EXTRACT(EPOCH FROM min(locked_until) - now()) FROM outbox_events WHERE status = 'in_flight'"
)


async def next_lease_expiry(connection: Executor) -> float | None:
    """Seconds until the earliest lease expires (negative: already expired); None when nothing is in flight."""
    value = (await connection.execute(_NEXT_LEASE_EXPIRY)).scalar()
    return None if value is None else float(value)


# Admin: a dead event goes back to pending as if new (attempts reset, a full retry budget); its aggregate
# flows again. claim_count is kept: a worker still holding a claim from before cannot finish the new one.
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
