"""RFC 9457 problem details for every error the API returns.

One handler serves every exception: Litestar's HTTP exceptions, validation
errors, advanced-alchemy repository errors, backing services that are down,
and anything unexpected (500, logged with its trace, never shown). The
response body never carries a stack trace, SQL or a driver message.

Database errors are told apart by the driver's SQLSTATE, whether asyncpg
raised them to a hot path that calls it directly or SQLAlchemy wrapped them
(its asyncpg dialect turns most of them into a bare ``DBAPIError``): a value
the database refuses is a 400, a timeout, a lock or the server being busy or
away is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import re
from enum import Enum
from http import HTTPStatus
from typing import Any, TypeVar

import asyncpg
import msgspec
import structlog
from advanced_alchemy.exceptions import ErrorMessages, IntegrityError, NotFoundError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import IntegrityError as SQLIntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

T = TypeVar("T")

__all__ = [
    "DEFAULT_CONFLICT",
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ResourceNotFoundError",
    "RuleViolationError",
    "StateConflictError",
    "constraint_messages",
    "found",
    "problem_exception_handlers",
    "problem_responses",
    "problem_type",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = structlog.get_logger(__name__)

_TYPE_OF_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}
_UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    PoolTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "40001", "40P01", "55P03", "25006")
"""By prefix: connection lost, out of resources (too many connections), query cancelled (statement timeout)
or server shutting down, serialization failure, deadlock, lock timeout, read-only (a standby after failover)."""
_RETRY_AFTER = {"Retry-After": "5"}


class StateConflictError(Exception):
    """A business rule: the resource's current state does not allow this change (409)."""


class RuleViolationError(Exception):
    """A business rule refuses a well-formed request (422)."""


class ResourceNotFoundError(Exception):
    """Nothing by that id or token in the caller's reach (404); the message names what was looked for."""


def problem_type(slug: str) -> str:
    """The ``type`` URI of a problem; the README lists them."""
    return f"urn:rollcall:problem:{slug}"


class FieldError(msgspec.Struct, kw_only=True):
    field: str
    message: str
    source: str | None
    """Where the field was: ``body``, ``query``, ``path``, ``header``, or null when unknown."""


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    status, detail, headers, errors, slug = _classify(request, exc)
    title = HTTPStatus(status).phrase
    problem = Problem(
        type=problem_type(slug),
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=request.scope.get("state", {}).get("request_id"),
        errors=errors,
    )
    return Response(content=problem, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _classify(
    request: Request[Any, Any, Any], exc: Exception
) -> tuple[int, str, dict[str, str] | None, list[FieldError] | None, str]:
    if isinstance(exc, ValidationException):
        errors = [_field_error(item) for item in (exc.extra if isinstance(exc.extra, list) else [])]
        return 400, "the request is not valid: see errors", None, errors, "validation-error"
    if isinstance(exc, HTTPException):
        status = exc.status_code
        headers = {str(k): str(v) for k, v in exc.headers.items()} if exc.headers else None
        if status >= 500 and status != 503:
            _log_server_error(request, exc)
            return (
                status,
                "the server could not complete the request",
                headers,
                None,
                _TYPE_OF_STATUS.get(status, "error"),
            )
        return status, _detail(request, exc), headers, None, _TYPE_OF_STATUS.get(status, "error")
    if isinstance(exc, StateConflictError):
        return 409, str(exc), None, None, "conflict"
    if isinstance(exc, RuleViolationError):
        return 422, str(exc), None, None, "unprocessable"
    if isinstance(exc, ResourceNotFoundError):
        return 404, str(exc), None, None, "not-found"
    if isinstance(exc, NotFoundError):
        return 404, "the resource does not exist", None, None, "not-found"
    driver_error = _driver_error(exc)
    if driver_error is not None:
        classified = _classify_driver_error(request, driver_error)
        if classified is not None:
            return classified
    if isinstance(exc, IntegrityError) and exc.detail in _CONSTRAINT_MESSAGES:  # see constraint_messages
        return 409, exc.detail, None, None, "conflict"
    if isinstance(exc, IntegrityError | SQLIntegrityError):
        return 409, DEFAULT_CONFLICT, None, None, "conflict"
    if isinstance(exc, DataError):
        return 400, "a value does not fit what the database accepts", None, None, "bad-request"
    if isinstance(exc, _UNAVAILABLE):
        return _unavailable(request, exc)
    _log_server_error(request, exc)
    return 500, "the server could not complete the request", None, None, "internal-error"


_CONSTRAINT_MESSAGES: set[str] = set()
"""Every message a repository declared with :func:`constraint_messages`: only these reach a client (another
integrity error's detail may quote SQL, so it gets the generic text)."""


def constraint_messages(**by_constraint: str) -> ErrorMessages:
    """A repository's ``error_messages``: the 409's text for each constraint a write can break, by the
    constraint's name as PostgreSQL reports it (asyncpg's ``constraint_name``; advanced-alchemy cannot parse
    asyncpg's message, so every violation reaches it as an "integrity" error)."""

    _CONSTRAINT_MESSAGES.update(by_constraint.values())

    def message(exc: Exception) -> str:
        driver = _driver_error(exc)
        name = getattr(driver, "constraint_name", None)
        return by_constraint.get(name or "", DEFAULT_CONFLICT)

    return ErrorMessages(integrity=message, duplicate_key=message, foreign_key=message)


def _driver_error(exc: Exception) -> Exception | None:
    """The asyncpg exception behind ``exc``: ``exc`` itself, or the one SQLAlchemy wrapped."""
    error: BaseException | None = exc
    if isinstance(exc, DBAPIError):
        error = exc.orig.__cause__ if exc.orig is not None else None
    return error if isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError) else None


def _classify_driver_error(
    request: Request[Any, Any, Any], exc: Exception
) -> tuple[int, str, dict[str, str] | None, list[FieldError] | None, str] | None:
    if isinstance(exc, asyncpg.PostgresError):
        state = str(exc.sqlstate or "")
        if state.startswith("22"):  # data exception: a NUL, an untranslatable character, a value out of range
            return 400, "a value does not fit what the database accepts", None, None, "bad-request"
        if state.startswith("23"):
            return 409, DEFAULT_CONFLICT, None, None, "conflict"
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            return _unavailable(request, exc)
        return None
    if isinstance(exc, ValueError):  # asyncpg refused an argument before sending it (e.g. a lone surrogate)
        return 400, "a value does not fit what the database accepts", None, None, "bad-request"
    return _unavailable(request, exc)  # the client side of a connection that broke, as SQLAlchemy's InterfaceError


def _unavailable(
    request: Request[Any, Any, Any], exc: Exception
) -> tuple[int, str, dict[str, str] | None, list[FieldError] | None, str]:
    logger.error("backing_service_unavailable", error_type=type(exc).__name__, path=_route(request))
    return 503, "a backing service is unavailable; retry shortly", dict(_RETRY_AFTER), None, "unavailable"


_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")


def _field_error(item: object) -> FieldError:
    """Name the offending field; for bodies, msgspec's path (``$.team.name``) is more precise than Litestar's key."""
    if not isinstance(item, dict):
        return FieldError(field="body", message=str(item), source=None)
    message = str(item.get("message", "invalid value"))
    field = str(item.get("key") or "body")
    source = item.get("source")
    if source == "body":
        at = _AT_PATH.search(message)
        named = _NAMED_FIELD.search(message)
        parts = [at.group(1) if at else "", named.group(1) if named else ""]
        field = ".".join(part for part in parts if part) or field
    if isinstance(source, Enum):
        source = source.value
    return FieldError(field=field, message=message, source=str(source) if source else None)


def _detail(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    phrase = HTTPStatus(exc.status_code).phrase
    if exc.detail and exc.detail != phrase:
        return exc.detail
    if exc.status_code == 404:
        return f"no resource at {request.url.path}"
    if exc.status_code == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    return phrase.lower()


def _log_server_error(request: Request[Any, Any, Any], exc: Exception) -> None:
    # The route template, never the raw path: signing-link tokens must not reach the logs.
    logger.error("unhandled_error", path=_route(request), method=request.method, exc_info=exc)


def _route(request: Request[Any, Any, Any]) -> str:
    return str(request.scope.get("path_template") or "<no route>")


DEFAULT_CONFLICT = "the change conflicts with existing data"


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for the problems an operation can answer with, plus the 500 and 503 any operation can.

    Listing 400 here also replaces the ``{status_code, detail, extra}`` schema that Litestar documents for
    its validation errors: the body is a problem document like every other error.
    """
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_RESPONSE_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
            examples=[Example(summary=HTTPStatus(status).phrase, value=_example(status))],
        )
        for status in sorted({*statuses, 500, 503})
    }


def _example(status: int) -> dict[str, object]:
    example: dict[str, object] = {
        "type": problem_type("validation-error" if status == 400 else _TYPE_OF_STATUS.get(status, "error")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": _RESPONSE_DESCRIPTIONS.get(status, HTTPStatus(status).phrase).lower(),
        "instance": "/api/v1/admin/teams",
        "request_id": "3f2a9c1e7b4d4e0f9a8b7c6d5e4f3a2b",
    }
    if status == 400:
        example["detail"] = "the request is not valid: see errors"
        example["errors"] = [{"field": "limit", "message": "Expected `int` <= 200", "source": "query"}]
    return example


_RESPONSE_DESCRIPTIONS = {
    400: "A parameter or the body is not what the document says; `errors` names each field",
    401: "No token, or the token does not verify",
    403: "The token lacks a role, or names no known tenant",
    404: "No such resource in the caller's tenant",
    409: "The change conflicts with the current state",
    413: "The body is larger than the server accepts",
    422: "The request is well-formed but breaks a rule",
    429: "Too many requests; see Retry-After",
    500: "The server could not complete the request (logged with its request id)",
    503: "A backing service (PostgreSQL, Redis) is unavailable; retry after Retry-After",
}


def problem_exception_handlers() -> dict[type[Exception] | int, Any]:
    """Litestar ``exception_handlers``: every exception becomes problem+json."""
    return {Exception: problem_response}


def found(value: T | None, what: str) -> T:
    """``value``, or a 404 naming ``what`` when it is missing (also where a foreign key already promises it:
    a row read by another statement may be gone by now only if the database was changed by hand)."""
    if value is None:
        raise ResourceNotFoundError(f"no {what}")
    return value
