"""Admin API of the outbox: what happened to the tenant's events, and the levers to unblock them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses
from app.core.filters import CREATED, PAGING, Created, Paging
from app.core.text import STORABLE_TEXT
from app.outbox.models import OutboxEvent, OutboxStatus
from app.outbox.schemas import DiscardRequest, OutboxEventRead, OutboxStats, PingAccepted, body
from app.outbox.services import EventFilter, OutboxService

__all__ = ["OutboxController"]


async def provide_outbox_service(db_session: NamedDependency[AsyncSession]) -> OutboxService:
    return OutboxService(session=db_session)


class OutboxController(Controller):
    path = "/api/v1/admin/outbox"
    tags = ["outbox"]
    guards = [requires_role("admin")]
    dependencies = {"outbox": Provide(provide_outbox_service), **PAGING, **CREATED}

    @get(
        "/events",
        operation_id="listOutboxEvents",
        summary="List the tenant's outbox events",
        responses=problem_responses(400, 401, 403),
    )
    async def list_events(
        self,
        outbox: NamedDependency[OutboxService],
        principal: NamedDependency[Principal],
        created: Created,
        paging: Paging,
        status: Annotated[OutboxStatus | None, QueryParameter(description="Only events in this state")] = None,
        event_type: Annotated[
            str | None, QueryParameter(description="e.g. contract.signed", max_length=255, pattern=STORABLE_TEXT)
        ] = None,
        aggregate_type: Annotated[
            str | None, QueryParameter(description="e.g. player", max_length=255, pattern=STORABLE_TEXT)
        ] = None,
        aggregate_id: Annotated[str | None, QueryParameter(max_length=255, pattern=STORABLE_TEXT)] = None,
    ) -> OffsetPagination[OutboxEventRead]:
        """Newest first; each event shows its status, attempts, last error and per-handler deliveries."""
        selection = EventFilter(
            status=status,
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
        )
        events, total = await outbox.list_events(principal.tenant.id, selection, created, paging)
        return outbox.to_schema(events, total, filters=[paging], schema_type=OutboxEventRead)

    @get(
        "/events/{event_id:uuid}",
        operation_id="getOutboxEvent",
        summary="One outbox event",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get_event(
        self, outbox: NamedDependency[OutboxService], principal: NamedDependency[Principal], event_id: FromPath[UUID]
    ) -> OutboxEventRead:
        """The event with its deliveries."""
        return _read_one(outbox, await outbox.get_event(principal.tenant.id, event_id))

    @get(
        "/stats",
        operation_id="getOutboxStats",
        summary="Counts and lag of the tenant's outbox",
        responses=problem_responses(401, 403),
    )
    async def stats(self, outbox: NamedDependency[OutboxService], principal: NamedDependency[Principal]) -> OutboxStats:
        """Pending, in-flight and dead counts, and the age in seconds of the oldest undelivered event."""
        counts = await outbox.stats(principal.tenant.id)
        return OutboxStats(
            pending=counts.pending,
            in_flight=counts.in_flight,
            dead=counts.dead,
            oldest_pending_age_seconds=counts.oldest_pending_age_seconds,
        )

    @post(
        "/events/{event_id:uuid}/replay",
        operation_id="replayOutboxEvent",
        summary="Retry a dead event",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def replay(
        self, outbox: NamedDependency[OutboxService], principal: NamedDependency[Principal], event_id: FromPath[UUID]
    ) -> OutboxEventRead:
        """Dead → pending with attempts reset; the workers pick it up at once. 409 unless the event is dead."""
        return _read_one(outbox, await outbox.replay(principal.tenant.id, event_id))

    @post(
        "/events/{event_id:uuid}/discard",
        operation_id="discardOutboxEvent",
        summary="Give up on a dead event",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413),
    )
    async def discard(
        self,
        outbox: NamedDependency[OutboxService],
        principal: NamedDependency[Principal],
        event_id: FromPath[UUID],
        data: Annotated[DiscardRequest, body(DiscardRequest)],
    ) -> OutboxEventRead:
        """Dead → delivered without running its handlers, so later events of its aggregate flow again.
        The note and who discarded it are kept as a delivery record named `discarded`. 409 unless dead."""
        event = await outbox.discard(principal.tenant.id, event_id, note=data.note, actor=principal.actor)
        return _read_one(outbox, event)

    @post(
        "/ping",
        operation_id="pingOutbox",
        summary="Send a system.ping through the outbox",
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(401, 403),
    )
    async def ping(self, outbox: NamedDependency[OutboxService], principal: NamedDependency[Principal]) -> PingAccepted:
        """Commits a `system.ping` event and returns its id; watch it become `delivered` in the event list."""
        return PingAccepted(event_id=await outbox.ping(principal))


def _read(outbox: OutboxService, events: list[OutboxEvent]) -> list[OutboxEventRead]:
    return [_read_one(outbox, event) for event in events]


def _read_one(outbox: OutboxService, event: OutboxEvent) -> OutboxEventRead:
    return outbox.to_schema(event, schema_type=OutboxEventRead)
