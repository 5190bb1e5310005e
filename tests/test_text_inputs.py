"""Text inputs: what PostgreSQL cannot store, or the document's pattern does not allow, is a 400 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
ADMIN = "/api/v1/admin"

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/teams", {"name": "Kings\x00", "season": "2026-27"}, "name"),
        ("POST", "/parents", {"name": "Dana", "email": "dana\x00@example.org"}, "email"),
        ("POST", "/parents", {"name": "Dana", "email": "dana\x1f@example.org"}, "email"),
        ("POST", "/parents", {"name": "Dana", "email": "dana@example.org\n"}, "email"),
        ("POST", "/parents", {"name": "Dana", "email": "dana@example.org", "phone": "\x00"}, "phone"),
        ("POST", "/players", {"name": "Sam\x00"}, "name"),
        ("PATCH", "/tenants/current", {"brand_color": "#0b6e4f\n"}, "brand_color"),
        ("PATCH", "/tenants/current", {"logo_url": "https://cdn.example.org/a b.png"}, "logo_url"),
        ("PATCH", "/tenants/current", {"name": "Demo\x00Club"}, "name"),
        ("POST", "/email/blast", {"dry_run": True, "subject_template": "Hi\x00"}, "subject_template"),
    ],
)
async def test_a_body_string_outside_its_pattern_is_a_400_naming_the_field(
    client: Client, admin: dict[str, str], method: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = await client.request(method, f"{ADMIN}{path}", json=body, headers=admin)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/outbox/events?event_type=contract%00signed", "event_type"),
        ("/outbox/events?aggregate_id=%00", "aggregate_id"),
        ("/teams?season=2026%0027", "season"),
        ("/parents?email=%00", "email"),
        ("/players?name=Sam%00", "name"),
    ],
)
async def test_a_query_string_with_nul_is_a_400_naming_the_parameter(
    client: Client, admin: dict[str, str], path: str, field: str
) -> None:
    response = await client.get(f"{ADMIN}{path}", headers=admin)
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_text_the_patterns_allow_is_stored_as_sent(client: Client, admin: dict[str, str]) -> None:
    parent = {"name": "Zoë Łukasz-Nguyễn\nline two", "email": "zoë@exämple.org", "phone": "+1 555 0100"}
    response = await client.post(f"{ADMIN}/parents", json=parent, headers=admin)
    assert response.status_code == 201, response.text
    assert {key: response.json()[key] for key in parent} == parent
