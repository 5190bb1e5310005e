"""No handler holds an event forever: handler timeouts, lease heartbeats, completion as events finish,
claim-time dead letters and a fencing value that no replay reuses."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox import sql
from app.outbox.models import OutboxStatus
from app.outbox.registry import Event
from tests.outbox.conftest import Kit, Note, SlowHandler, claim
from tests.waiting import wait_for


async def test_a_handler_that_hangs_is_timed_out_and_retried(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="hangs")
    async def hangs(event: Event[Note]) -> None:
        await asyncio.Event().wait()

    [event_id] = await kit.emit("A")
    relay = kit.relay(handler_timeout_seconds=0.2, backoff_base_seconds=0)
    assert await asyncio.wait_for(relay.deliver_batch(), timeout=10) == 1
    row = await kit.event(event_id)
    assert (row.status, row.attempts, row.locked_until) == (OutboxStatus.PENDING, 1, None)
    assert row.last_error == "HandlerTimeoutError: handler 'hangs' did not return within 0.2 s"
    assert await kit.deliveries(event_id) == {}


async def test_a_session_handler_that_hangs_is_timed_out_and_its_writes_roll_back(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="writer")
    async def writer(event: Event[Note], session: AsyncSession) -> None:
        await session.execute(
            sql.text(
                "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'effect', 'Effect', 'club', now(), now())"
            )
        )
        # Hangs on purpose (what this test is about): a statement the handler timeout must cancel.
        await session.execute(sql.text("SELECT pg_sleep(60) /* hanging handler */"))

    [event_id] = await kit.emit("A")
    relay = kit.relay(handler_timeout_seconds=0.5, backoff_base_seconds=0)
    assert await asyncio.wait_for(relay.deliver_batch(), timeout=10) == 1
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.last_error == "HandlerTimeoutError: handler 'writer' did not return within 0.5 s"
    assert await kit.deliveries(event_id) == {}  # the delivery record rolled back with the handler's writes
    assert await kit.sql("SELECT slug FROM tenants") == []

    async def statement_cancelled() -> bool:
        running = (
            "SELECT pid FROM pg_stat_activity WHERE query LIKE '%/* hanging handler */' AND pid <> pg_backend_pid()"
        )
        return await kit.sql(running) == []

    await wait_for(statement_cancelled)  # the database does not keep running the abandoned statement


async def test_a_handler_that_never_returns_is_dead_after_max_attempts(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="hangs")
    async def hangs(event: Event[Note]) -> None:
        await asyncio.Event().wait()

    [event_id] = await kit.emit("A")
    relay = kit.relay(handler_timeout_seconds=0.1, backoff_base_seconds=0, max_attempts=2)
    for _ in range(3):
        await asyncio.wait_for(relay.deliver_batch(), timeout=10)
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 2)
    assert row.last_error == "HandlerTimeoutError: handler 'hangs' did not return within 0.1 s"


async def test_an_expired_lease_with_no_attempts_left_makes_the_event_dead_instead_of_claimed_again(kit: Kit) -> None:
    runs: list[int] = []

    @kit.registry.handler("test.note", name="collect")
    async def collect(event: Event[Note]) -> None:
        runs.append(event.attempts)

    [event_id, follower] = await kit.emit("A", count=2)
    [spare] = await kit.emit("B")
    # Its worker died (or hung) during the last allowed attempt: the lease ran out, no handler returned.
    await kit.sql(
        "UPDATE outbox_events SET status = 'in_flight', attempts = 3, "
        "locked_until = now() - interval '1 second' WHERE id = :id",
        id=event_id,
    )
    relay = kit.relay(max_attempts=3)
    assert await relay.deliver_batch() == 1  # only B's event
    assert runs == [1]
    row = await kit.event(event_id)
    assert (row.status, row.attempts, row.locked_until) == (OutboxStatus.DEAD, 3, None)
    assert row.last_error == "the lease of attempt 3 of 3 expired before a handler returned (its worker died or hung)"
    assert (await kit.event(spare)).status is OutboxStatus.DELIVERED
    assert (await kit.event(follower)).status is OutboxStatus.PENDING  # a dead event blocks its aggregate


async def test_an_expired_lease_with_attempts_left_is_claimed_again(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    await kit.sql(
        "UPDATE outbox_events SET status = 'in_flight', attempts = 2, "
        "locked_until = now() - interval '1 second' WHERE id = :id",
        id=event_id,
    )
    assert await kit.relay(max_attempts=3).deliver_batch() == 1
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.DELIVERED, 3)


async def _lease(kit: Kit, event_id: UUID) -> datetime:
    [row] = await kit.sql("SELECT locked_until FROM outbox_events WHERE id = :id", id=event_id)
    locked_until: datetime = row.locked_until
    return locked_until


async def test_a_long_handler_keeps_its_lease_and_no_other_worker_takes_the_event(kit: Kit) -> None:
    slow = SlowHandler(kit)
    [event_id] = await kit.emit("A")
    relay = kit.relay(lease_seconds=1.0)
    batch = asyncio.create_task(relay.deliver_batch())
    await slow.started.wait()
    first_lease = await _lease(kit, event_id)

    async def first_lease_over() -> bool:
        [row] = await kit.sql("SELECT now() > :first AS over", first=first_lease)
        return bool(row.over)

    await wait_for(first_lease_over)
    assert await _lease(kit, event_id) > first_lease  # renewed while the handler runs
    assert await claim(kit) == []  # so another worker finds nothing to take over
    slow.finish.set()
    assert await batch == 1
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.DELIVERED, 1)


async def test_a_lease_another_worker_took_over_is_not_renewed(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    [stale] = await claim(kit)
    await kit.expire_lease(event_id)
    [fresh] = await claim(kit, lease_seconds=60)
    owner_lease = await _lease(kit, event_id)
    async with kit.session_maker() as session:
        assert await sql.renew_leases(session, [stale], lease_seconds=600) == set()
        assert await sql.renew_leases(session, [fresh], lease_seconds=600) == {event_id}
        await session.rollback()
    assert await _lease(kit, event_id) == owner_lease


async def test_one_slow_event_does_not_hold_back_the_rest_of_its_batch(kit: Kit) -> None:
    gate = asyncio.Event()

    @kit.registry.handler("test.note", name="maybe_slow")
    async def maybe_slow(event: Event[Note]) -> None:
        if event.aggregate_id == "slow":
            await gate.wait()

    [slow] = await kit.emit("slow")
    quick = [event_id for i in range(6) for event_id in await kit.emit(f"quick-{i}")]
    relay = kit.relay(concurrency=2)
    batch = asyncio.create_task(relay.deliver_batch())

    async def quick_ones_delivered() -> bool:
        rows = await kit.sql("SELECT status FROM outbox_events WHERE id = ANY(:ids)", ids=quick)
        return all(row.status == OutboxStatus.DELIVERED.value for row in rows)

    await wait_for(quick_ones_delivered)
    assert (await kit.event(slow)).status is OutboxStatus.IN_FLIGHT
    gate.set()
    assert await batch == 7
    assert (await kit.event(slow)).status is OutboxStatus.DELIVERED


async def test_a_worker_from_before_a_replay_cannot_finish_the_replayed_event(kit: Kit) -> None:
    [tenant] = await kit.sql(
        "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
        "VALUES (gen_random_uuid(), 'lions', 'Lions', 'club', now(), now()) RETURNING id"
    )
    [event_id] = await kit.emit("A")
    await kit.sql("UPDATE outbox_events SET tenant_id = :t", t=tenant.id)
    [stale] = await claim(kit)  # worker 1 claims, then hangs
    # Its lease runs out with no attempts left: dead; an admin replays it and worker 2 claims it.
    await kit.sql("UPDATE outbox_events SET status = 'dead', locked_until = NULL WHERE id = :id", id=event_id)
    async with kit.session_maker() as session:
        assert await sql.replay_dead(session, event_id, tenant.id)
        await session.commit()
    [fresh] = await claim(kit)
    assert fresh.attempts == stale.attempts  # the retry budget started again: attempts cannot fence

    outcome = await kit.relay().deliver_event(stale, set())  # worker 1 wakes up and finishes
    async with kit.session_maker() as session:
        assert await sql.complete_batch(session, [outcome.completion]) == (0, 0)
        await session.commit()
    row: Any = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.IN_FLIGHT, 1)  # still worker 2's


async def test_a_relay_with_slow_handlers_claims_only_what_it_will_soon_reach(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="takes_a_while")
    async def takes_a_while(event: Event[Note]) -> None:
        # The handler's own work (a remote call): part of what is tested, since the relay sizes its
        # batches by the pace it measures, so each event has to take real time.
        await asyncio.sleep(0.01)

    ids = [event_id for i in range(120) for event_id in await kit.emit(f"agg-{i}")]
    # At most ~100 events/s with one consumer: a sixth of a 1 s lease is ~16 events a batch, not 500.
    relay = kit.relay(lease_seconds=1.0, concurrency=1, batch_size=500)
    relay.start()
    most_in_flight = 0

    async def all_delivered() -> bool:
        nonlocal most_in_flight
        [row] = await kit.sql(
            "SELECT count(*) FILTER (WHERE status = 'in_flight') AS in_flight, "
            "count(*) FILTER (WHERE status = 'delivered') AS delivered FROM outbox_events"
        )
        most_in_flight = max(most_in_flight, row.in_flight)
        return bool(row.delivered == len(ids))

    await wait_for(all_delivered, within=30)
    await relay.stop()
    assert 0 < most_in_flight <= 40  # this batch and the one claimed ahead, each about a sixth of a lease
