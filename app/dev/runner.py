"""``rollcall dev``: backing services, migrations, demo data, the API and one worker, until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.engine import make_url

from app.club.contracts import contract_link
from app.club.demo import load_demo_data
from app.config import Settings, SettingsError
from app.core.db import alchemy_config, alembic_commands
from app.dev.embedded import backing_services
from app.dev.keys import ensure_dev_key
from app.dev.mail_sink import MailSink
from app.hall.demo import load_hall_demo

__all__ = ["run_dev"]

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2
"""How often the foreground loop looks at its children (and, at start, at readiness)."""


def run_dev(*, port: int, data_dir: Path) -> int:
    """Run the dev stack in the foreground; returns the exit status."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = _StopFlag()
    with backing_services(
        data_dir,
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
    ) as services:
        env = {
            **os.environ,
            "ROLLCALL_ENV": "dev",
            "DATABASE_URL": services.database_url,
            "REDIS_URL": services.redis_url,
            "PORT": str(port),
            "DATA_DIR": str(data_dir),
        }
        try:
            settings = Settings.from_env(env)
        except SettingsError as error:
            print(f"rollcall: invalid setting {error}", file=sys.stderr)
            return 2
        key = ensure_dev_key(data_dir)
        alembic_commands(settings.database).upgrade()
        offer_token = asyncio.run(_load_demo_data(settings))
        # Mail goes to a local sink unless SMTP_HOST names a real server (compose: Mailpit).
        sink = None if os.environ.get("SMTP_HOST") else MailSink(data_dir / "mail").start()
        if sink is not None:
            env.update({"SMTP_HOST": sink.host, "SMTP_PORT": str(sink.port), "SMTP_TLS": "none"})
            settings = Settings.from_env(env)
        children = [
            _spawn("api", ["serve", "--host", "127.0.0.1", "--port", str(port)], env),
            _spawn("worker", ["worker"], env),
        ]
        try:
            base_url = f"http://127.0.0.1:{port}"
            if not _wait_until_ready(base_url, children, stop):
                return 0 if stop.requested else 1
            token = key.mint(
                tenant="demo-club",
                roles=["admin"],
                sub="dev-admin",
                email="admin@demo-club.localhost",
                ttl_seconds=8 * 3600,
                tenant_claim=settings.auth.tenant_claim,
                issuer=settings.auth.issuer,
                audience=settings.auth.audience,
            )
            _print_banner(base_url, settings, services.embedded, token, offer_token, sink)
            while not stop.requested:
                if _a_child_exited(children):
                    return 1
                time.sleep(POLL_SECONDS)
            return 0
        finally:
            _stop_children(children)
            if sink is not None:
                sink.stop()


async def _load_demo_data(settings: Settings) -> str | None:
    """Demo tenants, the club's roster and the hall's books; the token of the demo club's open offer."""
    config = alchemy_config(settings.database)
    try:
        async with config.get_session() as session:
            token = await load_demo_data(session)
            await load_hall_demo(session)
            return token
    finally:
        await config.get_engine().dispose()


class _StopFlag:
    """Set by SIGINT or SIGTERM; the foreground loop then stops every child."""

    def __init__(self) -> None:
        self.requested = False
        signal.signal(signal.SIGINT, self._request)
        signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def _spawn(name: str, arguments: list[str], env: dict[str, str]) -> tuple[str, subprocess.Popen[bytes]]:
    return name, subprocess.Popen([sys.executable, "-m", "app", *arguments], env=env)  # noqa: S603 (our own CLI)


def _a_child_exited(children: list[tuple[str, subprocess.Popen[bytes]]]) -> bool:
    """True (and said on stderr) when the API or the worker has stopped on its own."""
    for name, child in children:
        if child.poll() is not None:
            print(f"rollcall dev: {name} exited with status {child.returncode}", file=sys.stderr)
            return True
    return False


def _wait_until_ready(base_url: str, children: list[tuple[str, subprocess.Popen[bytes]]], stop: _StopFlag) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not stop.requested:
        if _a_child_exited(children):
            return False
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(POLL_SECONDS)
    if not stop.requested:
        print(f"rollcall dev: the API did not become ready within {READY_TIMEOUT_SECONDS:.0f}s", file=sys.stderr)
    return False


def _stop_children(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for _, child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _print_banner(
    base_url: str,
    settings: Settings,
    embedded: tuple[str, ...],
    token: str,
    offer_token: str | None,
    sink: MailSink | None,
) -> None:
    database = make_url(settings.database.url).render_as_string(hide_password=True)
    lines = [
        "",
        "rollcall dev is up (Ctrl-C stops everything)",
        f"  API          {base_url}",
        f"  OpenAPI UI   {base_url}/schema   (Swagger UI, served by the API itself)",
        f"  OpenAPI JSON {base_url}/schema/openapi.json",
        f"  Health       {base_url}/health/ready",
        f"  PostgreSQL   {database}{' (embedded)' if 'postgresql' in embedded else ''}",
        f"  Redis        {_without_password(settings.redis.url)}{' (embedded)' if 'redis' in embedded else ''}",
        f"  Metrics      {base_url}/metrics   (worker: http://127.0.0.1:{settings.metrics.worker_port}/metrics)"
        if settings.metrics.worker_port
        else f"  Metrics      {base_url}/metrics",
        f"  Mail         smtp://{settings.smtp.host}:{settings.smtp.port}"
        + (f"   (local sink: every message is kept in {sink.directory}/)" if sink is not None else ""),
        "  Tenants      demo-club (club), demo-hall (hall)",
        f"  Signing link {contract_link(settings.server.contract_link_url, offer_token)}   (demo-club's open offer)"
        if offer_token
        else "  Signing link (none open: offer one with POST /api/v1/admin/contracts/offer)",
        "",
        "Admin token for demo-club, valid 8 hours (paste it into the UI's bearer field;",
        "more with: rollcall dev-token --tenant demo-hall --role admin):",
        token,
        "",
    ]
    print("\n".join(lines), flush=True)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
