"""Authentication (OIDC bearer tokens) and authorization (role guards)."""

from app.core.auth.guards import requires_role
from app.core.auth.principal import Principal, TenantRef

__all__ = ["Principal", "TenantRef", "requires_role"]
