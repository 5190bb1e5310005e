"""Tenant DTOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from app.core.openapi import RequestExamples
from app.core.text import END, STORABLE_TEXT, url_pattern
from app.tenants.models import GROUPME_TOKEN_PATTERN, TenantKind

__all__ = ["TenantRead", "TenantUpdate"]


class TenantRead(msgspec.Struct, kw_only=True):
    id: UUID
    slug: str
    name: str
    kind: TenantKind
    brand_color: str | None
    logo_url: str | None
    groupme_token_set: bool
    """Whether the tenant has a GroupMe access token of its own (the token itself is never shown)."""
    timezone: str
    """The IANA time zone the tenant's days and hours are in (a hall's deadlines and bidding windows)."""
    created_at: datetime
    updated_at: datetime


class TenantUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The tenant's name, the brand of its emails, its own GroupMe token and its time zone; absent fields stay,
    ``null`` clears."""

    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)] | UnsetType = UNSET
    brand_color: Annotated[str, Meta(pattern=rf"^#[0-9a-fA-F]{{6}}{END}", examples=["#1f4e9c"])] | UnsetType | None = (
        UNSET
    )
    logo_url: Annotated[str, Meta(max_length=500, pattern=url_pattern("https"))] | UnsetType | None = UNSET
    groupme_access_token: (
        Annotated[
            str,
            Meta(
                pattern=GROUPME_TOKEN_PATTERN,
                description="The club's own GroupMe access token (write-only); `null` goes back to the shared account",
            ),
        ]
        | UnsetType
        | None
    ) = UNSET
    timezone: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=64,
                pattern=rf"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*{END}",
                examples=["America/Los_Angeles"],
                description="An IANA time zone name; one the server's time zone database does not know is a 422",
            ),
        ]
        | UnsetType
    ) = UNSET


body = RequestExamples(
    {
        TenantUpdate: Example(
            summary="Brand the club's emails",
            value={"brand_color": "#0b6e4f", "logo_url": "https://kings.example.org/logo.png"},
        ),
    }
)
"""The OpenAPI example of each request body (``Annotated[Model, body(Model)]``)."""
