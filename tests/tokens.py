"""Test signing keys and token minting (an identity provider in miniature)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def public_jwk(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(private_key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
        jwk["alg"] = "RS256"
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(private_key.public_key()))
        jwk["alg"] = "ES256"
    jwk.update({"kid": kid, "use": "sig"})
    return dict(jwk)


@dataclass
class SigningKeys:
    """An RSA and an EC key published in a JWKS file, and a stranger RSA key that is not."""

    jwks_path: Path
    issuer: str
    audience: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey
    stranger: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, jwks_path: Path, *, issuer: str, audience: str) -> SigningKeys:
        keys = cls(
            jwks_path=jwks_path,
            issuer=issuer,
            audience=audience,
            rsa_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            ec_key=ec.generate_private_key(ec.SECP256R1()),
            stranger=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )
        jwks_path.write_text(json.dumps(keys.jwks()))
        return keys

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.rsa_key, "test-rsa"), public_jwk(self.ec_key, "test-ec")]}

    def claims(
        self, *, tenant: str | None = "demo-club", roles: list[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": "user-1",
            "email": "staff@demo-club.test",
            "iat": now,
            "exp": now + 300,
            "realm_access": {"roles": roles if roles is not None else []},
        }
        if tenant is not None:
            claims["tenant"] = tenant
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(
        self,
        *,
        alg: str = "RS256",
        kid: str | None = None,
        key: Any = None,
        headers: dict[str, Any] | None = None,
        **claim_args: Any,
    ) -> str:
        if key is None:
            key = self.ec_key if alg == "ES256" else self.rsa_key
        if kid is None:
            kid = "test-ec" if alg == "ES256" else "test-rsa"
        return jwt.encode(self.claims(**claim_args), key, algorithm=alg, headers={"kid": kid, **(headers or {})})
