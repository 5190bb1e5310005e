"""``GET /metrics``: Prometheus text for the API (HTTP requests) and the outbox's state (from the database).

Delivery counters and histograms are counted where deliveries happen: each
worker serves them on ``WORKER_METRICS_PORT``. With ``METRICS_TOKEN`` set the
endpoint needs ``Authorization: Bearer <token>``; without it, keep the path
reachable from the monitoring network only.
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.core.errors import problem_responses
from app.outbox import metrics, sql

__all__ = ["MetricsController", "http_metrics"]


def http_metrics() -> PrometheusConfig:
    """Request count, duration and errors per route template (``rollcall_request*``)."""
    return PrometheusConfig(app_name="rollcall", prefix="rollcall", group_path=True, exclude=["^/metrics"])


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]
    opt = {"exclude_from_auth": True}

    @get(
        "/",
        operation_id="getMetrics",
        summary="Prometheus metrics",
        media_type=CONTENT_TYPE_LATEST,
        responses=problem_responses(401),
    )
    async def metrics(
        self, request: Request[Any, Any, Any], db_engine: NamedDependency[AsyncEngine]
    ) -> Response[bytes]:
        """HTTP request metrics and the outbox gauges. Needs `Authorization: Bearer $METRICS_TOKEN` when set."""
        settings: Settings = request.app.state.settings
        _check_token(request, settings.metrics.token)
        async with db_engine.connect() as connection:
            counts = await sql.outbox_counts(connection)
        metrics.PENDING.set(counts.pending)
        metrics.IN_FLIGHT.set(counts.in_flight)
        metrics.DEAD_NOW.set(counts.dead)
        metrics.OLDEST_PENDING_AGE.set(counts.oldest_pending_age_seconds or 0.0)
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _check_token(request: Request[Any, Any, Any], token: str | None) -> None:
    if token is None:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token.encode()):
        raise NotAuthorizedException(
            "metrics need the METRICS_TOKEN bearer token", headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
        )


def _registry() -> CollectorRegistry:
    """The default registry, or all processes' metrics when PROMETHEUS_MULTIPROC_DIR is set (serve --workers N)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
