"""Bearer-token authentication for every route not marked ``exclude_from_auth``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, ServiceUnavailableException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp

from app.core.auth.keys import KeysUnavailableError
from app.core.auth.principal import Principal, TenantRef
from app.core.auth.tokens import InvalidTokenError, TokenVerifier

__all__ = ["Authenticator", "BearerAuthMiddleware", "TenantLookup"]

logger = structlog.get_logger(__name__)


class TenantLookup(Protocol):
    """Finds the tenant a token's tenant claim names (``app.tenants.directory.TenantDirectory``)."""

    async def resolve(self, slug: str) -> TenantRef | None: ...


@dataclass
class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal`."""

    verifier: TokenVerifier
    tenants: TenantLookup
    tenant_claim: str = "tenant"

    async def authenticate(self, authorization: str | None) -> Principal:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("a bearer token is required", error=None)
        try:
            claims = await self.verifier.verify(token.strip())
        except InvalidTokenError as error:
            raise _unauthorized(str(error), error="invalid_token") from None
        except KeysUnavailableError:
            logger.error("auth_keys_unavailable")
            raise ServiceUnavailableException("the identity provider's signing keys are unavailable") from None
        slug = _tenant_slug(claims.get(self.tenant_claim))
        if slug is None:
            raise PermissionDeniedException(f"the token has no '{self.tenant_claim}' claim naming one tenant")
        tenant = await self.tenants.resolve(slug)
        if tenant is None:
            raise PermissionDeniedException(f"unknown tenant '{slug}'")
        email = claims.get("email")
        return Principal(
            sub=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            roles=_realm_roles(claims),
            tenant=tenant,
        )


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to the caller's :class:`Principal` (``DefineMiddleware(..., authenticator=...)``)."""

    def __init__(self, app: ASGIApp, *, authenticator: Authenticator, **options: Any) -> None:
        super().__init__(app, **options)
        self.authenticator = authenticator

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        principal = await self.authenticator.authenticate(connection.headers.get("authorization"))
        structlog.contextvars.bind_contextvars(sub=principal.sub, tenant=principal.tenant.slug)
        return AuthenticationResult(user=principal, auth=None)


def _unauthorized(detail: str, *, error: str | None) -> NotAuthorizedException:
    challenge = 'Bearer realm="rollcall"' + (f', error="{error}"' if error else "")
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": challenge})


def _tenant_slug(value: object) -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value if isinstance(value, str) and value else None


def _realm_roles(claims: dict[str, Any]) -> frozenset[str]:
    realm_access = claims.get("realm_access")
    roles = realm_access.get("roles") if isinstance(realm_access, dict) else None
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(role for role in roles if isinstance(role, str))
