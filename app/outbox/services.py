"""Operating the outbox: list and count a tenant's events, replay or discard dead ones, ping the workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from advanced_alchemy.filters import StatementFilter
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement
from sqlalchemy.orm import selectinload

from app.core.auth import Principal
from app.core.errors import ResourceNotFoundError, StateConflictError
from app.outbox import sql
from app.outbox.emit import emit, request_nudge
from app.outbox.events import SYSTEM_PING, Ping
from app.outbox.models import OutboxEvent, OutboxStatus

__all__ = ["EventFilter", "OutboxService"]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What the admin list narrows to; every field is optional."""

    status: OutboxStatus | None = None
    event_type: str | None = None
    aggregate_type: str | None = None
    aggregate_id: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        wanted = {
            OutboxEvent.status: self.status,
            OutboxEvent.event_type: self.event_type,
            OutboxEvent.aggregate_type: self.aggregate_type,
            OutboxEvent.aggregate_id: self.aggregate_id,
        }
        return [column == value for column, value in wanted.items() if value is not None]


class OutboxService(SQLAlchemyAsyncRepositoryService[OutboxEvent]):
    """Every method is scoped to one tenant: another tenant's event is "not found"."""

    class Repo(SQLAlchemyAsyncRepository[OutboxEvent]):
        model_type = OutboxEvent

    repository_type = Repo

    async def list_events(
        self, tenant_id: UUID, selection: EventFilter, *filters: StatementFilter
    ) -> tuple[Sequence[OutboxEvent], int]:
        """Newest first, with each event's deliveries; ``filters`` page and narrow (e.g. by creation time)."""
        return await self.get_many_and_count(
            *filters,
            OutboxEvent.tenant_id == tenant_id,
            *selection.clauses(),
            order_by=[(OutboxEvent.seq, True)],
            load=[selectinload(OutboxEvent.deliveries)],
        )

    async def get_event(self, tenant_id: UUID, event_id: UUID) -> OutboxEvent:
        event = await self.get_one_or_none(
            OutboxEvent.id == event_id, OutboxEvent.tenant_id == tenant_id, load=[selectinload(OutboxEvent.deliveries)]
        )
        if event is None:
            raise ResourceNotFoundError(f"no outbox event {event_id}")
        return event

    async def stats(self, tenant_id: UUID) -> sql.OutboxCounts:
        return await sql.outbox_counts(self.repository.session, tenant_id)

    async def replay(self, tenant_id: UUID, event_id: UUID) -> OutboxEvent:
        """Dead → pending with attempts reset, so the workers try it again (and its aggregate flows again)."""
        session = self.repository.session
        if not await sql.replay_dead(session, event_id, tenant_id):
            await self._refuse(tenant_id, event_id, "replayed")
        request_nudge(session)
        await session.commit()
        return await self._fresh(tenant_id, event_id)

    async def discard(self, tenant_id: UUID, event_id: UUID, *, note: str, actor: str) -> OutboxEvent:
        """Dead → delivered without running its handlers; the note (and who) is kept as a delivery record."""
        session = self.repository.session
        if not await sql.discard_dead(session, event_id, tenant_id, f"discarded by {actor}: {note}"):
            await self._refuse(tenant_id, event_id, "discarded")
        await session.commit()
        return await self._fresh(tenant_id, event_id)

    async def ping(self, principal: Principal) -> UUID:
        """Emit ``system.ping`` for the caller's tenant; its delivery proves the workers run end to end."""
        session = self.repository.session
        event_id = emit(
            session,
            aggregate_type="system",
            aggregate_id=f"ping-{uuid4()}",
            event_type=SYSTEM_PING,
            payload=Ping(requested_by=principal.actor, requested_at=datetime.now(UTC)),
            tenant_id=principal.tenant.id,
        )
        await session.commit()
        return event_id

    async def _refuse(self, tenant_id: UUID, event_id: UUID, verb: str) -> None:
        event = await self.get_event(tenant_id, event_id)  # 404 for another tenant's event
        raise StateConflictError(f"only dead events can be {verb}; this one is {event.status.value}")

    async def _fresh(self, tenant_id: UUID, event_id: UUID) -> OutboxEvent:
        self.repository.session.expunge_all()
        return await self.get_event(tenant_id, event_id)
