"""The ``rollcall`` command as operators run it: tokens, migrations, tenants, serve, worker."""

from __future__ import annotations

import json
import secrets
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import jwt
import pytest

from app.core.auth.tokens import DEV_KID_PREFIX
from app.core.db import MIGRATIONS_DIR
from tests.conftest import create_database, drop_database
from tests.processes import free_port, rollcall, rollcall_process, wait_until_ready


@pytest.fixture
async def scratch_database(servers: tuple[str, str]) -> AsyncIterator[str]:
    """An empty database, for commands that migrate."""
    name = f"rollcall_cli_{secrets.token_hex(4)}"
    yield await create_database(servers[0], name)
    await drop_database(servers[0], name)


def test_dev_token_prints_a_verifiable_token_last(tmp_path: Path) -> None:
    result = rollcall(
        "dev-token",
        "--tenant",
        "demo-hall",
        "--role",
        "admin",
        "--role",
        "dispatcher",
        "--ttl",
        "90",
        "--sub",
        "u-7",
        "--data-dir",
        str(tmp_path),
        env={},
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    jwks = json.loads((tmp_path / "dev-keys" / "jwks.json").read_text())
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="rollcall", issuer="rollcall-dev")
    assert claims["tenant"] == "demo-hall"
    assert claims["realm_access"]["roles"] == ["admin", "dispatcher"]
    assert claims["sub"] == "u-7"
    assert claims["exp"] - claims["iat"] == 90
    assert jwt.get_unverified_header(token)["kid"].startswith(DEV_KID_PREFIX)
    assert oct((tmp_path / "dev-keys" / "signing-key.pem").stat().st_mode)[-3:] == "600"

    again = rollcall("dev-token", "--tenant", "demo-club", "--data-dir", str(tmp_path), env={"AUTH_AUDIENCE": "spa"})
    second = again.stdout.strip().splitlines()[-1]
    assert jwt.get_unverified_header(second)["kid"] == jwt.get_unverified_header(token)["kid"]
    assert jwt.decode(second, key.key, algorithms=["ES256"], audience="spa")["tenant"] == "demo-club"


def test_db_commands_migrate_report_and_undo(scratch_database: str) -> None:
    env = {"DATABASE_URL": scratch_database}
    assert rollcall("db", "upgrade", env=env).returncode == 0
    head = max(path.name[:4] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert f"Rev: {head} (head)" in rollcall("db", "current", env=env).stdout
    check = rollcall("db", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert "0001" in rollcall("db", "history", env=env).stdout
    assert rollcall("db", "downgrade", env=env).returncode == 0  # one step
    assert f"Rev: {head} (head)" not in rollcall("db", "current", env=env).stdout
    assert rollcall("db", "downgrade", "--revision", "base", env=env).returncode == 0
    assert "Rev:" not in rollcall("db", "current", env=env).stdout


def test_db_upgrade_sql_prints_the_ddl(scratch_database: str) -> None:
    result = rollcall("db", "upgrade", "--sql", env={"DATABASE_URL": scratch_database})
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE tenants" in result.stdout


def test_a_missing_database_url_is_one_clear_line() -> None:
    result = rollcall("db", "upgrade", env={"DATABASE_URL": ""})
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: invalid setting DATABASE_URL: required but not set"


def test_tenants_and_demo_data_commands(scratch_database: str) -> None:
    env = {"DATABASE_URL": scratch_database}
    assert rollcall("db", "upgrade", env=env).returncode == 0
    created = rollcall("tenants", "create", "--slug", "local-42", "--name", "IBEW Local 42", "--kind", "hall", env=env)
    assert created.returncode == 0, created.stderr
    assert rollcall("demo-data", env=env).returncode == 0
    assert rollcall("demo-data", env=env).returncode == 0
    listing = rollcall("tenants", "list", env=env).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listing] == [
        ["demo-club", "club"],
        ["demo-hall", "hall"],
        ["local-42", "hall"],
    ]


def test_a_worker_answers_a_ping_and_stops_on_sigterm(env: dict[str, str]) -> None:
    with rollcall_process("worker", env=env) as worker:
        answer = rollcall("worker-ping", "--timeout", "20", env={"REDIS_URL": env["REDIS_URL"]})
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.startswith("pong from ")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0


def test_worker_ping_without_workers_says_so(env: dict[str, str]) -> None:
    answer = rollcall("worker-ping", "--timeout", "1", env={"REDIS_URL": env["REDIS_URL"]})
    assert answer.returncode == 1
    assert "no worker answered within 1s" in answer.stderr


@pytest.mark.usefixtures("tenants")
def test_serve_runs_the_production_api(env: dict[str, str], mint: Callable[..., str]) -> None:
    port = free_port()
    with rollcall_process("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2", env=env) as api:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, api)
        response = httpx.get(
            f"{base}/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {mint(roles=['admin'])}"}
        )
        assert response.status_code == 200
        assert response.json()["slug"] == "demo-club"
        metrics = httpx.get(f"{base}/metrics")  # two processes: the multiprocess registry adds them up
        assert metrics.status_code == 200
        assert "rollcall_requests_total" in metrics.text
        api.send_signal(signal.SIGTERM)
        assert api.wait(timeout=30) == 0
        logs = api.stderr.read() if api.stderr else ""
    request_lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"request"' in line]
    assert any(line["path"] == "/api/v1/admin/tenants/current" and line["status"] == 200 for line in request_lines)
