"""Tenant lookups and the idempotent demo tenants."""

from __future__ import annotations

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.dialects.postgresql import insert

from app.tenants.models import Tenant, TenantKind

__all__ = ["DEMO_TENANTS", "TenantService"]

DEMO_TENANTS: tuple[tuple[str, str, TenantKind], ...] = (
    ("demo-club", "Demo Youth Soccer Club", TenantKind.CLUB),
    ("demo-hall", "Demo Union Hiring Hall", TenantKind.HALL),
)


class TenantService(SQLAlchemyAsyncRepositoryService[Tenant]):
    """Tenants are created by operators (CLI, demo data), read by everyone else."""

    class Repo(SQLAlchemyAsyncRepository[Tenant]):
        model_type = Tenant

    repository_type = Repo

    async def get_by_slug(self, slug: str) -> Tenant | None:
        return await self.get_one_or_none(slug=slug)

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
