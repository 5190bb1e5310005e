"""Every error is RFC 9457 problem+json; nothing internal (trace, SQL, driver text) reaches the client."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
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
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.config import DatabaseSettings
from app.core.db import alchemy_config
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


async def _raw(url: str, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Run statements on asyncpg directly, as the sign path does."""
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    try:
        for statement, arguments in statements:
            await connection.fetchval(statement, *arguments)
    finally:
        await connection.close()


async def _orm(url: str, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run statements through SQLAlchemy, as the services do."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for statement, parameters in statements:
                await connection.execute(text(statement), parameters)
    finally:
        await engine.dispose()


async def _broken_connection(url: str) -> None:
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
    connection.terminate()
    await connection.fetchval("SELECT 1")


async def _pool_exhausted(url: str) -> None:
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with engine.connect(), engine.connect():
            pass
    finally:
        await engine.dispose()


TIMEOUT = "SET statement_timeout = 50"
# The pg_sleep(5) statements below are what the statement timeout cancels: the sleep is the thing tested.
DATABASE_ERRORS: dict[str, Callable[[str], Awaitable[None]]] = {
    "raw-nul": lambda url: _raw(url, ("SELECT $1::text", ("a\x00b",))),
    "raw-lone-surrogate": lambda url: _raw(url, ("SELECT $1::text", ("\ud800",))),
    "raw-out-of-range": lambda url: _raw(url, ("SELECT $1::int * 1000000", (10**6,))),
    "raw-statement-timeout": lambda url: _raw(url, (TIMEOUT, ()), ("SELECT pg_sleep(5)", ())),
    "raw-connection-lost": _broken_connection,
    "orm-nul": lambda url: _orm(url, ("SELECT CAST(:v AS text)", {"v": "a\x00b"})),
    "orm-statement-timeout": lambda url: _orm(url, (TIMEOUT, {}), ("SELECT pg_sleep(5)", {})),
    "orm-bad-sql": lambda url: _orm(url, ("SELECT * FROM no_such_table", {})),
    "pool-exhausted": _pool_exhausted,
}


@pytest.fixture
async def database_client(database_url: str) -> AsyncIterator[Client]:
    @get("/database/{kind:str}")
    async def fail(kind: FromPath[str]) -> None:
        await DATABASE_ERRORS[kind](database_url)

    app = Litestar(route_handlers=[fail], exception_handlers=problem_exception_handlers())
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("raw-nul", 400),
        ("raw-lone-surrogate", 400),
        ("raw-out-of-range", 400),
        ("raw-statement-timeout", 503),
        ("raw-connection-lost", 503),
        ("orm-nul", 400),
        ("orm-statement-timeout", 503),
        ("orm-bad-sql", 500),
        ("pool-exhausted", 503),
    ],
)
async def test_database_errors_map_alike_from_asyncpg_and_from_sqlalchemy(
    database_client: Client, kind: str, status: int
) -> None:
    response = await database_client.get(f"/database/{kind}")
    body = assert_problem(response, status)
    if status == 503:
        assert response.headers["retry-after"] == "5"
    assert "asyncpg" not in str(body["detail"])


async def test_the_engine_hides_sql_parameters_from_errors_and_logs(database_url: str) -> None:
    token = "tok-3b1f9c0e8d2a4f6b"
    engine = alchemy_config(DatabaseSettings(url=database_url, pool_size=0)).get_engine()
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as caught:
                await connection.execute(text("SELECT CAST(:token AS text), 1 / 0"), {"token": token})
    finally:
        await engine.dispose()
    logged = "".join(traceback.format_exception(caught.value))  # what a 500's log line carries
    assert "division by zero" in logged
    assert token not in str(caught.value)
    assert token not in logged
