"""Query parameter types that accept exactly what the OpenAPI document says they accept.

Litestar converts query strings leniently (msgspec's ``strict=False``): a plain ``datetime``
parameter takes ``0.5`` as half a second after the epoch and ``2026-09-01T00:00`` as a naive time
that PostgreSQL would read in its own time zone. ``Instant`` takes an RFC 3339 date-time with an
offset, the ``format: date-time`` the document promises, and nothing else (400 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar.params import QueryParameter
from litestar.types import TypeDecodersSequence

__all__ = ["MAX_OFFSET", "QUERY_TYPE_DECODERS", "Instant", "Limit", "Offset"]

MAX_OFFSET = 1_000_000
"""Past any real list; keeps OFFSET within what PostgreSQL and the driver take."""

_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="Items to skip")]


class Instant(datetime):
    """A point in time given as an RFC 3339 date-time with an offset, e.g. ``2026-09-01T00:00:00Z``."""


def decode_instant(target: type[Instant], value: object) -> Instant:
    """msgspec's strict conversion: an RFC 3339 string with an offset, never an epoch number."""
    parsed = msgspec.convert(value, _AWARE)
    return target.combine(parsed.date(), parsed.timetz())


QUERY_TYPE_DECODERS: TypeDecodersSequence = [(lambda type_: type_ is Instant, decode_instant)]
"""Litestar ``type_decoders`` for the types above."""
