"""Database wiring: advanced-alchemy's config, the Alembic commands, the session for jobs."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.alembic.commands import AlembicCommands
from advanced_alchemy.extensions.litestar import (
    AlembicAsyncConfig,
    AsyncSessionConfig,
    EngineConfig,
    SQLAlchemyAsyncConfig,
)
from sqlalchemy.pool import NullPool

from app.config import DatabaseSettings
from app.outbox.emit import NUDGER_KEY, Nudger

__all__ = ["MIGRATIONS_DIR", "alchemy_config", "alembic_commands"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
VERSION_TABLE = "alembic_version"


def alchemy_config(settings: DatabaseSettings, *, nudger: Nudger | None = None) -> SQLAlchemyAsyncConfig:
    """advanced-alchemy's config for the app, the workers and the migrations.

    Sessions never autocommit: a service commits explicitly so that a failed
    commit surfaces as an error response instead of a silent 2xx. With a
    ``nudger``, a commit that carried outbox events nudges the workers.
    """
    if settings.pool_size == 0:
        engine_config = EngineConfig(poolclass=NullPool)
    else:
        engine_config = EngineConfig(
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_recycle=1800,
        )
    return SQLAlchemyAsyncConfig(
        connection_string=settings.url,
        engine_config=engine_config,
        session_config=AsyncSessionConfig(
            expire_on_commit=False, info={NUDGER_KEY: nudger} if nudger is not None else None
        ),
        alembic_config=AlembicAsyncConfig(
            script_location=str(MIGRATIONS_DIR),
            version_table_name=VERSION_TABLE,
            compare_type=True,
        ),
        create_all=False,
    )


def alembic_commands(settings: DatabaseSettings) -> AlembicCommands:
    """Alembic bound to our migrations directory and database (synchronous: call outside an event loop)."""
    import app.models  # noqa: F401  (registers every table on the metadata the migrations compare against)

    return AlembicCommands(sqlalchemy_config=alchemy_config(settings))
