"""``GET /metrics``: Prometheus text for the API (HTTP requests) and the outbox's state (from the database).

Delivery counters and histograms are counted where deliveries happen: each
worker serves them on ``WORKER_METRICS_PORT``. With ``METRICS_TOKEN`` set the
endpoint needs ``Authorization: Bearer <token>``; without it, keep the path
reachable from the monitoring network only.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.params import SkipValidation
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.deps import AppSettings
from app.core.errors import problem_responses

__all__ = ["GaugeRefresher", "MetricsController", "http_metrics"]

GaugeRefresher = Callable[[AsyncEngine], Awaitable[None]]
"""Sets gauges from the database at scrape time; the app provides its list as the ``gauges`` dependency."""


APP_NAME = "rollcall"
_LABELS = ("method", "path", "status_code", "app_name")
_REQUESTS = Counter("rollcall_requests_total", "Total requests", _LABELS)
_DURATION = Histogram("rollcall_request_duration_seconds", "Request duration, in seconds", _LABELS)
_ERRORS = Counter("rollcall_requests_error_total", "Total errors in requests", _LABELS)
_IN_PROGRESS = Gauge(
    "rollcall_requests_in_progress",
    "Total requests currently in progress",
    _LABELS,  # status_code is always "200" here, as Litestar's middleware labelled it
    multiprocess_mode="livesum",
)


def http_metrics(app: ASGIApp) -> ASGIApp:
    """Middleware: request count, duration, errors (5xx) and requests in progress per route template.

    The metrics and labels of Litestar's Prometheus middleware (``rollcall_request*``; ``/metrics`` itself
    is not counted), recorded leaner: it runs on every request, and building a URL and looking up four
    labelled children per request cost ~5 % of the sign endpoint's CPU. Children are looked up once per
    route, method and status (a bounded set: route templates, not paths).
    """
    finished: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
    running: dict[tuple[str, str], Any] = {}

    async def record(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path_template") or scope["path"]
        if scope["type"] != ScopeType.HTTP or path.startswith("/metrics"):
            await app(scope, receive, send)
            return
        method = scope["method"]
        gauge = running.get((method, path))
        if gauge is None:
            gauge = running[(method, path)] = _IN_PROGRESS.labels(method, path, "200", APP_NAME)
        status = 200
        ended: float | None = None

        async def send_and_note(message: Message) -> None:
            nonlocal status, ended
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                ended = time.perf_counter()
            await send(message)

        started = time.perf_counter()
        gauge.inc()
        try:
            await app(scope, receive, send_and_note)
        finally:
            gauge.dec()
            children = finished.get((method, path, status))
            if children is None:
                labels = (method, path, str(status), APP_NAME)
                error = _ERRORS.labels(*labels) if status >= 500 else None
                children = finished[(method, path, status)] = (
                    _REQUESTS.labels(*labels),
                    _DURATION.labels(*labels),
                    error,
                )
            requests, duration, errors = children
            if errors is not None:
                errors.inc()
            requests.inc()
            duration.observe((ended or time.perf_counter()) - started)

    return record


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
        self,
        request: Request[Any, Any, Any],
        settings: AppSettings,
        db_engine: NamedDependency[AsyncEngine],
        gauges: NamedDependency[SkipValidation[Sequence[GaugeRefresher]]],
    ) -> Response[bytes]:
        """HTTP request metrics and the gauges read at scrape time (the outbox's). Needs
        `Authorization: Bearer $METRICS_TOKEN` when set."""
        _check_token(request, settings.metrics.token)
        for refresh in gauges:
            await refresh(db_engine)
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
