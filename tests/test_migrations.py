"""The schema comes only from the migrations, and they match the models both ways."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
from sqlalchemy.engine import make_url

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from tests.conftest import create_database, drop_database


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    # `alembic check` compares the migrated test database with the models' metadata.
    commands = alembic_commands(DatabaseSettings(url=database_url, pool_size=0))
    await asyncio.to_thread(commands.check)


async def test_every_migration_downgrades_and_upgrades_again(servers: tuple[str, str]) -> None:
    name = f"rollcall_roundtrip_{secrets.token_hex(4)}"
    url = await create_database(servers[0], name)
    try:
        commands = alembic_commands(DatabaseSettings(url=url, pool_size=0))
        await asyncio.to_thread(commands.upgrade)
        dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        assert await _tables(dsn) >= {"tenants", "outbox_events", "players", "contract_audit_log", "alembic_version"}
        await asyncio.to_thread(commands.downgrade, "base")
        assert await _tables(dsn) == {"alembic_version"}
        await asyncio.to_thread(commands.upgrade)
        assert "tenants" in await _tables(dsn)
    finally:
        await drop_database(servers[0], name)


async def _tables(dsn: str) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}
