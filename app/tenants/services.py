"""Tenant lookups and the idempotent demo tenants."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import available_timezones

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.dialects.postgresql import insert

from app.core.errors import ResourceNotFoundError, RuleViolationError
from app.tenants.models import Tenant, TenantKind
from app.tenants.schemas import TenantUpdate

__all__ = ["DEMO_TENANTS", "TIMEZONES", "TenantService"]

DEMO_TENANTS: tuple[tuple[str, str, TenantKind], ...] = (
    ("demo-club", "Demo Youth Soccer Club", TenantKind.CLUB),
    ("demo-hall", "Demo Union Hiring Hall", TenantKind.HALL),
)


TIMEZONES = frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}
"""The IANA zones a tenant may be in: the time zone database's names, less the server's own ``localtime`` and
the database's internal entries."""


class TenantService(SQLAlchemyAsyncRepositoryService[Tenant]):
    """Tenants are created by operators (CLI, demo data), read by everyone else."""

    class Repo(SQLAlchemyAsyncRepository[Tenant]):
        model_type = Tenant

    repository_type = Repo

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return await self.get_one_or_none(slug=slug)

    async def update_current(self, tenant_id: UUID, changes: TenantUpdate) -> Tenant:
        """Apply the given fields and commit; the GroupMe access token is written, never read back. The time zone
        must be one the time zone database knows (422 otherwise): every hall rule reads its days in it."""
        if isinstance(changes.timezone, str) and changes.timezone not in TIMEZONES:
            raise RuleViolationError(f"timezone {changes.timezone} is not an IANA time zone name (e.g. Europe/Berlin)")
        session = self.repository.session
        tenant: Tenant | None = await session.get(Tenant, tenant_id)
        if tenant is None:
            raise ResourceNotFoundError(f"no tenant {tenant_id}")
        for name in changes.__struct_fields__:
            value = getattr(changes, name)
            if value is not msgspec.UNSET:
                setattr(tenant, name, value)
        await session.commit()
        await session.refresh(tenant)  # groupme_token_set is computed by the database
        return tenant

    async def ensure_demo_tenants(self) -> None:
        """Create the demo tenants unless they exist; running it again changes nothing."""
        await self.ensure_tenants(DEMO_TENANTS)

    async def ensure_tenants(self, tenants: tuple[tuple[str, str, TenantKind], ...]) -> None:
        """Insert each (slug, name, kind) that is missing and commit; existing tenants are left as they are."""
        statement = (
            insert(Tenant)
            .values([{"slug": slug, "name": name, "kind": kind} for slug, name, kind in tenants])
            .on_conflict_do_nothing(index_elements=["slug"])
        )
        await self.repository.session.execute(statement)
        await self.repository.session.commit()
