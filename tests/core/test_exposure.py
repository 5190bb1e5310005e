"""What a deployment leaves open by default: warnings at start-up, loopback binds, compose's published ports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings
from tests.conftest import REPO

LINK = "/api/v1/contracts/no-such-token"


def warnings_logged(captured: str) -> dict[str, dict[str, Any]]:
    """The JSON log lines at level warning, by event (each event at most once)."""
    found: dict[str, dict[str, Any]] = {}
    for line in captured.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("level") == "warning":
                assert record["event"] not in found, f"logged twice: {record['event']}"
                found[record["event"]] = record
    return found


async def start(env: dict[str, str], capsys: pytest.CaptureFixture[str], **overrides: str) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    async with AsyncTestClient(app=create_app(Settings.from_env({**env, **overrides}))) as client:
        assert (await client.get("/health/live")).status_code == 200
    return warnings_logged(capsys.readouterr().err)


async def test_production_without_a_metrics_token_warns_at_start_up(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    warning = (await start(env, capsys))["metrics_unprotected"]
    assert "METRICS_TOKEN" in warning["detail"]
    assert "metrics_unprotected" not in await start(env, capsys, METRICS_TOKEN="s3cret-scrape-token")


async def test_production_without_trusted_proxies_warns_that_the_limit_keys_on_the_peer(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    warning = (await start(env, capsys))["client_ip_is_the_peer"]
    assert "TRUSTED_PROXIES" in warning["detail"]
    assert "every parent shares one rate limit bucket" in warning["detail"]
    assert "client_ip_is_the_peer" not in await start(env, capsys, TRUSTED_PROXIES="10.0.0.0/8")
    assert "client_ip_is_the_peer" not in await start(env, capsys, PUBLIC_RATE_LIMIT="0")


async def test_dev_mode_does_not_warn_about_exposure(
    database_url: str, redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ROLLCALL_ENV": "dev", "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)}
    warnings = await start(env, capsys, LOG_FORMAT="json")
    assert not {"metrics_unprotected", "client_ip_is_the_peer"} & set(warnings)


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9;proto=https")],
)
async def test_a_forwarded_request_from_an_untrusted_peer_warns_once(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], header: str, value: str
) -> None:
    async with AsyncTestClient(app=create_app(Settings.from_env(env))) as client:
        capsys.readouterr()
        assert (await client.get(LINK)).status_code == 404
        assert "forwarded_header_ignored" not in warnings_logged(capsys.readouterr().err)
        for _ in range(3):
            assert (await client.get(LINK, headers={header: value})).status_code == 404
        warning = warnings_logged(capsys.readouterr().err)["forwarded_header_ignored"]
    assert warning["peer"] == "testclient"
    assert "TRUSTED_PROXIES" in warning["detail"]


def test_worker_metrics_listen_on_loopback_unless_told_otherwise(env: dict[str, str]) -> None:
    assert Settings.from_env(env).metrics.worker_host == "127.0.0.1"
    assert Settings.from_env({**env, "WORKER_METRICS_HOST": "0.0.0.0"}).metrics.worker_host == "0.0.0.0"


def test_compose_publishes_mailpit_on_loopback_only_and_worker_metrics_stay_in_the_network() -> None:
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    mailpit = services["mailpit"]["ports"]
    assert mailpit
    assert all(str(port).startswith("127.0.0.1:") for port in mailpit), mailpit
    worker = services["worker"]
    assert "ports" not in worker
    assert worker["environment"]["WORKER_METRICS_HOST"] == "0.0.0.0"  # reachable by a scraper on the network only
