"""``emit``: add an event to the caller's transaction; after the commit, nudge the workers."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import msgspec
import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.outbox.models import OutboxEvent
from app.outbox.registry import OutboxRegistry, registry

__all__ = [
    "NUDGER_KEY",
    "NUDGE_INTERVAL_SECONDS",
    "NUDGE_JOB",
    "Nudger",
    "emit",
    "event_insert_sql",
    "listen_for_nudges",
    "nudge_channel",
    "nudge_for",
    "nudging",
    "request_nudge",
]

logger = structlog.get_logger(__name__)

NUDGE_JOB = "outbox_nudge"
"""The arq job an API process of an earlier version sends as its nudge (workers still take it)."""
NUDGER_KEY = "rollcall.outbox.nudger"
"""``Session.info`` key of the :class:`Nudger` (set through the session factory's ``info``)."""
_SQL_NAME = re.compile(r"[a-z][a-z0-9_.]*")
"""Event types, aggregate types and payload keys: written into SQL as literals, so nothing that needs quoting."""
_PENDING_NUDGE = "rollcall.outbox.pending_nudge"
NUDGE_INTERVAL_SECONDS = 0.01
"""The shortest time between two nudges of one process: a lone commit's nudge leaves at once."""


def emit(
    session: AsyncSession,
    *,
    aggregate_type: str,
    aggregate_id: str | UUID,
    event_type: str,
    payload: msgspec.Struct,
    tenant_id: UUID | None,
    events: OutboxRegistry = registry,
) -> UUID:
    """Add an event to ``session``'s transaction and return its id; it exists only if the caller commits.

    The payload must be the Struct registered for ``event_type``; it is validated
    (including ``Meta`` constraints) before anything is written.
    """
    payload_type = events.payload_type(event_type)
    if type(payload) is not payload_type:
        raise TypeError(f"{event_type} takes a {payload_type.__name__} payload, not {type(payload).__name__}")
    data: dict[str, Any] = msgspec.to_builtins(payload)
    msgspec.convert(data, payload_type)
    event_id = uuid4()
    session.add(
        OutboxEvent(
            id=event_id,
            tenant_id=tenant_id,
            aggregate_type=aggregate_type,
            aggregate_id=str(aggregate_id),
            event_type=event_type,
            payload=data,
        )
    )
    request_nudge(session)
    return event_id


def event_insert_sql(
    *,
    source: str,
    aggregate_type: str,
    aggregate_id: str,
    event_type: str,
    payload: dict[str, str],
    tenant_id: str,
    events: OutboxRegistry = registry,
) -> str:
    """``emit`` for a write path that is one SQL statement: an ``INSERT INTO outbox_events … SELECT … FROM
    source`` to use as a CTE, one event per row of ``source``.

    ``aggregate_id``, ``tenant_id`` and each of ``payload``'s values are SQL expressions over ``source``;
    ``payload`` must name exactly the fields of the Struct registered for ``event_type`` (checked here, once,
    when the statement is built), so the event has one definition whichever path writes it. The caller
    nudges the workers after its commit (``Nudger.schedule``).
    """
    payload_type = events.payload_type(event_type)
    fields = {field.encode_name for field in msgspec.structs.fields(payload_type)}
    if set(payload) != fields:
        raise TypeError(f"{event_type}'s payload has the fields {sorted(fields)}, not {sorted(payload)}")
    for constant in (aggregate_type, event_type, *payload):
        if not _SQL_NAME.fullmatch(constant):
            raise ValueError(f"not a plain name: {constant!r}")
    built = ", ".join(f"'{key}', {expression}" for key, expression in payload.items())
    # The constants are checked above; the expressions are the caller's own SQL, never input.
    columns = "id, tenant_id, aggregate_type, aggregate_id, event_type, payload"
    values = f"gen_random_uuid(), {tenant_id}, '{aggregate_type}', ({aggregate_id})::text, '{event_type}'"
    return f"INSERT INTO outbox_events ({columns}) SELECT {values}, jsonb_build_object({built}) FROM {source}"  # noqa: S608


def nudging(nudger: Nudger | None) -> dict[str, Nudger]:
    """Session info (``alchemy_config(..., session_info=…)``) under which a commit carrying events nudges
    the workers through ``nudger``; none without one."""
    return {NUDGER_KEY: nudger} if nudger is not None else {}


def request_nudge(session: AsyncSession) -> None:
    """Nudge the workers once this session's transaction commits (nothing happens on rollback)."""
    session.info[_PENDING_NUDGE] = True


def nudge_for(session: AsyncSession) -> None:
    """Nudge the workers now through ``session``'s nudger, for events a statement committed on its own (a native
    statement in autocommit, outside the session's transaction)."""
    nudger = session.info.get(NUDGER_KEY)
    if isinstance(nudger, Nudger):
        nudger.schedule()


def nudge_channel(redis: Redis) -> str:
    """The Redis channel nudges travel on. Publish/subscribe ignores Redis's numbered databases, so the
    channel carries the number: deployments (and test runs) that share a server on different databases do
    not wake each other's workers."""
    return f"rollcall:outbox:nudge:{redis.connection_pool.connection_kwargs.get('db', 0)}"


class Nudger:
    """Best-effort "work exists" signal to the workers: one Redis ``PUBLISH`` after a commit.

    Every worker subscribed to :func:`nudge_channel` wakes its relay (:func:`listen_for_nudges`); the relays
    then share the work through their claims. A failed nudge is logged and forgotten: the workers' sweep
    finds the event within a second anyway. Nudges coalesce: while one is on its way, later commits ask
    for exactly one more, sent when it lands and at least ``NUDGE_INTERVAL_SECONDS`` after the one before
    (so every commit is followed by a nudge that left after it, a burst of commits costs two, and a steady
    stream at most one per interval). The Redis client is attached when the process starts (``pool``).
    """

    def __init__(self) -> None:
        self.pool: Any = None
        self._sending: asyncio.Task[None] | None = None
        self._again = False
        self._last_sent = float("-inf")

    def schedule(self) -> None:
        if self.pool is None:
            return
        if self._sending is not None and not self._sending.done():
            self._again = True
            return
        self._sending = asyncio.get_running_loop().create_task(self._send_until_caught_up())

    async def _send_until_caught_up(self) -> None:
        while True:
            wait = self._last_sent + NUDGE_INTERVAL_SECONDS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._again = False  # the nudge about to leave covers every commit so far
            self._last_sent = time.monotonic()
            await self._send()
            if not self._again:
                return

    async def _send(self) -> None:
        try:
            await self.pool.publish(nudge_channel(self.pool), b"")
        except Exception as error:  # noqa: BLE001  (a nudge must never fail the caller)
            logger.warning("outbox_nudge_failed", error_type=type(error).__name__, error=str(error)[:200])

    async def drain(self) -> None:
        """Wait for the nudges on their way (at shutdown)."""
        if self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)


NUDGE_RESUBSCRIBE_SECONDS = 1.0
"""How long a worker waits before subscribing again after losing Redis (its sweep goes on meanwhile)."""
NUDGE_LISTENER_QUIET_SECONDS = 30.0
"""After this long without a message the listener pings Redis; no answer within as long again means the
connection is gone (a half-open socket says nothing), and it subscribes again."""


async def listen_for_nudges(redis: Redis, wake: Callable[[], None], *, ready: asyncio.Event | None = None) -> None:
    """Call ``wake`` for every nudge published on :func:`nudge_channel`, until cancelled. A worker blocks on
    its subscription instead of polling Redis, so it costs nothing while idle and wakes at once. A lost
    connection is logged and the subscription made again; ``ready`` is set each time it is in place."""
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(nudge_channel(redis))
            wake()  # nudges sent while unsubscribed were lost: look once
            if ready is not None:
                ready.set()
            await _relay_nudges(pubsub, wake)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  (Redis away: the sweep delivers meanwhile; subscribe again)
            logger.warning("outbox_nudge_listener_lost", error_type=type(error).__name__, error=str(error)[:200])
            await asyncio.sleep(NUDGE_RESUBSCRIBE_SECONDS)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


async def _relay_nudges(pubsub: PubSub, wake: Callable[[], None]) -> None:
    """``wake`` for each message; returns when the connection stopped answering."""
    pinged = False
    while True:
        message = await pubsub.get_message(timeout=NUDGE_LISTENER_QUIET_SECONDS)
        if message is None:  # quiet: is the connection still there?
            if pinged:
                logger.warning("outbox_nudge_listener_unanswered", quiet_seconds=2 * NUDGE_LISTENER_QUIET_SECONDS)
                return
            await pubsub.ping()
            pinged = True
            continue
        pinged = False
        if message["type"] == "message":
            wake()


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session: Session) -> None:
    if session.info.pop(_PENDING_NUDGE, False):
        nudger = session.info.get(NUDGER_KEY)
        if isinstance(nudger, Nudger):
            nudger.schedule()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_NUDGE, None)
