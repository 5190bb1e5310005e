"""Admin endpoints about the caller's tenant."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.tenants.schemas import TenantRead
from app.tenants.services import TenantService

__all__ = ["TenantController"]


class TenantController(Controller):
    path = "/api/v1/admin/tenants"
    tags = ["tenants"]
    guards = [requires_role("admin")]

    @get("/current", operation_id="getCurrentTenant", summary="The caller's tenant")
    async def current(
        self, request: Request[Principal, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> TenantRead:
        """The tenant named by the caller's token (role `admin`)."""
        service = TenantService(session=db_session)
        tenant = await service.get(request.user.tenant.id)
        return service.to_schema(tenant, schema_type=TenantRead)
