"""Admin endpoints about the caller's tenant."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses
from app.tenants.schemas import TenantRead
from app.tenants.services import TenantService

__all__ = ["TenantController"]


class TenantController(Controller):
    path = "/api/v1/admin/tenants"
    tags = ["tenants"]
    guards = [requires_role("admin")]

    @get(
        "/current",
        operation_id="getCurrentTenant",
        summary="The caller's tenant",
        responses=problem_responses(401, 403),
    )
    async def current(
        self, principal: NamedDependency[Principal], db_session: NamedDependency[AsyncSession]
    ) -> TenantRead:
        """The tenant named by the caller's token (role `admin`)."""
        service = TenantService(session=db_session)
        tenant = await service.get(principal.tenant.id)
        return service.to_schema(tenant, schema_type=TenantRead)
