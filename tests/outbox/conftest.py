"""Outbox test kit: a private registry of event types and handlers per test, a relay over the test database."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import msgspec
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.db import alchemy_config
from app.outbox import emit, sql
from app.outbox.models import OutboxEvent
from app.outbox.registry import Event, OutboxRegistry
from app.outbox.relay import Relay


class Note(msgspec.Struct, kw_only=True):
    text: str
    size: int = msgspec.field(default=1)


@dataclasses.dataclass
class Kit:
    """A test's own event types and handlers, a session factory, and helpers to emit and inspect."""

    registry: OutboxRegistry
    session_maker: Callable[[], AsyncSession]
    settings: Settings
    resources: dict[str, object] = dataclasses.field(default_factory=dict)
    """What the kit's relays inject into handlers by parameter name (the ``notifier`` fixture adds one)."""

    def relay(self, **outbox: Any) -> Relay:
        return Relay(
            self.session_maker,
            msgspec.structs.replace(self.settings.outbox, **outbox),
            handlers=self.registry,
            resources=self.resources,
        )

    def add_note(
        self, session: AsyncSession, aggregate_id: str, *, event_type: str = "test.note", payload: Any = None
    ) -> UUID:
        """Emit a ``test.note`` of aggregate ``thing``/``aggregate_id`` into ``session`` (not committed)."""
        return emit(
            session,
            aggregate_type="thing",
            aggregate_id=aggregate_id,
            event_type=event_type,
            payload=payload if payload is not None else Note(text="x"),
            tenant_id=None,
            events=self.registry,
        )

    async def emit(
        self, aggregate_id: str, *, event_type: str = "test.note", text: str = "hi", count: int = 1
    ) -> list[UUID]:
        async with self.session_maker() as session:
            ids = [
                self.add_note(session, aggregate_id, event_type=event_type, payload=Note(text=text))
                for _ in range(count)
            ]
            await session.commit()
        return ids

    async def event(self, event_id: UUID) -> OutboxEvent:
        async with self.session_maker() as session:
            found = await session.scalar(select(OutboxEvent).where(OutboxEvent.id == event_id))
            assert found is not None
            return found

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.session_maker() as session:
            result = await session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await session.commit()
            return rows

    async def someone_waits_for_a_lock(self, statement_like: str = "%") -> bool:
        """Whether a session of this database waits for a lock, in a statement LIKE ``statement_like``."""
        rows = await self.sql(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE :statement_like",
            statement_like=statement_like,
        )
        return bool(rows)

    async def expire_lease(self, event_id: UUID) -> None:
        """Make the event's lease run out now, as if its worker had stalled past it (no sleeping through it):
        a lease is expired when ``locked_until`` is before the database's ``now()``."""
        await self.sql(
            "UPDATE outbox_events SET locked_until = now() - interval '1 second'"
            " WHERE id = :id AND status = 'in_flight'",
            id=event_id,
        )

    async def deliveries(self, event_id: UUID) -> dict[str, tuple[str, str | None]]:
        rows = await self.sql("SELECT handler, outcome, note FROM outbox_deliveries WHERE event_id = :id", id=event_id)
        return {row.handler: (row.outcome, row.note) for row in rows}


async def claim(
    kit: Kit, *, batch_size: int = 100, lease_seconds: float = 15, max_attempts: int = 10
) -> list[sql.ClaimedEvent]:
    """Claim as a worker would (and commit, publishing the leases)."""
    async with kit.session_maker() as session:
        result = await sql.claim_batch(
            session, batch_size=batch_size, lease_seconds=lease_seconds, max_attempts=max_attempts
        )
        await session.commit()
        return result.claimed


def stopping_began(relay: Relay) -> bool:
    """Whether ``relay.stop()`` has taken its first step: from then on the relay claims nothing and starts no
    more handlers (what a test waits for before letting a started handler finish)."""
    return relay._stopping


class SlowHandler:
    """A handler that starts, then waits until the test lets it finish."""

    def __init__(self, kit: Kit) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()
        kit.registry.handler("test.note", name="slow")(self.run)

    async def run(self, event: Event[Note]) -> None:
        self.started.set()
        await self.finish.wait()


@pytest.fixture
async def kit(settings: Settings) -> AsyncIterator[Kit]:
    config = alchemy_config(settings.database)
    registry = OutboxRegistry()
    registry.register_event_type("test.note", Note)
    yield Kit(registry, config.create_session_maker(), settings)
    await config.get_engine().dispose()
