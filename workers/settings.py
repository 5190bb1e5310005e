"""The arq ``WorkerSettings`` and the worker's lifecycle hooks."""

from __future__ import annotations

from typing import Any

from arq import func
from arq.connections import RedisSettings

from app.config import Settings
from app.core.db import alchemy_config
from app.core.logging import configure_logging
from workers.jobs import ping

__all__ = ["worker_settings"]


def worker_settings(settings: Settings) -> type:
    """A declarative arq ``WorkerSettings`` class bound to ``settings``."""
    db = alchemy_config(settings.database)

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(settings.log)
        ctx["settings"] = settings
        ctx["session_maker"] = db.create_session_maker()

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await db.get_engine().dispose()

    return type(
        "WorkerSettings",
        (),
        {
            "redis_settings": RedisSettings.from_dsn(settings.redis.url),
            "functions": [func(ping, keep_result=60)],
            "on_startup": on_startup,
            "on_shutdown": on_shutdown,
            "handle_signals": True,
            "max_jobs": 50,
            "job_timeout": 60,
            "keep_result": 0,
            "health_check_interval": 10,
        },
    )
