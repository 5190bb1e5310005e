"""Route guards: coroutine functions that raise 403 (Litestar runs a plain function guard in a worker thread,
a thread hop per guard per request)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from app.core.auth.principal import Principal

__all__ = ["requires_role"]


def requires_role(*roles: str) -> Guard:
    """Allow the caller when they hold at least one of ``roles``."""
    wanted = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("authentication is required")
        if not principal.roles & wanted:
            raise PermissionDeniedException(f"requires role {' or '.join(sorted(wanted))}")

    guard.__name__ = f"requires_role_{'_'.join(sorted(wanted))}"
    return guard
