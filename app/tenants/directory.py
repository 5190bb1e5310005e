"""The tenant a token names: slug → (id, slug, kind, timezone), cached briefly, for the authentication middleware."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import TenantRef
from app.tenants.models import Tenant

__all__ = ["TenantDirectory"]


@dataclass
class TenantDirectory:
    """Resolves tenant slugs, caching hits briefly (tenants are rarely created and never renamed)."""

    session_maker: Callable[[], AsyncSession]
    ttl_seconds: float = 30.0
    _cache: dict[str, tuple[TenantRef, float]] = field(default_factory=dict)

    async def resolve(self, slug: str) -> TenantRef | None:
        cached = self._cache.get(slug)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        async with self.session_maker() as session:
            found = select(Tenant.id, Tenant.slug, Tenant.kind, Tenant.timezone).where(Tenant.slug == slug)
            row = (await session.execute(found)).one_or_none()
        if row is None:
            return None
        tenant = TenantRef(id=row.id, slug=row.slug, kind=row.kind.value, timezone=row.timezone)
        self._cache[slug] = (tenant, now + self.ttl_seconds)
        return tenant

    def forget(self, slug: str) -> None:
        """The tenant changed through this process: its next request reads it again. (Other processes see
        the change when their entry expires, within ``ttl_seconds``.)"""
        self._cache.pop(slug, None)
