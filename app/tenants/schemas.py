"""Tenant DTOs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from app.tenants.models import TenantKind

__all__ = ["TenantRead"]


class TenantRead(msgspec.Struct, kw_only=True):
    id: UUID
    slug: str
    name: str
    kind: TenantKind
    created_at: datetime
    updated_at: datetime
