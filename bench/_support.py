"""What the outbox benchmarks share: servers, a scratch database, worker processes, the result line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from app.dev.embedded import backing_services, redis_database

REPO = Path(__file__).resolve().parents[1]
BENCH_REDIS_DB = 12


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """PostgreSQL and Redis URLs from the environment, or embedded servers under .rollcall/bench."""
    with backing_services(
        REPO / ".rollcall" / "bench",
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        database="postgres",
    ) as found:
        yield found.database_url, redis_database(found.redis_url, BENCH_REDIS_DB)


def _on_server(server_url: str, *statements: str) -> None:
    async def run() -> None:
        admin = make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(admin)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def scratch_database(server_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server, migrate it, return its URL. Never touches other databases."""
    _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
    alembic_commands(DatabaseSettings(url=url, pool_size=0)).upgrade()
    return url


def drop_database(server_url: str, name: str) -> None:
    _on_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def worker_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ROLLCALL_ENV": "dev",
        "DATA_DIR": tempfile.mkdtemp(prefix="rollcall-bench-"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WORKER_METRICS_PORT": "0",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "OUTBOX_HANDLER_MODULES": "bench.probes",
        "PYTHONPATH": str(REPO),
        **extra,
    }


class Worker:
    """One ``rollcall worker`` process; ``ready`` is set once its relay has started."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.ready = threading.Event()
        self.errors: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        if env is not None:
            self.start(env)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read_logs, args=(self.process,), daemon=True).start()

    def _read_logs(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if '"outbox_relay_started"' in line:
                self.ready.set()
            elif '"level": "error"' in line or "Traceback" in line:
                self.errors.append(line.strip())

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_ready(self, timeout: float = 60) -> None:
        if not self.ready.wait(timeout):
            raise RuntimeError(f"worker did not start: {self.errors[-3:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_workers(count: int, env: dict[str, str]) -> list[Worker]:
    workers = [Worker(env) for _ in range(count)]
    for worker in workers:
        worker.wait_ready()
    return workers


def report(result: dict[str, Any]) -> None:
    """The benchmark's one JSON line (always the last line printed)."""
    print(json.dumps(result), flush=True)


def elapsed_since(start: float) -> float:
    return round(time.perf_counter() - start, 3)
