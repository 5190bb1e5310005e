"""Who is calling: the verified token's subject, roles and tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.exceptions import NotAuthorizedException

__all__ = ["Principal", "TenantRef", "provide_principal"]


@dataclass(frozen=True, slots=True)
class TenantRef:
    """The caller's tenant as resolved from the token's tenant claim."""

    id: UUID
    slug: str
    kind: str
    """The tenant's kind (``club``, ``hall``): what the domain packages' guards check."""
    timezone: str = "UTC"
    """The IANA zone of the tenant's days and hours (a hall's deadlines, crons and windows)."""


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    email: str | None
    roles: frozenset[str]
    tenant: TenantRef

    @property
    def actor(self) -> str:
        """How audit rows name the caller: email, else subject."""
        return self.email or self.sub

    def has_role(self, role: str) -> bool:
        return role in self.roles


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency ``principal``: the authenticated caller of this request."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("authentication is required")
    return user
