"""``rollcall dev`` end to end: what a newcomer sees after ``make dev``."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import redis
import redis.asyncio

from app.dev.embedded import redis_database
from tests.conftest import create_database, drop_database
from tests.processes import free_port
from tests.waiting import wait_for_sync


def start_dev(port: int, data_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "dev.stderr").open("a") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "app", "dev", "--port", str(port), "--data-dir", str(data_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )


def read_banner(process: subprocess.Popen[str], timeout: float = 90) -> tuple[str, str]:
    """The dev banner shows the demo signing link and ends with the admin token: (token, link)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    previous = ""
    link = ""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            said = Path(process.args[-1], "dev.stderr").read_text()[-3000:]  # type: ignore[index]
            raise AssertionError(f"rollcall dev exited ({process.wait()}) before printing its banner:\n{said}")
        if line.strip().startswith("Signing link "):
            link = line.split()[2]
        if previous.startswith("more with: rollcall dev-token"):
            return line.strip(), link
        previous = line.strip()
    raise AssertionError("no banner")


def exercise(base: str, token: str, signing_link: str, data_dir: Path, *, sign: bool) -> None:
    assert httpx.get(f"{base}/health/ready").status_code == 200
    assert httpx.get(f"{base}/schema").status_code == 200
    assert httpx.get(f"{base}/schema/openapi.json").json()["info"]["title"] == "rollcall API"
    current = httpx.get(f"{base}/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {token}"})
    assert current.status_code == 200
    assert current.json()["slug"] == "demo-club"
    anonymous = httpx.get(f"{base}/api/v1/admin/tenants/current")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["tenant"] = "demo-hall"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = httpx.get(
        f"{base}/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {header}.{forged}.{signature}"}
    )
    assert tampered.status_code == 401
    if sign:  # the demo's one open offer; once signed, later sessions have none
        assert signing_link.startswith(f"{base}/sign/")  # the signing page, which calls the contract API
        page = httpx.get(signing_link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        api_link = signing_link.replace("/sign/", "/api/v1/contracts/")
        assert httpx.get(api_link).json()["player_name"] == "Avery Okafor"
        sign_and_see_the_welcome_in_the_mail_sink(api_link, data_dir / "mail")


def sign_and_see_the_welcome_in_the_mail_sink(signing_link: str, mail_dir: Path) -> None:
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    body = {"signed_by": "Dana", "signature_png": pixel, "contract_version": "2026-1", "accept_terms": True}
    assert httpx.post(f"{signing_link}/sign", json=body).status_code == 200
    mails = wait_for_sync(
        lambda: sorted(mail_dir.glob("*.eml")), within=30, what="the welcome email in rollcall dev's mail sink"
    )
    assert len(mails) == 1, "rollcall dev's mail sink got no welcome email"
    content = mails[0].read_text()
    assert "Subject: Welcome to" in content
    assert "https://groupme.com/join_group/demo/kings" in content


def stop_and_check_children(process: subprocess.Popen[str]) -> None:
    children = psutil.Process(process.pid).children(recursive=True)
    assert len(children) >= 2  # the API and the worker
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, alive


def run_dev_session(data_dir: Path, env: dict[str, str], *, sign: bool = True) -> None:
    """Start ``rollcall dev``, use it as a newcomer would, stop it with SIGTERM."""
    port = free_port()
    process = start_dev(port, data_dir, env)
    try:
        token, signing_link = read_banner(process)
        exercise(f"http://127.0.0.1:{port}", token, signing_link, data_dir, sign=sign)
        stop_and_check_children(process)
    finally:
        if process.poll() is None:
            process.kill()


async def test_dev_with_given_servers(servers: tuple[str, str], redis_url: str, tmp_path: Path) -> None:
    name = f"rollcall_dev_{secrets.token_hex(4)}"
    database_url = await create_database(servers[0], name)
    try:
        run_dev_session(tmp_path, {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url})
    finally:
        await drop_database(servers[0], name)


def test_dev_on_a_bare_machine_starts_embedded_servers_and_reuses_them(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    run_dev_session(tmp_path, env)
    pg_version = (tmp_path / "postgres" / "PG_VERSION").stat().st_mtime
    run_dev_session(tmp_path, env, sign=False)
    assert (tmp_path / "postgres" / "PG_VERSION").stat().st_mtime == pg_version  # the data was reused


def test_another_redis_database_on_the_same_server_is_a_url_both_redis_clients_take() -> None:
    """The embedded Redis listens on a unix socket: its URL keeps ``unix://``, which the sync client insists on."""
    for url, expected in (
        ("unix:///srv/rollcall/redis.socket", {"path": "/srv/rollcall/redis.socket", "db": 3}),
        ("unix:///srv/rollcall/redis.socket?db=13", {"path": "/srv/rollcall/redis.socket", "db": 3}),
        ("redis://127.0.0.1:6379/0", {"host": "127.0.0.1", "port": 6379, "db": 3}),
    ):
        moved = redis_database(url, 3)
        for client in (redis.Redis.from_url(moved), redis.asyncio.Redis.from_url(moved)):
            kwargs = client.connection_pool.connection_kwargs
            assert {key: kwargs[key] for key in expected} == expected, moved
