"""The worker loop: claim a batch, run its handlers, complete it; wait for a nudge or the sweep; repeat.

The SQL lives in ``app.outbox.sql``; this module decides what happens to each
claimed event. One ``Relay`` runs per worker process, as a background task of
the arq worker (``workers.settings``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import OutboxSettings
from app.outbox import metrics, sql
from app.outbox.registry import Event, HandlerSpec, OutboxRegistry, Skipped, UnknownEventTypeError, registry

__all__ = ["Relay", "backoff_seconds", "describe_error"]

logger = structlog.get_logger(__name__)

MAX_ERROR_LENGTH = 2000
LEASE_EXPIRY_MARGIN = 0.005
"""Claim this long after a lease expires (the claim compares with the database's clock)."""
MIN_IDLE_SECONDS = 0.05
"""Never poll faster than this while idle, even when an expired lease is held back (per-aggregate order)."""
_SECRETS = (
    (re.compile(r"(?i)(\w+://[^:/@\s]*:)[^@\s]+@"), r"\1***@"),  # passwords in URLs
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)\b(password|passwd|secret|token|api[_-]?key)(\s*[=:]\s*)\S+"), r"\1\2***"),
)


def backoff_seconds(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempts - 1))]."""
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)


def describe_error(error: BaseException) -> str:
    """``Type: message``, with credentials masked and the length bounded, for ``last_error``."""
    text = f"{type(error).__name__}: {error}"
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


@dataclass
class _EventOutcome:
    completion: sql.Completion
    bulk_deliveries: list[tuple[Any, str, str, str | None]] = field(default_factory=list)


class Relay:
    """Delivers outbox events: at least once, per-aggregate in order, with retries and a dead end."""

    def __init__(
        self,
        session_maker: Callable[[], AsyncSession],
        settings: OutboxSettings,
        *,
        handlers: OutboxRegistry = registry,
        rng: random.Random | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.handlers = handlers
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox-relay")

    def wake(self) -> None:
        """Work exists (a nudge or the sweep): claim now instead of at the next sweep."""
        self._wake.set()

    async def stop(self, grace_seconds: float | None = None) -> None:
        """Stop claiming; let started handlers finish within the grace period; release unstarted events."""
        grace = self.settings.shutdown_grace_seconds if grace_seconds is None else grace_seconds
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
        except TimeoutError:
            logger.warning("outbox_relay_stop_timeout", grace_seconds=grace)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run(self) -> None:
        """Deliver until stopped: drain while there is work, then sleep until a nudge or the next sweep.

        While a full batch runs, the next one is already being claimed, so the
        database works on that claim while this process runs handlers.
        """
        logger.info("outbox_relay_started", batch_size=self.settings.batch_size, lease=self.settings.lease_seconds)
        next_batch: asyncio.Task[list[sql.ClaimedEvent]] | None = None
        while not self._stopping:
            self._wake.clear()
            claimed: list[sql.ClaimedEvent] = []
            try:
                claimed = await (next_batch if next_batch is not None else self._claim())
                next_batch = None
                if len(claimed) == self.settings.batch_size:
                    next_batch = asyncio.get_running_loop().create_task(self._claim())
                if claimed:
                    await self._deliver_claimed(claimed)
            except Exception as error:  # noqa: BLE001  (database down: keep the worker alive, try again)
                logger.warning("outbox_relay_error", error=describe_error(error))
                if next_batch is not None:
                    await self._release_prefetched(next_batch)
                    next_batch = None
            if claimed or self._stopping:
                continue
            # The sweep: without a nudge, look again after sweep_seconds anyway, or as soon as a lease that
            # a dead worker left behind expires (so its events move on the moment they may).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=await self._idle_timeout())
        if next_batch is not None:
            await self._release_prefetched(next_batch)
        logger.info("outbox_relay_stopped")

    async def _release_prefetched(self, next_batch: asyncio.Task[list[sql.ClaimedEvent]]) -> None:
        try:
            claimed = await next_batch
            async with self.session_maker() as session:
                await sql.release(session, claimed)
                await session.commit()
        except Exception as error:  # noqa: BLE001  (their leases expire instead)
            logger.warning("outbox_release_failed", error=describe_error(error))

    async def _idle_timeout(self) -> float:
        try:
            async with self.session_maker() as session:
                expiry = await sql.next_lease_expiry(session)
        except Exception:  # noqa: BLE001  (the sweep alone still works)
            return self.settings.sweep_seconds
        if expiry is None:
            return self.settings.sweep_seconds
        return min(self.settings.sweep_seconds, max(expiry + LEASE_EXPIRY_MARGIN, MIN_IDLE_SECONDS))

    # -- one batch ---------------------------------------------------------------------------------------

    async def deliver_batch(self) -> int:
        """Claim one batch, run its handlers, complete it. Returns how many events were claimed."""
        claimed = await self._claim()
        if claimed:
            await self._deliver_claimed(claimed)
        return len(claimed)

    async def _claim(self) -> list[sql.ClaimedEvent]:
        async with self.session_maker() as session:
            claimed = await sql.claim_batch(
                session, batch_size=self.settings.batch_size, lease_seconds=self.settings.lease_seconds
            )
            await session.commit()  # publishes the leases
        return claimed

    async def _deliver_claimed(self, claimed: list[sql.ClaimedEvent]) -> None:
        retried_ids = [event.id for event in claimed if event.attempts > 1]
        already: set[tuple[Any, str]] = set()
        if retried_ids:
            async with self.session_maker() as session:
                already = await sql.delivered_handlers(session, retried_ids)

        pending = deque(claimed)
        outcomes: list[_EventOutcome] = []

        async def consume() -> None:
            while pending and not self._stopping:
                outcomes.append(await self.deliver_event(pending.popleft(), already))

        await asyncio.gather(*(consume() for _ in range(min(self.settings.concurrency, len(claimed)))))
        unstarted = list(pending)

        async with self.session_maker() as session:
            await sql.record_deliveries(session, [row for outcome in outcomes for row in outcome.bulk_deliveries])
            await sql.complete_batch(session, [outcome.completion for outcome in outcomes])
            await sql.release(session, unstarted)
            await session.commit()
        self._count(claimed, outcomes)

    async def deliver_event(self, claimed: sql.ClaimedEvent, already: set[tuple[Any, str]]) -> _EventOutcome:
        """Run the handlers of one claimed event that are not in ``already``; say how the event ended."""
        try:
            payload_type = self.handlers.payload_type(claimed.event_type)
        except UnknownEventTypeError as error:
            return self._failed(claimed, error)  # a worker that lacks the module: retry, maybe on another
        try:
            payload = _decode(claimed.payload, payload_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            return self._failed(claimed, error, permanent=True)  # it will never decode: no point retrying
        event = Event(
            id=claimed.id,
            seq=claimed.seq,
            tenant_id=claimed.tenant_id,
            aggregate_type=claimed.aggregate_type,
            aggregate_id=claimed.aggregate_id,
            event_type=claimed.event_type,
            payload=payload,
            attempts=claimed.attempts,
            created_at=claimed.created_at,
        )
        outcome = _EventOutcome(sql.Completion(claimed.id, claimed.attempts, delivered=True))
        first_error: BaseException | None = None
        for spec in self.handlers.handlers_for(claimed.event_type):
            if (claimed.id, spec.name) in already:
                continue
            started = time.perf_counter()
            try:
                await self._run_handler(spec, event, outcome)
            except Exception as error:  # noqa: BLE001  (any handler failure means: retry this event later)
                logger.warning(
                    "outbox_handler_failed",
                    event_id=str(claimed.id),
                    event_type=claimed.event_type,
                    handler=spec.name,
                    attempts=claimed.attempts,
                    error=describe_error(error),
                )
                first_error = first_error or error
            finally:
                metrics.HANDLER_DURATION.labels(claimed.event_type, spec.name).observe(time.perf_counter() - started)
        if first_error is not None:
            failed = self._failed(claimed, first_error)
            failed.bulk_deliveries = outcome.bulk_deliveries  # the handlers that did succeed stay done
            return failed
        return outcome

    async def _run_handler(self, spec: HandlerSpec, event: Event[Any], outcome: _EventOutcome) -> None:
        if not spec.takes_session:
            result = await spec(event)
            note = result.reason if isinstance(result, Skipped) else None
            outcome.bulk_deliveries.append((event.id, spec.name, "skipped" if note is not None else "done", note))
            return
        # The handler's writes and its delivery record commit together, or neither does.
        async with self.session_maker() as session, session.begin():
            if not await sql.record_delivery(session, event.id, spec.name):
                return  # another worker (an expired lease) already delivered it
            result = await spec(event, session)
            if isinstance(result, Skipped):
                await sql.mark_skipped(session, event.id, spec.name, result.reason)

    def _failed(self, claimed: sql.ClaimedEvent, error: BaseException, *, permanent: bool = False) -> _EventOutcome:
        dead = permanent or claimed.attempts >= self.settings.max_attempts
        delay = (
            0.0
            if dead
            else backoff_seconds(
                claimed.attempts,
                base=self.settings.backoff_base_seconds,
                cap=self.settings.backoff_cap_seconds,
                rng=self.rng,
            )
        )
        if dead:
            logger.error("outbox_event_dead", event_id=str(claimed.id), event_type=claimed.event_type)
        completion = sql.Completion(
            claimed.id,
            claimed.attempts,
            delivered=False,
            retry_in_seconds=delay,
            dead=dead,
            error=describe_error(error),
        )
        return _EventOutcome(completion)

    def _count(self, claimed: list[sql.ClaimedEvent], outcomes: list[_EventOutcome]) -> None:
        by_id = {event.id: event for event in claimed}
        now = time.time()
        for outcome in outcomes:
            completion = outcome.completion
            event = by_id[completion.event_id]
            if completion.delivered:
                metrics.DELIVERED.labels(event.event_type).inc()
                metrics.COMMIT_TO_DELIVERY.labels(event.event_type).observe(now - event.created_at.timestamp())
            elif completion.dead:
                metrics.DEAD.labels(event.event_type).inc()
            else:
                metrics.RETRIED.labels(event.event_type).inc()


def _decode(raw: Any, payload_type: type[msgspec.Struct]) -> msgspec.Struct:
    if isinstance(raw, str | bytes):
        return msgspec.json.decode(raw, type=payload_type)
    return msgspec.convert(raw, payload_type)
