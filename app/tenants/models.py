"""The ``tenants`` table."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, column_property, mapped_column

from app.core.base import UUIDAuditBase
from app.core.columns import enum_column

__all__ = ["DEFAULT_TIMEZONE", "GROUPME_TOKEN_PATTERN", "SLUG_PATTERN", "Tenant", "TenantKind"]

SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{1,62}$"
"""Lower-case letters, digits and dashes; 2 to 63 characters (a DNS label)."""
GROUPME_TOKEN_PATTERN = "^[!-~]{1,200}$"  # noqa: S105  (a pattern, not a secret)
"""Printable ASCII without spaces, 1 to 200 characters: it travels in an HTTP header."""
DEFAULT_TIMEZONE = "America/Los_Angeles"


class TenantKind(StrEnum):
    CLUB = "club"
    HALL = "hall"


class Tenant(UUIDAuditBase):
    """One organisation using rollcall: a youth sports club or a union hiring hall."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}'", name="slug_format"),
        CheckConstraint("brand_color ~ '^#[0-9a-fA-F]{6}$'", name="brand_color_format"),
        CheckConstraint(f"groupme_access_token ~ '{GROUPME_TOKEN_PATTERN}'", name="groupme_access_token_format"),
    )

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[TenantKind] = mapped_column(enum_column(TenantKind, "tenant_kind"))
    brand_color: Mapped[str | None] = mapped_column(String(7))
    """``#rrggbb``: the accent colour of the tenant's emails."""
    logo_url: Mapped[str | None] = mapped_column(String(500))
    """An https:// image shown at the top of the tenant's emails."""
    groupme_access_token: Mapped[str | None] = mapped_column(String(200), deferred=True, deferred_raiseload=True)
    """The club's own GroupMe account, used instead of ``GROUPME_ACCESS_TOKEN``. Write-only: never loaded
    unless asked for (reading it without ``undefer`` raises), never shown; ``groupme_token_set`` says whether
    there is one."""
    groupme_token_set: Mapped[bool] = column_property(groupme_access_token.is_not(None))
    timezone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIMEZONE, server_default=DEFAULT_TIMEZONE, sort_order=2000
    )
    """The IANA zone the tenant's days and hours are in (a hall's "daily", "7 days before", 15:00, 07:00)."""
