"""What the benchmarks share: servers, a scratch database, worker processes, an API process run as in
production with an issuer of its own, the ``rollcall`` command, wrk, percentiles, the result line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
import redis
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy.engine import make_url

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from app.dev.embedded import backing_services, redis_database

REPO = Path(__file__).resolve().parents[1]
BENCH_REDIS_DB = 12
ISSUER = "https://id.bench.example/realms/rollcall"
AUDIENCE = "rollcall-api"
WRK_THREADS = 2
_WRK_RESULT = re.compile(r"^RESULT (.*)$", re.MULTILINE)


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


def asyncpg_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+asyncpg://…``) as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _on_server(server_url: str, *statements: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(asyncpg_url(server_url))
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


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank ``fraction`` percentile (0.99 for p99) of ``values`` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- an API process as an operator runs it in production ---------------------------------------------------


class Issuer:
    """The identity provider in miniature: an RS256 key (Keycloak's default algorithm) whose public half
    goes in the API's ``AUTH_JWKS_FILE``, and the access tokens it signs."""

    KID = "bench"

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def write_jwks(self, path: Path) -> Path:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        path.write_text(json.dumps({"keys": [{**jwk, "kid": self.KID, "alg": "RS256", "use": "sig"}]}))
        return path

    def token(self, *, tenant: str, roles: Sequence[str], sub: str = "bench-staff", lifetime: int = 6 * 3600) -> str:
        """An access token as Keycloak issues it (``typ`` Bearer, realm roles, the tenant claim) that stays
        valid for ``lifetime`` seconds, longer than any run."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "typ": "Bearer",
            "iat": now,
            "exp": now + lifetime,
            "realm_access": {"roles": list(roles)},
            "tenant": tenant,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.KID})


def production_env(database_url: str, redis_url: str, data_dir: Path, issuer: Issuer | None = None) -> dict[str, str]:
    """What an operator sets for a production deployment behind a proxy; every tuning knob keeps its default.

    The variables here have no default in production (issuer, keys, public URL) or describe the
    deployment (the proxy in front of the API is 127.0.0.1: wrk, which writes each parent's address in
    X-Forwarded-For). Pool sizes, rate limit, log level and format are left to their defaults. The keys are
    ``issuer``'s (a fresh one when none is given: a benchmark that calls no authenticated route).
    """
    tuning = ("DB_", "PUBLIC_RATE_LIMIT", "LOG_", "OUTBOX_", "ROLLCALL_ENV", "WEB_CONCURRENCY")
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(tuning)}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "PUBLIC_BASE_URL": "https://club.bench.example",
        "AUTH_ISSUER": ISSUER,
        "AUTH_AUDIENCE": AUDIENCE,
        "AUTH_JWKS_FILE": str((issuer or Issuer()).write_jwks(data_dir / "jwks.json")),
        "TRUSTED_PROXIES": "127.0.0.1",
        "METRICS_TOKEN": "bench-metrics-token",
    }


def free_port() -> int:
    """A TCP port nothing listens on now (benchmarks of other worktrees may run at the same time)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # poll interval while the server starts; the loop ends on its answer or the timeout
    raise SystemExit(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def api_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """One ``rollcall serve`` process (``python -m app serve``, one worker) with ``env`` on a free port; yields
    its base URL once ``/health/ready`` answers and stops it afterwards. Its log goes to ``log_path``, and the
    log's tail to stderr when the block fails."""
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(f"{base}/health/ready", process)
            yield base
        except BaseException:
            log.flush()
            sys.stderr.write(log_path.read_text()[-3000:])
            raise
        finally:
            stop(process)


def rollcall(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """``rollcall ARGUMENTS`` (``python -m app``) run as an operator runs it, with ``env``; the output is
    captured and the exit status left to the caller."""
    return subprocess.run(
        [sys.executable, "-m", "app", *arguments], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(
    base: str,
    script: Path,
    *,
    seconds: int,
    connections: int,
    script_args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run wrk with a Lua script whose ``done`` prints ``RESULT name=value ...`` (rps, p50_ms, p99_ms, non2xx,
    errors and whatever else it counts); the figures as numbers."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base, "--"]
    environment = {**os.environ, "WRK_THREADS": str(WRK_THREADS), **(env or {})}
    output = subprocess.run([*command, *script_args], env=environment, capture_output=True, text=True, check=True)
    match = _WRK_RESULT.search(output.stdout)
    if match is None:
        raise SystemExit(f"wrk printed no result:\n{output.stdout}{output.stderr}")
    figures: dict[str, Any] = {}
    for pair in match.group(1).split():
        name, _, value = pair.partition("=")
        figures[name] = float(value) if "." in value else int(value)
    return figures


def flush_redis(redis_url: str) -> None:
    """The benchmarks' own Redis database emptied (rate limit windows, queued nudges)."""
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


class HttpError(Exception):
    """The connection failed or the answer was not HTTP/1.1 as this client reads it."""


class KeepAliveClient:
    """A minimal HTTP/1.1 client over ``connections`` kept-alive sockets, for timed phases.

    A general client (httpx) costs about 2 ms of CPU a call, on the same two cores as the server: with it a
    benchmark measures its own client as much as the API. This one writes the request and reads the status,
    the headers and a ``Content-Length`` (or chunked) body, nothing more: a few tens of microseconds a call.
    Each call takes a connection from the pool and gives it back; a broken one is reopened."""

    def __init__(self, base: str, connections: int) -> None:
        scheme, _, rest = base.partition("://")
        if scheme != "http":
            raise ValueError("plain http only")
        self.host, _, port = rest.partition(":")
        self.port = int(port or 80)
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(connections):
            self.pool.put_nowait(None)  # opened on first use

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        """One exchange. A kept-alive connection the server closed while idle (uvicorn closes them after 5 s) is
        reopened and the request sent again, once."""
        connection = await self.pool.get()
        try:
            for attempt in (1, 2):
                reused = connection is not None
                if connection is None:
                    connection = await asyncio.open_connection(self.host, self.port)
                reader, writer = connection
                lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
                lines += [f"{name}: {value}" for name, value in headers.items()]
                try:
                    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                    status, answer, keep = await self._read(reader)
                except ConnectionError:
                    writer.close()
                    connection = None
                    if reused and attempt == 1:
                        continue
                    raise
                if not keep:
                    writer.close()
                    connection = None
                return status, answer
            raise ConnectionError("unreachable")  # pragma: no cover
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            if connection is not None:
                connection[1].close()
            connection = None
            raise HttpError(f"{method} {path}: {error!r}") from error
        finally:
            self.pool.put_nowait(connection)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP answer: {status_line[:80]!r}")
        headers: dict[bytes, bytes] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            chunks = []
            while (size := int((await reader.readline()).split(b";")[0], 16)) > 0:
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
        return int(parts[1]), body, headers.get(b"connection", b"").lower() != b"close"

    async def aclose(self) -> None:
        while not self.pool.empty():
            connection = self.pool.get_nowait()
            if connection is not None:
                connection[1].close()
