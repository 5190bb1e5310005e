"""The arq ``WorkerSettings`` and the worker's lifecycle: the outbox relay runs for the worker's lifetime."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import structlog
from arq import cron, func
from arq.connections import RedisSettings
from prometheus_client import start_http_server

from app.config import Settings
from app.core.db import alchemy_config
from app.core.logging import configure_logging
from app.notify.delivery import Notifier
from app.outbox.emit import Nudger, listen_for_nudges, nudging
from app.outbox.relay import Relay
from workers.jobs import hall_daily, outbox_nudge, outbox_retention, outbox_sweep, ping

__all__ = ["HANDLER_MODULES", "worker_settings"]

logger = structlog.get_logger(__name__)

HANDLER_MODULES: tuple[str, ...] = (
    "app.outbox.events",
    "app.club.events",
    "app.club.notifications",
    "app.club.jerseys.events",
    "app.club.jerseys.notifications",
    "app.hall.events",
    "app.hall.notifications",
)
"""Modules whose import registers the outbox handlers this worker runs."""


def worker_settings(settings: Settings) -> type:
    """A declarative arq ``WorkerSettings`` class bound to ``settings``."""
    nudger = Nudger()
    db = alchemy_config(settings.database, session_info=nudging(nudger))

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(settings.log)
        for module in (*HANDLER_MODULES, *settings.outbox.handler_modules):
            importlib.import_module(module)
        nudger.pool = ctx["redis"]  # follow-up events emitted by handlers nudge too
        ctx["settings"] = settings
        ctx["notifier"] = Notifier.from_settings(settings)  # the mailer and link template of the email handlers
        ctx["session_maker"] = db.create_session_maker()
        relay = Relay(ctx["session_maker"], settings.outbox, resources={"notifier": ctx["notifier"]})
        relay.start()
        ctx["relay"] = relay
        ctx["nudge_listener"] = asyncio.get_running_loop().create_task(
            listen_for_nudges(ctx["redis"], relay.wake), name="outbox-nudge-listener"
        )
        if settings.metrics.worker_port:
            try:
                start_http_server(settings.metrics.worker_port, addr=settings.metrics.worker_host)
            except OSError as error:
                logger.warning("worker_metrics_unavailable", port=settings.metrics.worker_port, error=str(error))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        listener: asyncio.Task[None] | None = ctx.get("nudge_listener")
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        relay: Relay | None = ctx.get("relay")
        if relay is not None:
            await relay.stop()
        await nudger.drain()
        await db.get_engine().dispose()

    return type(
        "WorkerSettings",
        (),
        {
            "redis_settings": RedisSettings.from_dsn(settings.redis.url),
            "functions": [func(ping, keep_result=60), func(outbox_nudge, keep_result=0), outbox_retention],
            "cron_jobs": [
                cron(outbox_sweep, second=set(range(60)), unique=True, keep_result=0),
                cron(outbox_retention, hour={3}, minute={17}, second={0}, unique=True, timeout=3600),
                cron(hall_daily, minute={1, 16, 31, 46}, second={0}, unique=True, timeout=1800),
            ],
            "on_startup": on_startup,
            "on_shutdown": on_shutdown,
            "handle_signals": True,
            "max_jobs": 50,
            "job_timeout": 60,
            "keep_result": 0,
            "poll_delay": settings.outbox.poll_seconds,
            "health_check_interval": 10,
        },
    )
