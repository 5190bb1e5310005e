"""Authentication (OIDC bearer tokens) and authorization (role guards)."""

from app.core.auth.guards import requires_role
from app.core.auth.principal import Principal, TenantRef, provide_principal

__all__ = ["Principal", "TenantRef", "provide_principal", "requires_role"]
