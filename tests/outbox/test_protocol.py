"""The delivery protocol rule by rule, at the SQL level, against the real database."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import msgspec
import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox import sql
from app.outbox.models import OutboxStatus
from app.outbox.registry import Event, Skipped, UnknownEventTypeError
from app.outbox.relay import MAX_ERROR_LENGTH, backoff_seconds, describe_error
from tests.outbox.conftest import Kit, Note, SlowHandler, claim, stopping_began
from tests.waiting import wait_for


async def test_concurrent_claimers_never_get_the_same_row(kit: Kit) -> None:
    async with kit.session_maker() as session:
        for i in range(600):
            kit.add_note(session, f"a{i}")
        await session.commit()
    batches = await asyncio.gather(*(claim(kit, batch_size=120) for _ in range(6)))
    ids = [event.id for batch in batches for event in batch]
    assert len(ids) == 600
    assert len(set(ids)) == 600
    assert all(event.attempts == 1 for batch in batches for event in batch)


async def test_a_claim_takes_the_oldest_first_and_sets_a_lease(kit: Kit) -> None:
    first, second = await kit.emit("a"), await kit.emit("b")
    claimed = await claim(kit, batch_size=1)
    assert [event.id for event in claimed] == first
    row = await kit.event(first[0])
    assert row.status is OutboxStatus.IN_FLIGHT
    assert row.locked_until is not None
    assert row.attempts == 1
    assert (await kit.event(second[0])).status is OutboxStatus.PENDING


async def test_a_live_lease_is_respected_and_an_expired_one_is_reclaimed(kit: Kit) -> None:
    [event_id] = await kit.emit("a")
    assert len(await claim(kit, lease_seconds=60)) == 1
    assert await claim(kit) == []  # still leased
    await kit.expire_lease(event_id)  # its worker stalled past the lease
    [again] = await claim(kit)
    assert again.id == event_id
    assert again.attempts == 2


async def test_an_event_waits_for_earlier_events_of_its_aggregate(kit: Kit) -> None:
    a1, _a2 = await kit.emit("A", count=2)
    [b1] = await kit.emit("B")
    claimed = await claim(kit)
    assert {event.id for event in claimed} == {a1, b1}  # a2 waits behind a1
    assert await claim(kit) == []


async def test_a_failing_head_blocks_only_its_own_aggregate(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="picky")
    async def picky(event: Event[Note]) -> None:
        if event.aggregate_id == "A":
            raise RuntimeError("the mail relay said no")

    a1, a2 = await kit.emit("A", count=2)
    b1, b2 = await kit.emit("B", count=2)
    relay = kit.relay(backoff_base_seconds=0, max_attempts=3)
    for _ in range(6):
        await relay.deliver_batch()
    assert (await kit.event(b1)).status is OutboxStatus.DELIVERED
    assert (await kit.event(b2)).status is OutboxStatus.DELIVERED
    head = await kit.event(a1)
    assert (head.status, head.attempts) == (OutboxStatus.DEAD, 3)
    assert head.last_error == "RuntimeError: the mail relay said no"
    assert (await kit.event(a2)).status is OutboxStatus.PENDING
    assert (await kit.event(a2)).attempts == 0  # never claimed while its head is undelivered


async def test_a_failure_goes_back_to_pending_with_backoff(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="flaky")
    async def flaky(event: Event[Note]) -> None:
        raise ConnectionError("smtp://mailer:hunter2@mail.example.org refused")

    [event_id] = await kit.emit("A")
    relay = kit.relay(backoff_base_seconds=30, backoff_cap_seconds=60)
    relay.rng = random.Random(3)  # noqa: S311
    expected = backoff_seconds(1, base=30, cap=60, rng=random.Random(3))  # noqa: S311
    [(before,)] = await kit.sql("SELECT now()")
    await relay.deliver_batch()
    row = await kit.event(event_id)
    assert (row.status, row.attempts, row.locked_until) == (OutboxStatus.PENDING, 1, None)
    assert "hunter2" not in (row.last_error or "")
    assert row.last_error == "ConnectionError: smtp://mailer:***@mail.example.org refused"
    delay = (row.available_at - before).total_seconds()
    assert expected <= delay <= expected + 5  # set at completion, a moment after `before`
    assert expected > 1
    assert await claim(kit) == []  # not claimable before its time


def test_the_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    rng = random.Random(7)  # noqa: S311
    for attempts, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (8, 100.0), (30, 100.0)]:
        samples = [backoff_seconds(attempts, base=2.0, cap=100.0, rng=rng) for _ in range(400)]
        assert all(0 <= sample <= ceiling for sample in samples)
        assert max(samples) > ceiling * 0.9  # the whole range is used (full jitter)
        assert min(samples) < ceiling * 0.1


async def test_max_attempts_makes_an_event_dead(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="broken")
    async def broken(event: Event[Note]) -> None:
        raise ValueError("x" * 5000)

    [event_id] = await kit.emit("A")
    relay = kit.relay(backoff_base_seconds=0, max_attempts=4)
    statuses = []
    for _ in range(5):
        await relay.deliver_batch()
        statuses.append((await kit.event(event_id)).status)
    assert statuses == [OutboxStatus.PENDING] * 3 + [OutboxStatus.DEAD] * 2
    row = await kit.event(event_id)
    assert row.attempts == 4
    assert len(row.last_error or "") == MAX_ERROR_LENGTH


async def test_a_payload_that_no_longer_decodes_is_dead_at_once(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    await kit.sql('UPDATE outbox_events SET payload = \'{"size": "big"}\' WHERE id = :id', id=event_id)
    await kit.relay().deliver_batch()
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, 1)
    assert "ValidationError" in (row.last_error or "")


async def test_an_event_type_this_worker_does_not_know_is_retried(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    kit.registry.payload_types.pop("test.note")
    await kit.relay(backoff_base_seconds=0).deliver_batch()
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "is not registered" in (row.last_error or "")


async def test_each_handler_is_recorded_and_a_retry_runs_only_the_unfinished(kit: Kit) -> None:
    runs: list[str] = []
    failures = {"second": 1}

    @kit.registry.handler("test.note", name="first")
    async def first(event: Event[Note]) -> None:
        runs.append("first")

    @kit.registry.handler("test.note", name="second")
    async def second(event: Event[Note]) -> Skipped | None:
        runs.append("second")
        if failures["second"]:
            failures["second"] -= 1
            raise RuntimeError("once")
        return Skipped("parent has no email address")

    [event_id] = await kit.emit("A")
    relay = kit.relay(backoff_base_seconds=0)
    await relay.deliver_batch()
    assert (await kit.event(event_id)).status is OutboxStatus.PENDING
    assert await kit.deliveries(event_id) == {"first": ("done", None)}
    await relay.deliver_batch()
    assert (await kit.event(event_id)).status is OutboxStatus.DELIVERED
    assert runs == ["first", "second", "second"]
    assert await kit.deliveries(event_id) == {
        "first": ("done", None),
        "second": ("skipped", "parent has no email address"),
    }


async def test_a_handlers_writes_and_its_delivery_commit_together(kit: Kit) -> None:
    fail = {"now": True}

    @kit.registry.handler("test.note", name="writer")
    async def writer(event: Event[Note], session: AsyncSession) -> None:
        await session.execute(
            sql.text(
                "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
                "VALUES (gen_random_uuid(), :slug, 'Effect', 'club', now(), now())"
            ),
            {"slug": f"effect-{event.aggregate_id.lower()}"},
        )
        if fail["now"]:
            raise RuntimeError("after the write")

    [event_id] = await kit.emit("A")
    relay = kit.relay(backoff_base_seconds=0)
    await relay.deliver_batch()
    assert await kit.sql("SELECT slug FROM tenants") == []  # rolled back with the failure
    assert await kit.deliveries(event_id) == {}
    fail["now"] = False
    await relay.deliver_batch()
    assert [row.slug for row in await kit.sql("SELECT slug FROM tenants")] == ["effect-a"]
    assert await kit.deliveries(event_id) == {"writer": ("done", None)}
    assert (await kit.event(event_id)).status is OutboxStatus.DELIVERED


async def test_a_worker_that_lost_its_lease_does_not_repeat_a_delivered_handler(kit: Kit) -> None:
    runs: list[int] = []

    @kit.registry.handler("test.note", name="writer")
    async def writer(event: Event[Note], session: AsyncSession) -> None:
        runs.append(event.attempts)

    [event_id] = await kit.emit("A")
    [stalled] = await claim(kit)  # worker 1 claims, then stalls past its lease
    await kit.expire_lease(event_id)
    relay = kit.relay()
    assert await relay.deliver_batch() == 1  # worker 2 reclaims and delivers
    outcome = await relay.deliver_event(stalled, set())  # worker 1 wakes up and carries on
    assert runs == [2]  # the delivery record's primary key kept worker 1 from running it again
    assert outcome.completion.delivered


async def test_a_stale_worker_cannot_complete_an_event_it_lost(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    [stale] = await claim(kit)
    await kit.expire_lease(event_id)  # the stale worker's lease ran out
    [fresh] = await claim(kit)
    assert fresh.attempts == stale.attempts + 1
    async with kit.session_maker() as session:
        done = await sql.complete_batch(session, [sql.Completion(event_id, stale.claim, delivered=True)])
        await session.commit()
    assert done == (0, 0)
    assert (await kit.event(event_id)).status is OutboxStatus.IN_FLIGHT


async def test_release_returns_unstarted_events_as_if_never_claimed(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    claimed = await claim(kit)
    async with kit.session_maker() as session:
        await sql.release(session, claimed)
        await session.commit()
    row = await kit.event(event_id)
    assert (row.status, row.attempts, row.locked_until) == (OutboxStatus.PENDING, 0, None)


async def test_stopping_lets_started_handlers_finish_and_releases_the_rest(kit: Kit) -> None:
    slow = SlowHandler(kit)
    ids = [event_id for i in range(5) for event_id in await kit.emit(f"agg-{i}")]
    relay = kit.relay(concurrency=1)
    batch = asyncio.create_task(relay.deliver_batch())
    await slow.started.wait()
    stopping = asyncio.create_task(relay.stop(grace_seconds=5))
    await wait_for(lambda: stopping_began(relay), what="the relay to begin stopping")
    slow.finish.set()  # the started handler finishes only once the relay is stopping
    await batch
    await stopping
    rows = [await kit.event(event_id) for event_id in ids]
    assert [row.status for row in rows] == [OutboxStatus.DELIVERED] + [OutboxStatus.PENDING] * 4
    assert [row.attempts for row in rows[1:]] == [0, 0, 0, 0]


async def test_replay_and_discard_only_touch_dead_events_of_the_tenant(kit: Kit, session: AsyncSession) -> None:
    tenant = (
        await kit.sql(
            "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
            "VALUES (gen_random_uuid(), 'lions', 'Lions', 'club', now(), now()) RETURNING id"
        )
    )[0].id
    [dead, alive] = await kit.emit("A", count=2)
    await kit.sql("UPDATE outbox_events SET tenant_id = :t", t=tenant)
    await kit.sql(
        "UPDATE outbox_events SET status = 'dead', attempts = 10, last_error = 'boom' WHERE id = :id", id=dead
    )
    other = (await kit.sql("SELECT gen_random_uuid() AS id"))[0].id
    assert not await sql.replay_dead(session, dead, other)
    assert not await sql.replay_dead(session, alive, tenant)
    assert await sql.replay_dead(session, dead, tenant)
    await session.commit()
    row = await kit.event(dead)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, "boom")
    await kit.sql("UPDATE outbox_events SET status = 'dead', attempts = 10 WHERE id = :id", id=dead)
    assert await sql.discard_dead(session, dead, tenant, "discarded by ops@club: bounced")
    await session.commit()
    assert (await kit.event(dead)).status is OutboxStatus.DELIVERED
    assert await kit.deliveries(dead) == {"discarded": ("skipped", "discarded by ops@club: bounced")}
    # The aggregate flows again: the next event is claimable now.
    assert [event.id for event in await claim(kit)] == [alive]


async def test_retention_deletes_only_old_delivered_events(kit: Kit) -> None:
    ids = [(await kit.emit(f"agg-{i}"))[0] for i in range(4)]
    old_delivered, recent_delivered, old_pending, old_dead = ids
    await kit.sql(
        "UPDATE outbox_events SET status = 'delivered', delivered_at = now() - interval '8 days' WHERE id = :id",
        id=old_delivered,
    )
    await kit.sql(
        "INSERT INTO outbox_deliveries (event_id, handler, outcome) VALUES (:id, 'h', 'done')", id=old_delivered
    )
    await kit.sql(
        "UPDATE outbox_events SET status = 'delivered', delivered_at = now() - interval '6 days' WHERE id = :id",
        id=recent_delivered,
    )
    await kit.sql("UPDATE outbox_events SET created_at = now() - interval '30 days'")
    await kit.sql("UPDATE outbox_events SET status = 'dead' WHERE id = :id", id=old_dead)
    async with kit.session_maker() as session:
        assert await sql.delete_delivered_before(session, days=7, batch_size=1) == 1
        assert await sql.delete_delivered_before(session, days=7, batch_size=1) == 0
        await session.commit()
    remaining = {row.id for row in await kit.sql("SELECT id FROM outbox_events")}
    assert remaining == {recent_delivered, old_pending, old_dead}
    assert await kit.sql("SELECT * FROM outbox_deliveries") == []


async def test_the_database_enforces_the_status_rules(kit: Kit) -> None:
    [event_id] = await kit.emit("A")
    for statement in (
        "UPDATE outbox_events SET status = 'lost' WHERE id = :id",
        "UPDATE outbox_events SET status = 'in_flight', locked_until = NULL WHERE id = :id",
        "UPDATE outbox_events SET status = 'delivered' WHERE id = :id",
        "UPDATE outbox_events SET attempts = -1 WHERE id = :id",
        "INSERT INTO outbox_deliveries (event_id, handler, outcome) VALUES (:id, 'h', 'maybe')",
    ):
        with pytest.raises(IntegrityError):
            await kit.sql(statement, id=event_id)


async def test_counts_and_lag(kit: Kit) -> None:
    assert await _counts(kit) == sql.OutboxCounts(0, 0, 0, None)
    ids = [event_id for i in range(4) for event_id in await kit.emit(f"agg-{i}")]
    await kit.sql("UPDATE outbox_events SET created_at = now() - interval '90 seconds' WHERE id = :id", id=ids[0])
    await kit.sql("UPDATE outbox_events SET status = 'dead' WHERE id = :id", id=ids[3])
    await claim(kit, batch_size=1)
    counts = await _counts(kit)
    assert (counts.pending, counts.in_flight, counts.dead) == (2, 1, 1)
    assert counts.oldest_pending_age_seconds is not None
    assert 89 < counts.oldest_pending_age_seconds < 120


async def _counts(kit: Kit) -> sql.OutboxCounts:
    async with kit.session_maker() as session:
        return await sql.outbox_counts(session)


def test_describe_error_masks_credentials() -> None:
    message = describe_error(RuntimeError("token=abc123 password: pw Bearer eyJ.x.y postgresql://u:secret@db/x"))
    assert "abc123" not in message
    assert "pw " not in message
    assert "eyJ" not in message
    assert "secret" not in message
    assert message.startswith("RuntimeError: ")


async def test_emit_checks_the_payload(kit: Kit) -> None:
    class Other(msgspec.Struct):
        text: str

    async with kit.session_maker() as session:
        with pytest.raises(UnknownEventTypeError):
            kit.add_note(session, "A", event_type="test.unknown")
        with pytest.raises(TypeError, match="takes a Note payload"):
            kit.add_note(session, "A", payload=Other(text="x"))
        await session.rollback()
    assert await kit.sql("SELECT id FROM outbox_events") == []


async def test_an_event_exists_only_if_the_caller_commits(kit: Kit) -> None:
    async with kit.session_maker() as session:
        kit.add_note(session, "A")
        await session.rollback()
    assert await kit.sql("SELECT id FROM outbox_events") == []


async def test_a_stopping_relay_releases_the_batch_it_claimed_ahead(kit: Kit) -> None:
    slow = SlowHandler(kit)
    ids = [(await kit.emit(f"agg-{i}"))[0] for i in range(6)]
    relay = kit.relay(batch_size=2, concurrency=2)  # a new relay's first claim is one event per consumer
    relay.start()
    await slow.started.wait()

    async def four_in_flight() -> list[Any]:  # this batch and the next one, claimed ahead
        in_flight = await kit.sql("SELECT id FROM outbox_events WHERE status = 'in_flight'")
        return in_flight if len(in_flight) == 4 else []

    in_flight = await wait_for(four_in_flight, what="this batch and the next one in flight")
    assert len(in_flight) == 4
    stopping = asyncio.create_task(relay.stop(grace_seconds=5))
    await wait_for(lambda: stopping_began(relay), what="the relay to begin stopping")
    slow.finish.set()  # the started handlers finish only once the relay is stopping
    await stopping
    rows = [await kit.event(event_id) for event_id in ids]
    assert [row.status for row in rows] == [OutboxStatus.DELIVERED] * 2 + [OutboxStatus.PENDING] * 4
    assert [row.attempts for row in rows[2:]] == [0] * 4
