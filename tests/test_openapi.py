"""The OpenAPI document and UIs that admins use."""

from __future__ import annotations

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


@pytest.mark.parametrize(("path", "marker"), [("/schema", "scalar"), ("/schema/swagger", "swagger-ui")])
async def test_the_interactive_uis_are_served(client: Client, path: str, marker: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert marker in response.text.lower()
    assert "openapi" in response.text.lower()


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
