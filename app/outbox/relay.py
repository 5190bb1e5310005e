"""The worker loop: claim a batch, run its handlers, complete events as they finish; wait for a nudge or
the sweep; repeat.

The SQL lives in ``app.outbox.sql``; this module decides what happens to each
claimed event. One ``Relay`` runs per worker process, as a background task of
the arq worker (``workers.settings``). No handler holds an event for ever: each
handler run has a timeout, the leases of events still running are renewed by a
heartbeat, finished events are completed while the rest of their batch runs,
and a claim whose worker died on its last attempt is dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import OutboxSettings
from app.outbox import metrics, sql
from app.outbox.deadlines import HandlerDeadlines
from app.outbox.registry import Event, HandlerSpec, OutboxRegistry, Skipped, UnknownEventTypeError, registry

__all__ = ["Relay", "backoff_seconds", "describe_error"]

logger = structlog.get_logger(__name__)

MAX_ERROR_LENGTH = sql.MAX_TEXT_LENGTH
LEASE_EXPIRY_MARGIN = 0.005
"""Claim this long after a lease expires (the claim compares with the database's clock)."""
MIN_IDLE_SECONDS = 0.05
PACE_SMOOTHING = 0.5
"""Weight of the newest batch in the relay's pace (events/s, exponentially smoothed)."""
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
    """``Type: message``, with credentials masked, storable and bounded (``sql.storable_text``), for ``last_error``."""
    text = f"{type(error).__name__}: {error}"
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return sql.storable_text(text)


DeliveryRow = tuple[UUID, str, str, str | None]
"""(event id, handler, outcome, note) of a handler recorded in bulk."""


@dataclass
class _EventOutcome:
    event: sql.ClaimedEvent
    completion: sql.Completion
    bulk_deliveries: list[DeliveryRow] = field(default_factory=list)
    error_type: str | None = None

    def with_placeholders(self) -> _EventOutcome:
        """The same outcome with its texts replaced: what is stored when the database refused the real ones."""
        error = None if self.completion.error is None else f"{self.error_type} (the database refused the error message)"
        notes = [
            (event_id, name, result, None if note is None else "(the database refused the note)")
            for event_id, name, result, note in self.bulk_deliveries
        ]
        return replace(self, completion=replace(self.completion, error=error), bulk_deliveries=notes)


@dataclass
class _Held:
    event: sql.ClaimedEvent
    since: float
    """``time.monotonic()`` taken before the lease was last set (claimed or renewed)."""


@dataclass
class _Batch:
    """One claimed batch while it runs: events not started yet, outcomes not written yet."""

    unstarted: deque[sql.ClaimedEvent]
    finished: list[_EventOutcome] = field(default_factory=list)
    outcome_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    handlers_done: bool = False


class Relay:
    """Delivers outbox events: at least once, per-aggregate in order, with retries and a dead end."""

    def __init__(
        self,
        session_maker: Callable[[], AsyncSession],
        settings: OutboxSettings,
        *,
        handlers: OutboxRegistry = registry,
        resources: Mapping[str, object] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.handlers = handlers
        self.resources: Mapping[str, object] = dict(resources or {})
        """What handlers may ask for by parameter name (``notifier``): injected, not looked up."""
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._held: dict[UUID, _Held] = {}
        """Claims this relay holds and has not finished (running, waiting in a batch, or claimed ahead)."""
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._pace: float | None = None
        """Events a second this relay recently delivered at (None before its first batch)."""
        self._deadlines = HandlerDeadlines(settings.handler_timeout_seconds)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`run` as a task, after checking every registered handler gets the resources it asks for."""
        self.handlers.check_resources(self.resources)
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
        finally:
            self._held.clear()  # what did not finish is left to lease expiry: never renewed by a stopped relay
            self._stop_heartbeat_when_idle()

    async def run(self) -> None:
        """Deliver until stopped: drain while there is work, then sleep until a nudge or the next sweep.

        While a full batch runs, the next one is already being claimed, so the
        database works on that claim while this process runs handlers. Batches
        are sized by :meth:`_claim_size`.
        """
        logger.info("outbox_relay_started", batch_size=self.settings.batch_size, lease=self.settings.lease_seconds)
        next_batch: asyncio.Task[list[sql.ClaimedEvent]] | None = None
        next_size = 0
        while not self._stopping:
            self._wake.clear()
            claimed: list[sql.ClaimedEvent] = []
            try:
                if next_batch is None:
                    next_size = self._claim_size()
                    next_batch = asyncio.get_running_loop().create_task(self._claim(next_size))
                current, size, next_batch = next_batch, next_size, None
                claimed = await current
                if len(claimed) == size:
                    next_size = self._claim_size()
                    next_batch = asyncio.get_running_loop().create_task(self._claim(next_size))
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
        self._stop_heartbeat_when_idle()
        logger.info("outbox_relay_stopped")

    async def _release_prefetched(self, next_batch: asyncio.Task[list[sql.ClaimedEvent]]) -> None:
        try:
            claimed = await next_batch
            await self._release(claimed)
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
        """Claim one batch (OUTBOX_BATCH_SIZE), run its handlers, complete it. Returns how many were claimed."""
        claimed = await self._claim()
        if claimed:
            await self._deliver_claimed(claimed)
        return len(claimed)

    def _claim_size(self) -> int:
        """OUTBOX_BATCH_SIZE at most, but only about a sixth of a lease of work at this relay's recent pace,
        and never fewer than OUTBOX_CONCURRENCY (nor more than that before the pace is known): a worker does
        not hoard events it will take long to reach, which another worker would deliver sooner and which,
        if this one dies, wait behind all of its batch."""
        if self._pace is None:
            return min(self.settings.batch_size, self.settings.concurrency)
        worth = int(self._pace * self.settings.lease_seconds / 6)
        return min(self.settings.batch_size, max(self.settings.concurrency, worth))

    def _note_pace(self, events: int, seconds: float) -> None:
        # With fewer events than consumers each event had a consumer of its own: the capacity is higher.
        pace = max(events, self.settings.concurrency) / max(seconds, 1e-6)
        self._pace = pace if self._pace is None else PACE_SMOOTHING * pace + (1 - PACE_SMOOTHING) * self._pace

    async def _claim(self, size: int | None = None) -> list[sql.ClaimedEvent]:
        started = time.monotonic()
        async with self.session_maker() as session:
            claim = await sql.claim_batch(
                session,
                batch_size=self.settings.batch_size if size is None else size,
                lease_seconds=self.settings.lease_seconds,
                max_attempts=self.settings.max_attempts,
            )
            await session.commit()  # publishes the leases
        self._held.update((event.id, _Held(event, started)) for event in claim.claimed)
        if self._held and (self._heartbeat_task is None or self._heartbeat_task.done()):
            self._heartbeat_task = asyncio.get_running_loop().create_task(self._heartbeat(), name="outbox-heartbeat")
        for event in claim.dead:
            logger.error(
                "outbox_event_dead",
                event_id=str(event.id),
                event_type=event.event_type,
                attempts=event.attempts,
                reason="lease expired on the last attempt",
            )
            metrics.DEAD.labels(event.event_type).inc()
        return claim.claimed

    async def _release(self, claimed: list[sql.ClaimedEvent]) -> None:
        try:
            if claimed:
                async with self.session_maker() as session:
                    await sql.release(session, claimed)
                    await session.commit()
        finally:
            for event in claimed:
                self._held.pop(event.id, None)
            self._stop_heartbeat_when_idle()

    async def _deliver_claimed(self, claimed: list[sql.ClaimedEvent]) -> None:
        """Run the batch ``concurrency`` events at a time while one writer completes events as they finish.

        However the batch ends, this relay stops holding its events (the heartbeat stops renewing them): one
        that was not completed or released is claimed again when its lease expires.
        """
        started = time.monotonic()
        try:
            retried_ids = [event.id for event in claimed if event.attempts > 1]
            already: set[tuple[Any, str]] = set()
            if retried_ids:
                async with self.session_maker() as session:
                    already = await sql.delivered_handlers(session, retried_ids)
            batch = _Batch(deque(claimed))
            writer = asyncio.get_running_loop().create_task(self._write_outcomes(batch), name="outbox-writer")
            try:
                await asyncio.gather(
                    *(self._consume(batch, already) for _ in range(min(self.settings.concurrency, len(claimed))))
                )
            finally:
                batch.handlers_done = True
                batch.outcome_waiting.set()
                self._deadlines.stop_when_idle()
                await writer
            await self._release(list(batch.unstarted))
            if not batch.unstarted:
                self._note_pace(len(claimed), time.monotonic() - started)
        finally:
            for event in claimed:
                self._held.pop(event.id, None)
            self._stop_heartbeat_when_idle()

    async def _consume(self, batch: _Batch, already: set[tuple[Any, str]]) -> None:
        while batch.unstarted and not self._stopping:
            claimed = batch.unstarted.popleft()
            if claimed.id not in self._held:
                continue  # the heartbeat found its lease taken over by another worker: not ours to run
            outcome = await self.deliver_event(claimed, already)
            batch.finished.append(outcome)  # after the await: the writer swaps the list meanwhile
            batch.outcome_waiting.set()

    async def _write_outcomes(self, batch: _Batch) -> None:
        """Complete finished events in bulk, as many as are waiting each time, until the batch is done."""
        while True:
            if not batch.finished:
                if batch.handlers_done:
                    return
                await batch.outcome_waiting.wait()
                batch.outcome_waiting.clear()
                continue
            outcomes, batch.finished = batch.finished, []
            await self._complete(outcomes)

    async def _complete(self, outcomes: list[_EventOutcome]) -> None:
        """Write the outcomes in one transaction; if the database refuses it, one event at a time, so one bad
        row cannot keep the others from completing. Whatever happens, this relay stops holding them: an event
        not completed is claimed again when its lease expires."""
        try:
            try:
                await self._write(outcomes)
            except Exception as error:  # noqa: BLE001  (isolate the refused row below)
                logger.warning("outbox_completion_failed", events=len(outcomes), error=describe_error(error))
            else:
                self._count(outcomes)
                return
            for outcome in outcomes:
                if not await self._complete_one(outcome):
                    logger.warning("outbox_completion_abandoned", events=len(outcomes))
                    return  # even the placeholder was refused: the database refuses everything (or is down)
        finally:
            for outcome in outcomes:
                self._held.pop(outcome.event.id, None)
            self._stop_heartbeat_when_idle()

    async def _complete_one(self, outcome: _EventOutcome) -> bool:
        for attempt in (outcome, outcome.with_placeholders()):
            try:
                await self._write([attempt])
            except Exception as error:  # noqa: BLE001  (then the placeholder, then give up)
                logger.warning(
                    "outbox_event_completion_failed", event_id=str(outcome.event.id), error=describe_error(error)
                )
                continue
            self._count([attempt])
            return True
        return False

    async def _write(self, outcomes: list[_EventOutcome]) -> None:
        async with self.session_maker() as session:
            await sql.record_deliveries(session, [row for outcome in outcomes for row in outcome.bulk_deliveries])
            await sql.complete_batch(session, [outcome.completion for outcome in outcomes])
            await session.commit()

    async def _heartbeat(self) -> None:
        """While this relay holds claims, renew each lease once it is a third of a lease old; forget the claims
        found taken over (their events are not started). Ticks every sixth of a lease, so a lease is at most
        half gone when renewed."""
        renew_age = self.settings.lease_seconds / 3
        while self._held:
            await asyncio.sleep(renew_age / 2)
            due_before = time.monotonic() - renew_age
            due = [held for held in self._held.values() if held.since <= due_before]
            if not due:
                continue
            started = time.monotonic()
            try:
                async with self.session_maker() as session:
                    renewed = await sql.renew_leases(
                        session, [held.event for held in due], lease_seconds=self.settings.lease_seconds
                    )
                    await session.commit()
            except Exception as error:  # noqa: BLE001  (try again next tick: the lease has slack for it)
                logger.warning("outbox_heartbeat_failed", error=describe_error(error))
                continue
            for held in due:
                if held.event.id in renewed:
                    held.since = started
                else:
                    self._held.pop(held.event.id, None)  # finished meanwhile, or taken over after a lapsed lease

    def _stop_heartbeat_when_idle(self) -> None:
        if not self._held and self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
            self._heartbeat_task = None

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
        outcome = _EventOutcome(claimed, sql.Completion(claimed.id, claimed.claim, delivered=True))
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
        """Run one handler within OUTBOX_HANDLER_TIMEOUT_SECONDS (then HandlerTimeoutError: the run is
        cancelled, and a session handler's transaction, delivery record included, rolls back)."""
        with self._deadlines.run(spec.name):
            await self._call_handler(spec, event, outcome)

    async def _call_handler(self, spec: HandlerSpec, event: Event[Any], outcome: _EventOutcome) -> None:
        if not spec.takes_session:
            result = await spec(event, resources=self.resources)
            note = result.reason if isinstance(result, Skipped) else None
            outcome.bulk_deliveries.append((event.id, spec.name, "skipped" if note is not None else "done", note))
            return
        # The handler's writes and its delivery record commit together, or neither does.
        async with self.session_maker() as session, session.begin():
            if not await sql.record_delivery(session, event.id, spec.name):
                return  # another worker (an expired lease) already delivered it
            result = await spec(event, session, self.resources)
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
            claimed.claim,
            delivered=False,
            retry_in_seconds=delay,
            dead=dead,
            error=describe_error(error),
        )
        return _EventOutcome(claimed, completion, error_type=type(error).__name__)

    def _count(self, outcomes: list[_EventOutcome]) -> None:
        now = time.time()
        for outcome in outcomes:
            completion, event = outcome.completion, outcome.event
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
