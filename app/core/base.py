"""The base of the tables with a UUID ``id`` and ``created_at`` / ``updated_at``.

advanced-alchemy's :class:`~advanced_alchemy.base.UUIDAuditBase` fills these
columns in Python only, so a plain ``INSERT INTO tenants (slug, name, kind) …``
failed on a null id. Here the database has the same defaults
(``gen_random_uuid()``, ``now()``) and operators can import rows with SQL; the
ORM still sets them itself and bumps ``updated_at`` on every update.
"""

from __future__ import annotations

import datetime
from uuid import UUID, uuid4

from advanced_alchemy import base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["UUIDAuditBase"]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class UUIDAuditBase(base.UUIDAuditBase):
    """advanced-alchemy's audit base with database defaults for the id and both timestamps."""

    __abstract__ = True

    id: Mapped[UUID] = mapped_column(
        default=uuid4, server_default=text("gen_random_uuid()"), primary_key=True, sort_order=-100
    )
    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=_now, server_default=text("now()"), sort_order=3002
    )
    updated_at: Mapped[datetime.datetime] = mapped_column(
        DateTimeUTC(timezone=True), default=_now, onupdate=_now, server_default=text("now()"), sort_order=3003
    )
