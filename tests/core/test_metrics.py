"""HTTP request metrics: counted per route template, method and status; /metrics itself is not counted."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings

LINK = "/api/v1/contracts/{token}"


async def scrape(client: AsyncTestClient[Litestar]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labels(path: str, status: str, method: str = "GET") -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"app_name": "rollcall", "method": method, "path": path, "status_code": status}.items()))


async def test_requests_are_counted_per_route_template_and_status(client: AsyncTestClient[Litestar]) -> None:
    before = await scrape(client)
    for token in ("first-unknown", "second-unknown"):
        assert (await client.get(f"/api/v1/contracts/{token}")).status_code == 404
    assert (await client.get("/health/live")).status_code == 200
    after = await scrape(client)

    def grew(name: str, key: tuple[tuple[str, str], ...]) -> float:
        return after.get((name, key), 0.0) - before.get((name, key), 0.0)

    assert grew("rollcall_requests_total", labels(LINK, "404")) == 2
    assert grew("rollcall_request_duration_seconds_count", labels(LINK, "404")) == 2
    assert grew("rollcall_requests_total", labels("/health/live", "200")) == 1
    assert grew("rollcall_requests_error_total", labels(LINK, "404")) == 0  # only 5xx are errors
    assert after[("rollcall_requests_in_progress", labels(LINK, "200"))] == 0
    assert not [key for key in after if dict(key[1]).get("path", "").startswith("/metrics")]


async def test_a_server_error_is_counted_as_an_error(env: dict[str, str]) -> None:
    from app.asgi import create_app

    unreachable = Settings.from_env({**env, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"})
    async with AsyncTestClient(app=create_app(unreachable)) as client:
        before = samples(generate_latest(REGISTRY).decode())  # /metrics needs the database too
        assert (await client.get("/health/ready")).status_code == 503
        after = samples(generate_latest(REGISTRY).decode())
    key = labels("/health/ready", "503")
    for name in ("rollcall_requests_total", "rollcall_requests_error_total"):
        assert after[(name, key)] - before.get((name, key), 0.0) == 1
