"""One bad value cannot stall a batch: stored text is made acceptable to PostgreSQL, and a completion the
database still refuses is finished on its own with a placeholder while the rest of the batch completes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox import sql
from app.outbox.models import OutboxStatus
from app.outbox.registry import Event, Skipped
from app.outbox.relay import MAX_ERROR_LENGTH
from tests.outbox.conftest import Kit, Note

# What a non-UTF-8 SMTP reply decoded with errors="surrogateescape" looks like, with a NUL in it.
HOSTILE_REPLY = "550 5.1.1 <ab\x00c@example.org> unknown \udcff user"
STORED_REPLY = "550 5.1.1 <abc@example.org> unknown \ufffd user"


def test_stored_text_has_no_nul_no_lone_surrogate_and_a_bounded_length() -> None:
    assert sql.storable_text(HOSTILE_REPLY) == STORED_REPLY
    assert sql.storable_text("paired \U0001f600 stays") == "paired \U0001f600 stays"
    assert sql.storable_text("\ud83d\ude00 as two halves") == "\ufffd\ufffd as two halves"
    bounded = sql.storable_text("x" * 5000)
    assert len(bounded) == MAX_ERROR_LENGTH
    assert bounded.endswith("…")
    assert sql.storable_text("x" * 50, limit=10) == "x" * 9 + "…"


async def test_an_error_text_postgresql_rejects_is_stored_cleaned_and_the_batch_completes(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="mailer")
    async def mailer(event: Event[Note]) -> None:
        if event.aggregate_id == "bad":
            raise ConnectionError(HOSTILE_REPLY)

    [bad] = await kit.emit("bad")
    good = [event_id for i in range(4) for event_id in await kit.emit(f"good-{i}")]
    await kit.relay(backoff_base_seconds=0).deliver_batch()
    row = await kit.event(bad)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.last_error == f"ConnectionError: {STORED_REPLY}"
    assert {(await kit.event(event_id)).status for event_id in good} == {OutboxStatus.DELIVERED}


async def test_a_skip_reason_postgresql_rejects_is_stored_cleaned(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="bulk_recorded")
    async def bulk_recorded(event: Event[Note]) -> Skipped:
        return Skipped(f"the mail server refused the email: {HOSTILE_REPLY}")

    @kit.registry.handler("test.note", name="with_session")
    async def with_session(event: Event[Note], session: AsyncSession) -> Skipped:
        return Skipped(f"the mail server refused the email: {HOSTILE_REPLY}")

    [event_id] = await kit.emit("A")
    [other] = await kit.emit("B")
    await kit.relay(backoff_base_seconds=0).deliver_batch()
    note = f"the mail server refused the email: {STORED_REPLY}"
    assert await kit.deliveries(event_id) == {"bulk_recorded": ("skipped", note), "with_session": ("skipped", note)}
    assert (await kit.event(event_id)).status is OutboxStatus.DELIVERED
    assert (await kit.event(other)).status is OutboxStatus.DELIVERED


@pytest.fixture
async def refusing_database(kit: Kit) -> AsyncIterator[None]:
    """A trigger that refuses any event row whose last_error mentions "poison": a value the database rejects."""
    await kit.sql(
        """
        CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.last_error LIKE '%poison%' THEN
                RAISE EXCEPTION 'value refused';
            END IF;
            RETURN NEW;
        END $$
        """
    )
    await kit.sql(
        "CREATE TRIGGER test_refuse_poison BEFORE UPDATE ON outbox_events "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_poison()"
    )
    yield
    await kit.sql("DROP TRIGGER test_refuse_poison ON outbox_events")
    await kit.sql("DROP FUNCTION test_refuse_poison()")


@pytest.mark.usefixtures("refusing_database")
async def test_a_completion_the_database_refuses_is_finished_with_a_placeholder_and_the_rest_complete(
    kit: Kit,
) -> None:
    @kit.registry.handler("test.note", name="mailer")
    async def mailer(event: Event[Note]) -> None:
        if event.aggregate_id.startswith("bad"):
            raise RuntimeError(f"poison {event.aggregate_id}")

    bad = [event_id for name in ("bad-1", "bad-2") for event_id in await kit.emit(name)]
    good = [event_id for i in range(4) for event_id in await kit.emit(f"good-{i}")]
    await kit.relay(backoff_base_seconds=0).deliver_batch()
    assert {(await kit.event(event_id)).status for event_id in good} == {OutboxStatus.DELIVERED}
    for event_id in bad:
        row = await kit.event(event_id)
        assert (row.status, row.attempts, row.locked_until) == (OutboxStatus.PENDING, 1, None)
        assert row.last_error == "RuntimeError (the database refused the error message)"
