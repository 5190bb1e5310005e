"""Prometheus metrics of outbox delivery (counted in the worker processes)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from app.outbox import sql

__all__ = [
    "COMMIT_TO_DELIVERY",
    "DEAD",
    "DEAD_NOW",
    "DELIVERED",
    "HANDLER_DURATION",
    "IN_FLIGHT",
    "OLDEST_PENDING_AGE",
    "PENDING",
    "RETRIED",
    "refresh_outbox_gauges",
]

DELIVERED = Counter(
    "rollcall_outbox_delivered_total", "Events delivered (every handler done or skipped)", ["event_type"]
)
RETRIED = Counter(
    "rollcall_outbox_retried_total", "Delivery attempts that failed and were scheduled again", ["event_type"]
)
DEAD = Counter("rollcall_outbox_dead_total", "Events that ran out of attempts or cannot be decoded", ["event_type"])
COMMIT_TO_DELIVERY = Histogram(
    "rollcall_outbox_commit_to_delivery_seconds",
    "From the event's insert to the end of its delivery",
    ["event_type"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
HANDLER_DURATION = Histogram(
    "rollcall_outbox_handler_duration_seconds",
    "Time a handler took, success or failure",
    ["event_type", "handler"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Read from the database at scrape time by the API's /metrics (one value for the whole outbox).
PENDING = Gauge("rollcall_outbox_pending_events", "Events waiting to be delivered", multiprocess_mode="mostrecent")
IN_FLIGHT = Gauge(
    "rollcall_outbox_in_flight_events", "Events claimed by a worker right now", multiprocess_mode="mostrecent"
)
DEAD_NOW = Gauge(
    "rollcall_outbox_dead_events", "Events given up on, waiting for an admin", multiprocess_mode="mostrecent"
)
OLDEST_PENDING_AGE = Gauge(
    "rollcall_outbox_oldest_pending_age_seconds",
    "Age of the oldest undelivered event (0 when none): the delivery lag",
    multiprocess_mode="mostrecent",
)


async def refresh_outbox_gauges(engine: AsyncEngine) -> None:
    """Set the outbox gauges from the database (the API's ``/metrics`` calls it at each scrape)."""
    async with engine.connect() as connection:
        counts = await sql.outbox_counts(connection)
    PENDING.set(counts.pending)
    IN_FLIGHT.set(counts.in_flight)
    DEAD_NOW.set(counts.dead)
    OLDEST_PENDING_AGE.set(counts.oldest_pending_age_seconds or 0.0)
