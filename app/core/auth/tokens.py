"""OIDC access-token verification: signature against the issuer's keys, then iss, aud, exp, nbf and the type.

An ID token (or a refresh or logout token) for the same client carries the same ``iss`` and ``aud`` as an
access token and is signed by the same keys, so it is refused by its type: Keycloak states it in the
``typ`` claim (``Bearer`` for access tokens, ``ID``, ``Refresh``, ``Logout``, ...), RFC 9068 in the
header's ``typ`` (``at+jwt``). A token that states no type is taken as an access token (issuers that do
not type their tokens keep working).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import jwt

from app.config import AuthSettings
from app.core.auth.keys import JWKSFile, JWKSUrl, KeySource

__all__ = ["DEV_KID_PREFIX", "InvalidTokenError", "TokenVerifier", "key_source_for"]

DEV_KID_PREFIX = "rollcall-dev-"
"""Key ids minted by ``rollcall dev-token``; refused unless the settings accept dev keys."""

_KEY_TYPE_OF_ALG = {"RS256": "RSA", "ES256": "EC"}
_ACCESS_TOKEN_CLAIM_TYPES = frozenset({"bearer"})
"""Values of the ``typ`` claim (compared without case) that mean an access token."""
_ACCESS_TOKEN_HEADER_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
"""Values of the header's ``typ`` (compared without case) an access token may carry."""
VERIFIED_CACHE_SIZE = 4096
"""Tokens remembered as verified (an SPA sends the same token with every call until it refreshes it)."""
VERIFIED_CACHE_SECONDS = 60.0
"""How long a verified token is taken without checking its signature again: at most this long after its
signing key leaves the issuer's key set. Its expiry is checked on every call."""


class InvalidTokenError(Exception):
    """The token is not acceptable; the message says why (safe to show the caller)."""


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Verifies access tokens; only asymmetric RS256/ES256 signatures are accepted."""

    keys: KeySource
    issuer: str
    audience: str
    leeway_seconds: int = 30
    accept_dev_keys: bool = False
    _verified: dict[str, tuple[dict[str, Any], float, float]] = field(default_factory=dict, repr=False, compare=False)
    """Token → its claims, when it expires (epoch seconds, with the leeway) and when to verify it again
    (monotonic)."""

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or :class:`InvalidTokenError`; ``KeysUnavailableError`` when no keys load.

        A token verified in the last minute is taken from memory (its signature and claims were checked; its
        expiry is checked again): checking an RS256 signature is most of what authenticating a call costs.
        """
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, expires, recheck = remembered
            if time.time() > expires:
                del self._verified[token]
                raise InvalidTokenError("token has expired")
            if time.monotonic() < recheck:
                return claims
            del self._verified[token]
        claims = await self._verify(token)
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        while len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest
        expires = float(claims["exp"]) + self.leeway_seconds
        self._verified[token] = (claims, expires, time.monotonic() + VERIFIED_CACHE_SECONDS)

    async def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("malformed token") from None
        alg = header.get("alg")
        if alg not in _KEY_TYPE_OF_ALG:
            raise InvalidTokenError(f"signing algorithm {alg!r} is not accepted; use RS256 or ES256")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("token header has no key id (kid)")
        if kid.startswith(DEV_KID_PREFIX) and not self.accept_dev_keys:
            raise InvalidTokenError("dev tokens are accepted only in dev mode")
        key = await self.keys.get(kid)
        if key is None:
            raise InvalidTokenError("token is signed by an unknown key")
        if key.key_type != _KEY_TYPE_OF_ALG[alg]:
            raise InvalidTokenError("token algorithm does not match its key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidTokenError("token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError("token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("token is from another issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("token signature does not verify") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidTokenError(f"token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise InvalidTokenError("token could not be verified") from None
        _check_access_token_type(header.get("typ"), claims.get("typ"))
        return claims


def _check_access_token_type(header_typ: object, claim_typ: object) -> None:
    """Refuse a verified token whose header or ``typ`` claim says it is not an access token."""
    if header_typ is not None and (
        not isinstance(header_typ, str) or header_typ.lower() not in _ACCESS_TOKEN_HEADER_TYPES
    ):
        raise InvalidTokenError(f"token is not an access token (header typ {str(header_typ)[:40]!r})")
    if claim_typ is not None and (not isinstance(claim_typ, str) or claim_typ.lower() not in _ACCESS_TOKEN_CLAIM_TYPES):
        raise InvalidTokenError(f"token is not an access token (typ {str(claim_typ)[:40]!r})")


def key_source_for(settings: AuthSettings) -> KeySource:
    if settings.jwks_url:
        return JWKSUrl(settings.jwks_url)
    if settings.jwks_file is None:
        raise ValueError("AuthSettings needs jwks_url or jwks_file")
    return JWKSFile(settings.jwks_file)
