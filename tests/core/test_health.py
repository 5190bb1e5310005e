"""Probes: liveness always, readiness only when PostgreSQL and Redis answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings

UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/rollcall"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def readiness(env: dict[str, str], **overrides: str) -> tuple[int, dict[str, object], str]:
    async with AsyncTestClient(app=create_app(Settings.from_env({**env, **overrides}))) as client:
        response = await client.get("/health/ready")
    return response.status_code, response.json(), response.headers["content-type"]


async def test_live_answers_without_a_token(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


async def test_ready_when_postgresql_and_redis_answer(env: dict[str, str]) -> None:
    status, body, _ = await readiness(env)
    assert status == 200
    assert body == {"status": "ready", "checks": {"postgresql": "up", "redis": "up"}}


@pytest.mark.parametrize(
    ("overrides", "detail", "down"),
    [
        ({"DATABASE_URL": UNREACHABLE_DATABASE}, "not ready: postgresql is down", {"postgresql"}),
        ({"REDIS_URL": UNREACHABLE_REDIS}, "not ready: redis is down", {"redis"}),
        (
            {"DATABASE_URL": UNREACHABLE_DATABASE, "REDIS_URL": UNREACHABLE_REDIS},
            "not ready: postgresql and redis are down",
            {"postgresql", "redis"},
        ),
    ],
    ids=["postgresql-down", "redis-down", "both-down"],
)
async def test_not_ready_is_503_naming_what_is_down(
    env: dict[str, str], overrides: dict[str, str], detail: str, down: set[str]
) -> None:
    status, body, content_type = await readiness(env, **overrides)
    assert status == 503
    assert content_type == "application/problem+json"
    assert body["detail"] == detail
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert {name for name, state in checks.items() if state.startswith("down")} == down


@pytest.mark.usefixtures("tenants")
async def test_a_request_that_needs_a_down_database_is_503(env: dict[str, str], mint: Callable[..., str]) -> None:
    app = create_app(Settings.from_env({**env, "DATABASE_URL": UNREACHABLE_DATABASE}))
    async with AsyncTestClient(app=app) as client:
        response = await client.get(
            "/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {mint(roles=['admin'])}"}
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert "127.0.0.1:1" not in response.text
