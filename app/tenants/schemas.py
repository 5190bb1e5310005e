"""Tenant DTOs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from app.core.text import END, STORABLE_TEXT, url_pattern
from app.tenants.models import TenantKind

__all__ = ["TenantRead", "TenantUpdate"]


class TenantRead(msgspec.Struct, kw_only=True):
    id: UUID
    slug: str
    name: str
    kind: TenantKind
    brand_color: str | None
    logo_url: str | None
    created_at: datetime
    updated_at: datetime


class TenantUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The club's name and the brand of its emails; absent fields stay, ``null`` clears the brand."""

    name: Annotated[str, Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)] | UnsetType = UNSET
    brand_color: Annotated[str, Meta(pattern=rf"^#[0-9a-fA-F]{{6}}{END}", examples=["#1f4e9c"])] | UnsetType | None = (
        UNSET
    )
    logo_url: Annotated[str, Meta(max_length=500, pattern=url_pattern("https"))] | UnsetType | None = UNSET
