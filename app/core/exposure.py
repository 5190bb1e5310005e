"""Start-up warnings for production settings that leave something open, or that break behind a proxy."""

from __future__ import annotations

import structlog

from app.config import Settings

__all__ = ["warn_about_exposure"]

logger = structlog.get_logger(__name__)


def warn_about_exposure(settings: Settings) -> None:
    """Log a warning per risky default in production: ``/metrics`` without ``METRICS_TOKEN``, and a rate
    limit keyed on the direct peer (no ``TRUSTED_PROXIES``). Dev mode is quiet."""
    if settings.is_dev:
        return
    if settings.metrics.token is None:
        logger.warning(
            "metrics_unprotected",
            setting="METRICS_TOKEN",
            detail=(
                "GET /metrics answers anyone who reaches the API; set METRICS_TOKEN to require a bearer "
                "token, or keep /metrics reachable from the monitoring network only"
            ),
        )
    if settings.server.public_rate_limit and not settings.server.trusted_proxies:
        logger.warning(
            "client_ip_is_the_peer",
            setting="TRUSTED_PROXIES",
            detail=(
                "TRUSTED_PROXIES is empty, so a client's IP is the direct peer's: behind a reverse proxy or "
                "load balancer every parent shares one rate limit bucket (and signatures record the proxy's "
                "IP). Set TRUSTED_PROXIES to the proxy's addresses"
            ),
        )
