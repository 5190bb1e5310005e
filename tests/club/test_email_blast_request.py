"""The email blast's request body: the OpenAPI document describes exactly what the API accepts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.club.conftest import ClubAdmin

pytestmark = pytest.mark.usefixtures("tenants")


async def blast_request_schema(club: ClubAdmin) -> dict[str, Any]:
    document = (await club.client.get("/schema/openapi.json")).json()
    body = document["paths"]["/api/v1/admin/email/blast"]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


async def test_the_document_describes_the_blast_request_the_api_validates(club: ClubAdmin) -> None:
    schema = await blast_request_schema(club)
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"audience", "team_id", "subject_template", "dry_run"}
    assert schema["required"] == []
    assert schema["properties"]["audience"]["const"] == "unsigned_contracts"
    subject = schema["properties"]["subject_template"]
    assert (subject["minLength"], subject["maxLength"]) == (1, 300)
    assert [branch["type"] for branch in subject["oneOf"]] == ["string", "null"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dry_run": True, "audience_filter": "all"}, "audience_filter"),
        ({"dry_run": True, "audience": "everyone"}, "audience"),
        ({"dry_run": True, "audience": None}, "audience"),
        ({"dry_run": True, "subject_template": "x" * 301}, "subject_template"),
        ({"dry_run": True, "subject_template": ""}, "subject_template"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"dry_run": True, "team_id": "team-1"}, "team_id"),
    ],
)
async def test_a_blast_request_outside_the_document_is_a_400_naming_the_field(
    club: ClubAdmin, body: dict[str, Any], field: str
) -> None:
    problem = await club.call("POST", "/email/blast", body, 400)
    assert [error["field"] for error in problem["errors"]] == [field]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"dry_run": True, "subject_template": "x" * 300},
        {"dry_run": True, "subject_template": None, "team_id": None},
    ],
)
async def test_every_blast_request_the_document_allows_is_accepted(club: ClubAdmin, body: dict[str, Any]) -> None:
    result = await club.call("POST", "/email/blast", body, 200)
    assert result["recipient_count"] == 0
