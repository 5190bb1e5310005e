"""advanced-alchemy's statement filters as Litestar dependencies, under the API's query parameter names.

A list operation declares the filters it takes as dependencies (``paging``, ``created``, …); the service
runs them (``list_and_count(*filters)``) and ``to_schema(items, total, filters=…)`` builds the page. The
query parameters (``limit``, ``offset``, ``created_after``, ``created_before``) are documented and validated
as the dependency functions declare them.
"""

from __future__ import annotations

from typing import Annotated

from advanced_alchemy.filters import BeforeAfter, LimitOffset, SearchFilter
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter, SkipValidation

from app.core.query import Instant, Limit, Offset

__all__ = ["CREATED", "PAGING", "Created", "Paging", "contains", "provide_created", "provide_paging"]

Paging = NamedDependency[SkipValidation[LimitOffset]]
"""The page asked for (dependency ``paging``: query ``limit``, ``offset``)."""
Created = NamedDependency[SkipValidation[BeforeAfter]]
"""A window on ``created_at`` (dependency ``created``: query ``created_after``, ``created_before``)."""

CREATED_AFTER = "Only rows created after this RFC 3339 date-time with an offset, e.g. 2026-09-01T00:00:00Z"
CREATED_BEFORE = "Only rows created before this RFC 3339 date-time with an offset, e.g. 2026-09-01T00:00:00Z"


def provide_paging(limit: Limit = 50, offset: Offset = 0) -> LimitOffset:
    return LimitOffset(limit=limit, offset=offset)


def provide_created(
    created_after: Annotated[Instant | None, QueryParameter(description=CREATED_AFTER)] = None,
    created_before: Annotated[Instant | None, QueryParameter(description=CREATED_BEFORE)] = None,
) -> BeforeAfter:
    return BeforeAfter(field_name="created_at", before=created_before, after=created_after)


PAGING = {"paging": Provide(provide_paging, sync_to_thread=False)}
CREATED = {"created": Provide(provide_created, sync_to_thread=False)}


def contains(fields: str | set[str], value: str | None) -> list[SearchFilter]:
    """Rows whose ``fields`` contain ``value`` in any case, ``%`` and ``_`` taken literally; none without one."""
    if not value:
        return []
    return [SearchFilter(field_name=fields, value=value, ignore_case=True, escape_wildcards=True)]
