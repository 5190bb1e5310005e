"""Built-in event types: ``system.ping`` (an operator's end-to-end check) and its no-op handler."""

from __future__ import annotations

from datetime import datetime

import msgspec

from app.outbox.registry import Event, handler, register_event_type

__all__ = ["SYSTEM_PING", "Ping"]

SYSTEM_PING = "system.ping"


class Ping(msgspec.Struct, kw_only=True):
    requested_by: str
    requested_at: datetime


register_event_type(SYSTEM_PING, Ping)


@handler(SYSTEM_PING, name="noop")
async def acknowledge_ping(event: Event[Ping]) -> None:
    """Nothing to do: delivery itself (visible in the admin API) is the point."""
