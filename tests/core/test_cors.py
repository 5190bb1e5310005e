"""Browsers on the configured SPA origins may call the API; others get no CORS grant."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings

SPA = "https://club.example.org"


async def test_a_configured_origin_may_preflight_and_read_the_request_id(env: dict[str, str]) -> None:
    app = create_app(Settings.from_env({**env, "CORS_ORIGINS": f"{SPA},https://hall.example.org"}))
    async with AsyncTestClient(app=app) as client:
        preflight = await client.options(
            "/api/v1/admin/tenants/current",
            headers={
                "Origin": SPA,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        simple = await client.get("/health/live", headers={"Origin": SPA})
        stranger = await client.get("/health/live", headers={"Origin": "https://evil.example.org"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == SPA
    assert simple.headers["access-control-allow-origin"] == SPA
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers


async def test_without_cors_origins_no_grant_is_made(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    response = await client.get("/health/live", headers={"Origin": SPA})
    assert "access-control-allow-origin" not in response.headers
