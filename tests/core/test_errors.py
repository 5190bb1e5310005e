"""Every error is RFC 9457 problem+json; nothing internal (trace, SQL, driver text) reaches the client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from advanced_alchemy.exceptions import IntegrityError, NotFoundError
from litestar import Litestar, get, post
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
    TooManyRequestsException,
)
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import DataError, OperationalError

from app.core.errors import ResourceNotFoundError, problem_exception_handlers

Client = AsyncTestClient[Litestar]
SECRET_SQL = "SELECT password_hash FROM users WHERE id = 42"


class Widget(msgspec.Struct):
    name: str
    size: int


@post("/widgets", sync_to_thread=False)
def create_widget(data: JSONBody[Widget], dry_run: FromQuery[bool] = False) -> Widget:
    return data


@get("/boom/{kind:str}", sync_to_thread=False)
def boom(kind: FromPath[str]) -> None:
    raise {
        "401": NotAuthorizedException("who are you?"),
        "403": PermissionDeniedException("not yours"),
        "409": ClientException("already signed", status_code=409),
        "422": ClientException("target team must differ", status_code=422),
        "429": TooManyRequestsException("slow down", headers={"Retry-After": "12"}),
        "503": ServiceUnavailableException("mail relay down"),
        "missing": NotFoundError(f"No row for {SECRET_SQL}"),
        "no-such-player": ResourceNotFoundError("no player 42"),
        "duplicate": IntegrityError(f"duplicate key: {SECRET_SQL}"),
        "database-down": OperationalError(SECRET_SQL, {}, ConnectionRefusedError("refused")),
        "too-long": DataError(SECRET_SQL, {}, ValueError("value too long for type character varying(63)")),
        "bug": RuntimeError(f"bug while running {SECRET_SQL}"),
    }[kind]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    app = Litestar(route_handlers=[create_widget, boom], exception_handlers=problem_exception_handlers())
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def assert_problem(response: object, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert str(body["type"]).startswith("urn:rollcall:problem:")
    assert body["title"]
    assert body["detail"]
    assert SECRET_SQL not in response.text
    assert "Traceback" not in response.text
    return body


async def test_a_body_that_fails_validation_lists_each_field(client: Client) -> None:
    body = assert_problem(await client.post("/widgets", json={"name": 7, "size": "big"}), 400)
    assert body["type"] == "urn:rollcall:problem:validation-error"
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["source"] == "body"
    assert errors[0]["field"] == "name"
    assert errors[0]["message"] == "Expected `str`, got `int`"


async def test_a_missing_field_is_named(client: Client) -> None:
    body = assert_problem(await client.post("/widgets", json={"name": "cone"}), 400)
    assert body["errors"] == [{"field": "size", "message": "Object missing required field `size`", "source": "body"}]


async def test_a_bad_query_parameter_is_named(client: Client) -> None:
    body = assert_problem(await client.post("/widgets?dry_run=perhaps", json={"name": "a", "size": 1}), 400)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["field"] == "dry_run"
    assert errors[0]["source"] == "query"


async def test_malformed_json_is_400(client: Client) -> None:
    assert_problem(
        await client.post("/widgets", content=b"{not json", headers={"content-type": "application/json"}), 400
    )


@pytest.mark.parametrize(
    ("kind", "status", "detail"),
    [
        ("401", 401, "who are you?"),
        ("403", 403, "not yours"),
        ("409", 409, "already signed"),
        ("422", 422, "target team must differ"),
        ("429", 429, "slow down"),
        ("503", 503, "mail relay down"),
        ("missing", 404, "the resource does not exist"),
        ("no-such-player", 404, "no player 42"),
        ("duplicate", 409, "the change conflicts with existing data"),
        ("database-down", 503, "a backing service is unavailable; retry shortly"),
        ("too-long", 400, "a value does not fit what the database accepts"),
        ("bug", 500, "the server could not complete the request"),
    ],
)
async def test_each_error_kind_is_a_problem(client: Client, kind: str, status: int, detail: str) -> None:
    body = assert_problem(await client.get(f"/boom/{kind}"), status)
    assert body["detail"] == detail


async def test_429_keeps_retry_after(client: Client) -> None:
    response = await client.get("/boom/429")
    assert response.headers["retry-after"] == "12"


async def test_an_unknown_route_is_404(client: Client) -> None:
    body = assert_problem(await client.get("/nowhere"), 404)
    assert body["detail"] == "no resource at /nowhere"


async def test_a_wrong_method_is_405_with_allow(client: Client) -> None:
    response = await client.delete("/widgets")
    body = assert_problem(response, 405)
    assert body["detail"] == "DELETE is not allowed on /widgets"
    assert "POST" in response.headers["allow"]


async def test_the_real_app_answers_unknown_routes_with_problems(client: Client) -> None:
    # Covered again on the full app (auth middleware, request log) in test_health and test_logging.
    assert_problem(await client.put("/boom/bug"), 405)
