"""The connection pool's defaults hold under load: a busy API process reuses its connections.

`rollcall serve` runs as an operator runs it, with the default pool settings; PostgreSQL's own session
counter (``pg_stat_database.sessions``) says how many connections the process opened.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from app.config import DatabaseSettings
from app.core.db import alchemy_config, native_connection
from tests.processes import free_port, rollcall_process, wait_until_ready

CLIENTS = 40
REQUESTS = 600


async def sessions_opened(database_url: str) -> int:
    """Connections ever opened to this database (counted when a backend reports its statistics)."""
    url = make_url(database_url)
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        value = await connection.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", url.database)
    finally:
        await connection.close()
    return int(value)


async def load(base: str) -> list[int]:
    """REQUESTS public lookups (each one a database query) from CLIENTS concurrent clients."""
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(REQUESTS):
            queue.put_nowait(number)
        statuses: list[int] = []

        async def one_client() -> None:
            while not queue.empty():
                number = queue.get_nowait()
                statuses.append((await client.get(f"/api/v1/contracts/no-such-token-{number}")).status_code)

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return statuses


@pytest.mark.usefixtures("tenants")
async def test_a_busy_process_with_default_pool_settings_reuses_its_connections(
    env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    serve_env = {key: value for key, value in env.items() if not key.startswith("DB_")}
    serve_env["PUBLIC_RATE_LIMIT"] = "0"  # one test client sends everything
    base = f"http://127.0.0.1:{port}"
    arguments = ("serve", "--host", "127.0.0.1", "--port", str(port))
    with rollcall_process(*arguments, env=serve_env, log=tmp_path / "api.log") as api:
        await asyncio.to_thread(wait_until_ready, base, api)
        before = await sessions_opened(env["DATABASE_URL"])
        statuses = await load(base)
        after = await sessions_opened(env["DATABASE_URL"])

    assert statuses.count(404) == REQUESTS, sorted(set(statuses))
    opened = after - before
    # At most the pool itself (connections opened for the burst, kept open) plus this test's own two.
    assert opened <= DatabaseSettings(url="").pool_size + 2, f"{opened} connections opened for {REQUESTS} requests"


async def test_a_native_connection_that_broke_is_not_handed_out_again(database_url: str) -> None:
    engine = alchemy_config(DatabaseSettings(url=database_url, pool_size=1, max_overflow=0)).get_engine()
    try:
        async with native_connection(engine) as driver:
            first_pid = driver.get_server_pid()
            await driver.fetchval("SELECT 1")
        async with native_connection(engine) as driver:
            assert driver.get_server_pid() == first_pid  # the pool's one connection, reused
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
                await driver.fetchval("SELECT pg_terminate_backend(pg_backend_pid())")
        async with native_connection(engine) as driver:
            assert driver.get_server_pid() != first_pid
            assert await driver.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()
