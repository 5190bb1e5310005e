"""``jersey_public_orders``: jerseys that a club's users order for a player, reconciled to the roster by staff.

The table docs/club.md "Jersey orders" describes: every allowed value is a CHECK in the database,
the id and both timestamps have database defaults (rows can be imported with plain SQL), and the links to the
roster are emptied, not cascaded, when a parent or player is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from advanced_alchemy.base import DefaultBase
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String, Text, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.club.models import Parent, Player, Program, Tier
from app.core.columns import enum_column
from app.tenants.models import Tenant

__all__ = ["JerseyOrder", "JerseySize", "OrderStatus"]


class JerseySize(StrEnum):
    YOUTH_S = "YS"
    YOUTH_M = "YM"
    YOUTH_L = "YL"
    YOUTH_XL = "YXL"
    ADULT_S = "AS"
    ADULT_M = "AM"
    ADULT_L = "AL"
    ADULT_XL = "AXL"
    ADULT_2XL = "A2XL"


class OrderStatus(StrEnum):
    SUBMITTED = "submitted"
    RECONCILED = "reconciled"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


def _now() -> datetime:
    return datetime.now(UTC)


class JerseyOrder(DefaultBase):
    __tablename__ = "jersey_public_orders"
    __table_args__ = (
        CheckConstraint("jersey_number BETWEEN 0 AND 99", name="jersey_number_range"),
        Index("ix_jersey_public_orders_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[UUID] = mapped_column(
        PG_UUID(as_uuid=True), primary_key=True, default=uuid4, server_default=text("gen_random_uuid()")
    )
    tenant_id: Mapped[UUID] = mapped_column(ForeignKey(Tenant.id))
    submitter_keycloak_sub: Mapped[str] = mapped_column(String(255), index=True)
    """Who ordered (the token's ``sub``); the same user may order many times."""
    email: Mapped[str] = mapped_column(String(255), index=True)
    player_name: Mapped[str] = mapped_column(String(200))
    jersey_number: Mapped[int | None] = mapped_column(SmallInteger)
    size: Mapped[JerseySize] = mapped_column(enum_column(JerseySize, "size", length=10))
    kq: Mapped[Program] = mapped_column(enum_column(Program, "kq", length=10))
    """The club's boys' (Kings) or girls' (Queens) program."""
    tier: Mapped[Tier] = mapped_column(enum_column(Tier, "tier", length=20))
    """The team tier the jersey is for."""
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus, "status", length=20), default=OrderStatus.SUBMITTED, server_default="submitted"
    )
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey(Parent.id, ondelete="SET NULL"))
    player_id: Mapped[UUID | None] = mapped_column(ForeignKey(Player.id, ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_now, onupdate=_now, server_default=text("now()")
    )
