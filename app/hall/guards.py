"""Who may call the hall's routes: hall tenants only (a club's caller gets 404), then by role.

Roles: ``admin`` (hall staff who keep the master data and may extend exemptions), ``dispatcher`` (hall
staff who run the books), ``member`` (a member with a login: their own registrations and positions only,
linked by ``members.keycloak_sub`` = the token's ``sub``). An admin may do what a dispatcher does.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler

from app.core.auth import Principal, requires_role
from app.tenants.models import TenantKind

__all__ = ["ADMIN", "DISPATCHER", "MEMBER", "STAFF", "hall_tenants_only", "is_staff"]

ADMIN = "admin"
DISPATCHER = "dispatcher"
MEMBER = "member"

STAFF = requires_role(ADMIN, DISPATCHER)
"""Guard: hall staff (dispatchers, and admins who may do what they do)."""


def is_staff(principal: Principal) -> bool:
    return bool(principal.roles & {ADMIN, DISPATCHER})


async def hall_tenants_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """For a club's caller the hall's routes do not exist: 404, never 403 (no existence leak)."""
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("authentication is required")
    if principal.tenant.kind != TenantKind.HALL:
        raise NotFoundException()
