"""The ``tenants`` table."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import UUIDAuditBase
from app.core.columns import enum_column

__all__ = ["SLUG_PATTERN", "Tenant", "TenantKind"]

SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{1,62}$"
"""Lower-case letters, digits and dashes; 2 to 63 characters (a DNS label)."""


class TenantKind(StrEnum):
    CLUB = "club"
    HALL = "hall"


class Tenant(UUIDAuditBase):
    """One organisation using rollcall: a youth sports club or a union hiring hall."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint("brand_color ~ '^#[0-9a-fA-F]{6}$'", name="brand_color_format"),
    )

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(enum_column(TenantKind, "tenant_kind"))
    brand_color: Mapped[str | None] = mapped_column(String(7))
    """``#rrggbb``: the accent colour of the tenant's emails."""
    logo_url: Mapped[str | None] = mapped_column(String(500))
    """An https:// image shown at the top of the tenant's emails."""
