"""Query parameter types that accept exactly what the OpenAPI document says they accept.

Litestar converts query strings leniently (msgspec's ``strict=False``): a plain ``datetime``
parameter takes ``0.5`` as half a second after the epoch and ``2026-09-01T00:00`` as a naive time
that PostgreSQL would read in its own time zone. ``Instant`` takes an RFC 3339 date-time with an
offset, the ``format: date-time`` the document promises, and nothing else (400 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar.constants import RESERVED_KWARGS
from litestar.enums import ScopeType
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import ParameterKwarg, QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send, TypeDecodersSequence

__all__ = [
    "ANY_QUERY",
    "MAX_LIMIT",
    "MAX_OFFSET",
    "QUERY_TYPE_DECODERS",
    "Instant",
    "Limit",
    "Offset",
    "refuse_unknown_query_parameters",
]

ANY_QUERY = "any_query"
"""Route ``opt`` key: the route takes any query string (pages and files a browser loads, e.g. ``?v=<hash>``)."""

MAX_OFFSET = 1_000_000
"""Past any real list; keeps OFFSET within what PostgreSQL and the driver take."""

_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]

MAX_LIMIT = 200
"""The largest page any list returns."""

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip")]


class Instant(datetime):
    """A point in time given as an RFC 3339 date-time with an offset, e.g. ``2026-09-01T00:00:00Z``."""


def decode_instant(target: type[Instant], value: object) -> Instant:
    """msgspec's strict conversion: an RFC 3339 string with an offset, never an epoch number."""
    parsed = msgspec.convert(value, _AWARE)
    return target.combine(parsed.date(), parsed.timetz())


QUERY_TYPE_DECODERS: TypeDecodersSequence = [(lambda type_: type_ is Instant, decode_instant)]
"""Litestar ``type_decoders`` for the types above."""


def refuse_unknown_query_parameters(app: ASGIApp) -> ASGIApp:
    """Middleware: a query parameter the operation does not declare is a 400 naming it, not silently ignored
    (``?stauts=paid`` would otherwise list every order). Requests without a query string pass straight on."""
    declared: dict[int, frozenset[str]] = {}

    async def check(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string")
        handler = scope.get("route_handler")
        if query and scope["type"] == ScopeType.HTTP and handler is not None and not handler.opt.get(ANY_QUERY):
            names = declared.get(id(handler))
            if names is None:
                names = declared[id(handler)] = _query_parameters(handler)
            given = {key for key, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)}
            unknown = sorted(given - names - set(scope.get("path_params", {})))
            if unknown:
                raise ValidationException(
                    f"unknown query parameter: {', '.join(unknown)[:200]}",
                    extra=[{"key": name[:100], "message": "not a parameter of this operation", "source": "query"}
                           for name in unknown[:20]],
                )  # fmt: skip
        await app(scope, receive, send)

    return check


def _query_parameters(handler: BaseRouteHandler) -> frozenset[str]:
    """The names a handler takes from the query string, itself or through its dependencies (``paging`` takes
    ``limit`` and ``offset``): parameters that are not reserved, dependencies, headers or cookies (with a
    ``QueryParameter(query=...)`` alias where one is given)."""
    dependencies = handler.resolve_dependencies()
    names: set[str] = set()
    signatures = [handler.parsed_fn_signature]
    for name in handler.parsed_fn_signature.parameters:
        provided = dependencies.get(name)
        if provided is not None and provided.parsed_fn_signature is not None:
            signatures.append(provided.parsed_fn_signature)
    for signature in signatures:
        for name, field in signature.parameters.items():
            if name in RESERVED_KWARGS or name in dependencies:
                continue
            kwarg: Any = field.kwarg_definition
            if isinstance(kwarg, ParameterKwarg):
                if kwarg.header or kwarg.cookie:
                    continue
                names.add(kwarg.query or name)
            elif kwarg is None:
                names.add(name)
    return frozenset(names)
