"""Events of jersey orders (aggregate ``jersey_order``); the email handlers subscribe to them."""

from __future__ import annotations

from uuid import UUID

import msgspec

from app.club.jerseys.models import OrderStatus
from app.outbox import register_event_type

__all__ = ["JERSEY_ORDER_STATUS_CHANGED", "JERSEY_ORDER_SUBMITTED", "OrderStatusChanged", "OrderSubmitted"]

JERSEY_ORDER_SUBMITTED = "jersey_order.submitted"
JERSEY_ORDER_STATUS_CHANGED = "jersey_order.status_changed"


class OrderSubmitted(msgspec.Struct, kw_only=True):
    order_id: UUID
    tenant_id: UUID


class OrderStatusChanged(msgspec.Struct, kw_only=True):
    order_id: UUID
    tenant_id: UUID
    previous_status: OrderStatus
    status: OrderStatus
    changed_by: str


register_event_type(JERSEY_ORDER_SUBMITTED, OrderSubmitted)
register_event_type(JERSEY_ORDER_STATUS_CHANGED, OrderStatusChanged)
