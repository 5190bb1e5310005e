"""Admin endpoints about the caller's tenant."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses
from app.tenants.directory import TenantDirectory
from app.tenants.schemas import TenantRead, TenantUpdate, body
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

    @patch(
        "/current",
        operation_id="updateCurrentTenant",
        summary="Change the caller's tenant: name, email brand, GroupMe token, time zone",
        responses=problem_responses(400, 401, 403, 413, 422),
    )
    async def update_current(
        self,
        principal: NamedDependency[Principal],
        db_session: NamedDependency[AsyncSession],
        tenant_directory: NamedDependency[TenantDirectory],
        data: Annotated[TenantUpdate, body(TenantUpdate)],
    ) -> TenantRead:
        """`name`, `brand_color` (`#rrggbb`), `logo_url` (https) and `groupme_access_token` (write-only: the club's
        own GroupMe account for `rollcall groupme reconcile`; responses show only `groupme_token_set`) and
        `timezone` (an IANA name such as `America/Los_Angeles`: the zone a hall's days, deadlines and bidding
        windows are in; 422 for a name the time zone database does not know) of the caller's tenant; the slug
        never changes."""
        service = TenantService(session=db_session)
        tenant = await service.update_current(principal.tenant.id, data)
        tenant_directory.forget(principal.tenant.slug)  # this process's next request sees the change
        return service.to_schema(tenant, schema_type=TenantRead)
