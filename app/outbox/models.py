"""``outbox_events`` and ``outbox_deliveries``: the delivery state of every event lives here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.columns import enum_column
from app.tenants.models import Tenant

__all__ = ["DeliveryOutcome", "OutboxDelivery", "OutboxEvent", "OutboxStatus"]


class OutboxStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    DEAD = "dead"


class DeliveryOutcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


class OutboxEvent(DefaultBase):
    """One event; column names are fixed (Debezium's Outbox Event Router maps onto them)."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("claim_count >= 0", name="claim_count_not_negative"),
        CheckConstraint("status <> 'in_flight' OR locked_until IS NOT NULL", name="in_flight_has_lease"),
        CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_has_time"),
        # Claiming walks undelivered rows in seq order; delivered rows (the vast majority) stay out of it.
        Index(
            "ix_outbox_events_claimable",
            "seq",
            postgresql_where=text("status IN ('pending', 'in_flight')"),
        ),
        # "Is an earlier event of this aggregate still undelivered?" (per-aggregate order; dead rows block).
        Index(
            "ix_outbox_events_aggregate_open",
            "aggregate_type",
            "aggregate_id",
            "seq",
            postgresql_where=text("status <> 'delivered'"),
        ),
        Index("ix_outbox_events_tenant_seq", "tenant_id", "seq"),
        Index("ix_outbox_events_retention", "delivered_at", postgresql_where=text("status = 'delivered'")),
    )

    id: Mapped[UUID] = mapped_column(PG_UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    tenant_id: Mapped[UUID | None] = mapped_column(ForeignKey(Tenant.id), nullable=True)
    aggregate_type: Mapped[str] = mapped_column(String(255))
    aggregate_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), server_default=OutboxStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """The retry budget: claims since the event was emitted or last replayed (compared with max_attempts)."""
    claim_count: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    """Claims ever, never reset: the fencing value of the statements that finish or renew a claim."""
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    deliveries: Mapped[list[OutboxDelivery]] = relationship(
        lazy="raise", order_by="OutboxDelivery.delivered_at", viewonly=True
    )


class OutboxDelivery(DefaultBase):
    """One handler's success (or deliberate skip) for one event: a retry never runs it again."""

    __tablename__ = "outbox_deliveries"

    event_id: Mapped[UUID] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True)
    handler: Mapped[str] = mapped_column(String(255), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    outcome: Mapped[DeliveryOutcome] = mapped_column(enum_column(DeliveryOutcome, "delivery_outcome"))
    note: Mapped[str | None] = mapped_column(Text)
