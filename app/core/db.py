"""Database wiring: advanced-alchemy's config, the Alembic commands, the session for jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from advanced_alchemy.alembic.commands import AlembicCommands
from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool
from sqlalchemy.util import greenlet_spawn

from app.config import DatabaseSettings

__all__ = ["MIGRATIONS_DIR", "alchemy_config", "alembic_commands", "engine_of", "native_connection"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
VERSION_TABLE = "alembic_version"


def alchemy_config(
    settings: DatabaseSettings, *, session_info: Mapping[str, Any] | None = None
) -> SQLAlchemyAsyncConfig:
    """advanced-alchemy's config for the app, the workers and the migrations.

    Sessions never autocommit: a service commits explicitly so that a failed
    commit surfaces as an error response instead of a silent 2xx. With a
    ``session_info`` every session carries it (the outbox's nudger rides there:
    ``app.outbox.emit.nudging(nudger)``, so a commit that carried events nudges the workers).
    SQL parameters (signing tokens, emails, names) never appear in error
    messages or SQL logs, so none reaches a log line or an outbox ``last_error``.
    """
    # hide_parameters: errors are logged with their trace, and a statement's values (a tenant's GroupMe token,
    # contract tokens, emails) must never ride along in the message.
    if settings.pool_size == 0:
        engine_config = EngineConfig(poolclass=NullPool, hide_parameters=True)
    else:
        engine_config = EngineConfig(
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout_seconds,
            pool_recycle=1800,
            hide_parameters=True,
        )
    return SQLAlchemyAsyncConfig(
        connection_string=settings.url,
        engine_config=engine_config,
        session_config=AsyncSessionConfig(
            expire_on_commit=False, info=dict(session_info) if session_info is not None else None
        ),
        alembic_config=AlembicAsyncConfig(
            script_location=str(MIGRATIONS_DIR),
            version_table_name=VERSION_TABLE,
            compare_type=True,
        ),
        create_all=False,
        # Every error is problem+json (app.core.errors), repository errors included.
        set_default_exception_handler=False,
    )


def alembic_commands(settings: DatabaseSettings) -> AlembicCommands:
    """Alembic bound to our migrations directory and database (synchronous: call outside an event loop).
    The migrations' env imports every model, so ``check`` compares against the whole schema."""
    return AlembicCommands(sqlalchemy_config=alchemy_config(settings))


@asynccontextmanager
async def native_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection[Any]]:
    """An asyncpg connection checked out of ``engine``'s pool, for the few hot paths that run native statements.

    The pool's own checkout and checkin, without SQLAlchemy's ``Connection`` around it (half the cost per
    request on the sign path). Nothing begins a transaction on it, so each statement runs in autocommit;
    it goes back to the pool (pool timeouts and sizing as configured) when the block ends, or is discarded
    if it broke.
    """
    raw = await engine.raw_connection()
    driver = raw.driver_connection
    try:
        if not isinstance(driver, asyncpg.Connection):
            raise TypeError(f"expected an asyncpg connection, got {type(driver).__name__}")
        yield driver
    finally:
        # A connection that broke (server gone, cut off) is discarded instead of handed to the next request.
        broken = isinstance(driver, asyncpg.Connection) and driver.is_closed()
        await greenlet_spawn(raw.invalidate if broken else raw.close)


def engine_of(session: AsyncSession) -> AsyncEngine:
    """The engine ``session`` was made for (a native statement on its pool, beside the session)."""
    if not isinstance(session.bind, AsyncEngine):
        raise TypeError("the session is not bound to an AsyncEngine")
    return session.bind
