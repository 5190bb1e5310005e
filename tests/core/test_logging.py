"""One JSON log line per request (method, route template, status, duration, request id); ids echoed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings

Client = AsyncTestClient[Litestar]


def request_lines(captured: str) -> list[dict[str, object]]:
    lines = []
    for line in captured.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "request":
                lines.append(record)
    return lines


async def test_a_request_id_is_generated_echoed_and_logged(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    response = await client.get("/health/live")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    [line] = request_lines(capsys.readouterr().err)
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"], line["level"]) == ("GET", "/health/live", 200, "info")
    assert isinstance(line["duration_ms"], float)
    assert line["timestamp"]


async def test_the_callers_request_id_is_kept(client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "spa-7f3a:1"})
    assert response.headers["x-request-id"] == "spa-7f3a:1"
    assert request_lines(capsys.readouterr().err)[0]["request_id"] == "spa-7f3a:1"


async def test_an_unsafe_request_id_is_replaced(client: Client) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "x" * 300})
    assert response.headers["x-request-id"] != "x" * 300


@pytest.mark.usefixtures("tenants")
async def test_errors_carry_the_request_id_and_paths_are_templates(
    client: Client, mint: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    forbidden = await client.get("/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {mint()}"})
    missing = await client.get("/api/v1/admin/secret-token-abc123")
    assert forbidden.json()["request_id"] == forbidden.headers["x-request-id"]
    assert missing.status_code == 404
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    lines = request_lines(capsys.readouterr().err)
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/api/v1/admin/tenants/current", 403),
        ("<no route>", 404),
    ]
    assert lines[0]["sub"] == "user-1"
    assert "secret-token-abc123" not in json.dumps(lines)


@pytest.mark.parametrize(("log_format", "renders_json"), [("json", True), ("console", False)])
async def test_the_request_line_follows_the_log_format(
    env: dict[str, str], log_format: str, renders_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(Settings.from_env({**env, "LOG_FORMAT": log_format}))
    try:
        async with AsyncTestClient(app=app) as client:
            request_id = (await client.get("/health/live")).headers["x-request-id"]
        err = capsys.readouterr().err
        [line] = [line for line in err.splitlines() if request_id in line and "request" in line]
        assert line.startswith("{") is renders_json
        assert "/health/live" in line
    finally:
        create_app(Settings.from_env(env))  # logging is process-wide: back to the suite's JSON lines


async def test_no_request_lines_above_info(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    app = create_app(Settings.from_env({**env, "LOG_LEVEL": "WARNING"}))
    try:
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/health/live")).status_code == 200
        assert request_lines(capsys.readouterr().err) == []
    finally:
        create_app(Settings.from_env(env))
