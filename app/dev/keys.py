"""The dev signing key under the data dir, and ``rollcall dev-token``'s tokens.

Only a server started with ``ROLLCALL_ENV=dev`` (``rollcall dev``) trusts this key.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from app.config import DEV_AUDIENCE, DEV_ISSUER, dev_jwks_path
from app.core.auth.tokens import DEV_KID_PREFIX

__all__ = ["DevKey", "ensure_dev_key"]


class DevKey:
    """An ES256 key pair: private PEM (mode 0600) and a public JWKS beside it."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, kid: str) -> None:
        self.private_key = private_key
        self.kid = kid

    def mint(
        self,
        *,
        tenant: str,
        roles: list[str],
        sub: str,
        email: str | None,
        ttl_seconds: int,
        tenant_claim: str = "tenant",
        issuer: str = DEV_ISSUER,
        audience: str = DEV_AUDIENCE,
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": issuer,
            "aud": audience,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_hex(8),
            "typ": "Bearer",  # an access token, as Keycloak marks them
            "realm_access": {"roles": roles},
            tenant_claim: tenant,
        }
        if email:
            claims["email"] = email
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": self.kid})


def ensure_dev_key(data_dir: Path) -> DevKey:
    """Load the dev key, creating it (and its JWKS) on first use."""
    jwks_path = dev_jwks_path(data_dir)
    pem_path = jwks_path.with_name("signing-key.pem")
    if pem_path.exists() and jwks_path.exists():
        loaded = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{pem_path} is not an EC private key")
        kid = json.loads(jwks_path.read_text())["keys"][0]["kid"]
        return DevKey(loaded, kid)
    jwks_path.parent.mkdir(parents=True, exist_ok=True)
    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = DEV_KID_PREFIX + secrets.token_hex(8)
    public_jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update({"kid": kid, "use": "sig", "alg": "ES256"})
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(pem_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    jwks_path.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return DevKey(private_key, kid)
