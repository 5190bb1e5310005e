"""The transactional outbox: events written with the state change, delivered at least once by the workers.

Write side: :func:`emit` adds an event to the caller's transaction.
Read side: :func:`handler` registers what runs for an event type; the relay
(``app.outbox.relay``) claims, runs and completes events using the SQL in
``app.outbox.sql``.
"""

from app.outbox.emit import emit
from app.outbox.registry import Event, Skipped, handler, register_event_type

__all__ = ["Event", "Skipped", "emit", "handler", "register_event_type"]
