"""Outbox admin DTOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example

from app.core.openapi import RequestExamples
from app.core.text import STORABLE_TEXT
from app.outbox.models import DeliveryOutcome, OutboxStatus

__all__ = ["DiscardRequest", "OutboxDeliveryRead", "OutboxEventRead", "OutboxStats", "PingAccepted"]


class OutboxDeliveryRead(msgspec.Struct, kw_only=True):
    handler: str
    outcome: DeliveryOutcome
    delivered_at: datetime
    note: str | None


class OutboxEventRead(msgspec.Struct, kw_only=True):
    id: UUID
    seq: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    available_at: datetime
    locked_until: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    deliveries: list[OutboxDeliveryRead]


class OutboxStats(msgspec.Struct, kw_only=True):
    pending: int
    in_flight: int
    dead: int
    oldest_pending_age_seconds: float | None
    """Age of the oldest event not yet delivered (pending or in flight): the delivery lag."""


class DiscardRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=1000, pattern=STORABLE_TEXT, description="Why the event is given up on"),
    ]


class PingAccepted(msgspec.Struct, kw_only=True):
    event_id: UUID
    """Watch it arrive: GET /api/v1/admin/outbox/events?event_type=system.ping"""


body = RequestExamples(
    {
        DiscardRequest: Example(
            summary="A parent's mailbox no longer exists",
            value={"note": "parent's address bounces; staff will call instead"},
        ),
    }
)
"""The OpenAPI example of each request body (``Annotated[Model, body(Model)]``)."""
