"""Club-only routes: a hall tenant's caller gets 404 (for them the route does not exist), not 403."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from app.core.auth import Principal
from app.tenants.models import TenantKind

__all__ = ["club_tenants_only"]


async def club_tenants_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("authentication is required")
    if principal.tenant.kind != TenantKind.CLUB:
        raise NotFoundException()
