"""The OpenAPI document and UIs that admins use."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

Client = AsyncTestClient[Litestar]
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
async def document(client: Client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_every_operation_has_an_id_a_tag_and_a_summary(document: dict[str, Any]) -> None:
    found = operations(document)
    assert found
    ids = [operation.get("operationId") for _, _, operation in found]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)
    for path, method, operation in found:
        assert operation.get("tags"), f"{method} {path} has no tag"
        assert operation.get("summary"), f"{method} {path} has no summary"


async def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        content = body["content"]["application/json"]
        has_example = "examples" in content or "example" in content or "examples" in content.get("schema", {})
        assert has_example, f"{method} {path} has a request body without an example"


async def test_a_bearer_token_can_be_pasted_for_protected_operations(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for path, _, operation in operations(document):
        if path.startswith("/api/v1/admin"):
            assert operation.get("security") == [{"bearer": []}], path
        if path.startswith("/health"):
            assert not operation.get("security"), path


async def test_readiness_documents_its_503(document: dict[str, Any]) -> None:
    responses = document["paths"]["/health/ready"]["get"]["responses"]
    assert "application/problem+json" in responses["503"]["content"]


async def test_admin_operations_document_their_auth_problems(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/v1/admin/tenants/current"]["get"]["responses"]
    for status in ("401", "403"):
        assert "application/problem+json" in responses[status]["content"]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (and the one-element ``allOf`` Litestar wraps a body's ref in)."""
    while "$ref" in schema or len(schema.get("allOf", [])) == 1:
        if "allOf" in schema:
            schema = schema["allOf"][0]
        else:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_OPTIONAL = {"instance", "request_id", "errors"}
"""RFC 9457 members a problem document carries only when they are known (the struct omits them otherwise)."""


def is_problem_schema(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """The Problem schema, or one that extends it (the readiness probe's adds ``checks``)."""
    if schema.get("$ref") == PROBLEM_REF:
        return True
    problem, candidate = resolve(document, {"$ref": PROBLEM_REF}), resolve(document, schema)
    return set(problem["required"]) <= set(candidate.get("required", [])) and all(
        candidate.get("properties", {}).get(name) == value for name, value in problem["properties"].items()
    )


async def test_every_error_response_is_a_problem_document(document: dict[str, Any]) -> None:
    wrong = []
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            content = response.get("content", {})
            if list(content) != ["application/problem+json"] or not is_problem_schema(
                document, content["application/problem+json"]["schema"]
            ):
                wrong.append(f"{method} {path} {status}: {sorted(content)}")
    assert not wrong, "\n".join(wrong)


async def test_the_problem_schema_says_what_every_problem_carries(document: dict[str, Any]) -> None:
    problem = resolve(document, {"$ref": PROBLEM_REF})
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", *PROBLEM_OPTIONAL}
    field_error = resolve(document, problem["properties"]["errors"]["oneOf"][0]["items"])
    assert set(field_error["required"]) == set(field_error["properties"]) == {"field", "message", "source"}
    assert "examples" not in problem, "no generated gibberish examples"


def object_schemas(
    document: dict[str, Any], schema: dict[str, Any], seen: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema reachable from ``schema``, with a name to report it by."""
    if ref := schema.get("$ref"):
        if ref in seen:
            return []
        seen.add(ref)
    name, schema = schema.get("$ref", schema.get("title", "inline")), resolve(document, schema)
    found = [(name, schema)] if "properties" in schema else []
    children = [*schema.get("properties", {}).values(), *schema.get("oneOf", []), *schema.get("anyOf", [])]
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            children.append(schema[key])
    for child in children:
        found.extend(object_schemas(document, child, seen))
    return found


async def test_every_field_a_response_always_carries_is_required(document: dict[str, Any]) -> None:
    """A client generated from the document must not see ``page.items`` or ``tenant.logo_url`` as maybe absent."""
    optional = []
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                for name, schema in object_schemas(document, media["schema"], set()):
                    missing = set(schema["properties"]) - set(schema.get("required", []))
                    if is_problem_schema(document, {"$ref": name} if name.startswith("#") else schema):
                        missing -= PROBLEM_OPTIONAL
                    if missing:
                        optional.append(f"{method} {path} {status} {name}: {sorted(missing)}")
    assert not optional, "\n".join(optional)


async def test_a_body_that_refuses_unknown_fields_is_documented_closed(document: dict[str, Any]) -> None:
    open_bodies = []
    for path, method, operation in operations(document):
        if body := operation.get("requestBody"):
            schema = resolve(document, body["content"]["application/json"]["schema"])
            if schema.get("additionalProperties") is not False:
                open_bodies.append(f"{method} {path} {schema.get('title')}")
    assert not open_bodies, "\n".join(open_bodies)


async def test_every_query_parameter_is_bounded(document: dict[str, Any]) -> None:
    unbounded = []
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            schema = parameter["schema"]
            branches = [resolve(document, branch) for branch in schema.get("oneOf", [schema])]
            for branch in branches:
                if branch.get("type") == "string" and not {"format", "enum", "const", "maxLength"} & {*branch, *schema}:
                    unbounded.append(f"{method} {path} {parameter['name']}")
                if branch.get("type") == "integer" and not {"maximum"} & {*branch, *schema}:
                    unbounded.append(f"{method} {path} {parameter['name']}")
    assert not unbounded, "\n".join(unbounded)


async def test_a_time_of_day_is_documented_as_msgspec_reads_it_not_as_a_duration(document: dict[str, Any]) -> None:
    start = document["components"]["schemas"]["BookRead"]["properties"]["referral_start_time"]
    assert (start["type"], start.get("format")) == ("string", None)
    assert re.fullmatch(start["pattern"].removesuffix(r"(?![\s\S])"), "08:00:00")
    assert not re.fullmatch(start["pattern"].removesuffix(r"(?![\s\S])"), "PT8H")
