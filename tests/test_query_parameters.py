"""Query parameters accept what the OpenAPI document says, and answer anything else with a 400 naming them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.core.query import MAX_OFFSET

Client = AsyncTestClient[Litestar]
EVENTS = "/api/v1/admin/outbox/events"

pytestmark = pytest.mark.usefixtures("tenants")


async def refusal(client: Client, url: str, headers: dict[str, str]) -> list[dict[str, str]]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors: list[dict[str, str]] = response.json()["errors"]
    return errors


@pytest.mark.parametrize("parameter", ["created_before", "created_after"])
@pytest.mark.parametrize(
    "value",
    [
        "0.5",  # msgspec's lax mode reads numbers as seconds since the epoch
        "1700000000",
        "-1",
        "yesterday",
        "2026-09-01",
        "2026-09-01T00:00:00",  # no offset: whose midnight?
        "2026-02-30T00:00:00Z",
        "",
    ],
)
async def test_a_date_time_filter_refuses_numbers_garbage_and_naive_times_naming_the_parameter(
    client: Client, admin: dict[str, str], parameter: str, value: str
) -> None:
    errors = await refusal(client, f"{EVENTS}?{parameter}={value}", admin)
    assert [(error["field"], error["source"]) for error in errors] == [(parameter, "query")]


async def test_a_date_time_filter_takes_any_offset(client: Client, admin: dict[str, str]) -> None:
    event_id = (await client.post("/api/v1/admin/outbox/ping", headers=admin)).json()["event_id"]
    soon = (datetime.now(UTC) + timedelta(hours=1)).astimezone(timezone(timedelta(hours=5, minutes=30)))
    stamp = soon.isoformat(timespec="seconds").replace("+", "%2B")
    before = (await client.get(f"{EVENTS}?created_before={stamp}", headers=admin)).json()
    after = (await client.get(f"{EVENTS}?created_after={stamp}", headers=admin)).json()
    assert [item["id"] for item in before["items"]] == [event_id]
    assert after["items"] == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{EVENTS}?offset={MAX_OFFSET + 1}", "offset"),
        (f"{EVENTS}?limit=201", "limit"),
        (f"{EVENTS}?event_type={'x' * 256}", "event_type"),
        (f"{EVENTS}?aggregate_id={'x' * 256}", "aggregate_id"),
        (f"{EVENTS}?status=lost", "status"),
        ("/api/v1/admin/teams?season=" + "2" * 21, "season"),
        ("/api/v1/admin/teams?tier=platinum", "tier"),
        ("/api/v1/admin/parents?email=" + "a" * 256, "email"),
        ("/api/v1/admin/players?team_id=not-a-uuid", "team_id"),
        (f"/api/v1/admin/players?offset={2**63}", "offset"),
    ],
)
async def test_a_query_parameter_outside_its_documented_range_is_a_400_naming_it(
    client: Client, admin: dict[str, str], url: str, field: str
) -> None:
    errors = await refusal(client, url, admin)
    assert [error["field"] for error in errors] == [field]


async def test_a_query_parameter_the_operation_does_not_take_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], admin: dict[str, str]
) -> None:
    response = await client.get("/api/v1/admin/teams?seasn=2026-27&limit=5", headers=admin)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "seasn", "message": "not a parameter of this operation", "source": "query"}
    ]
    assert (await client.get("/api/v1/admin/teams?season=2026-27&limit=5", headers=admin)).status_code == 200


async def test_pages_and_files_take_any_query_string(client: AsyncTestClient[Litestar]) -> None:
    assert (await client.get("/sign/some-token?utm_source=email")).status_code == 200
    assert (await client.get("/static/sign/sign.css?v=anything")).status_code == 200
