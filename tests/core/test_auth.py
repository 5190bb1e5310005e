"""Access tokens: every refusal, the principal, role guards and tenant resolution."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings
from app.dev.keys import ensure_dev_key
from tests.conftest import AUDIENCE, ISSUER
from tests.tokens import SigningKeys

CURRENT = "/api/v1/admin/tenants/current"

Client = AsyncTestClient[Litestar]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_refused(client: Client, token: str, status: int, detail: str) -> None:
    response = await client.get(CURRENT, headers=bearer(token))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert detail in body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"].startswith('Bearer realm="rollcall"')


@pytest.mark.usefixtures("tenants")
async def test_an_rs256_admin_token_reaches_its_tenant(client: Client, mint: Callable[..., str]) -> None:
    response = await client.get(CURRENT, headers=bearer(mint(roles=["admin"])))
    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["kind"], body["name"]) == ("demo-club", "club", "Demo Youth Soccer Club")


@pytest.mark.usefixtures("tenants")
async def test_an_es256_token_is_accepted(client: Client, mint: Callable[..., str]) -> None:
    response = await client.get(CURRENT, headers=bearer(mint(alg="ES256", tenant="demo-hall", roles=["admin"])))
    assert response.status_code == 200
    assert response.json()["slug"] == "demo-hall"


async def test_no_token_is_401(client: Client) -> None:
    response = await client.get(CURRENT)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="rollcall"'
    assert response.json()["detail"] == "a bearer token is required"


async def test_a_non_bearer_scheme_is_401(client: Client) -> None:
    response = await client.get(CURRENT, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


@pytest.mark.usefixtures("tenants")
@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"iss": "https://evil.example.org/realms/rollcall"}, "token is from another issuer"),
        ({"aud": "another-api"}, "token is for another audience"),
        ({"exp": -120}, "token has expired"),
        ({"nbf": 120}, "token is not valid yet"),
        ({"exp": None}, "token lacks the 'exp' claim"),
        ({"sub": None}, "token lacks the 'sub' claim"),
    ],
    ids=["wrong-issuer", "wrong-audience", "expired", "not-yet-valid", "no-exp", "no-sub"],
)
async def test_claims_that_do_not_hold_are_401(
    client: Client, mint: Callable[..., str], claims: dict[str, object], detail: str
) -> None:
    # Times relative to now, not to collection: a long run must not turn a future nbf into the past.
    now = int(time.time())
    claims = {k: now + v if k in ("exp", "nbf") and isinstance(v, int) else v for k, v in claims.items()}
    await assert_refused(client, mint(roles=["admin"], **claims), 401, detail)


@pytest.mark.usefixtures("tenants")
@pytest.mark.parametrize(
    ("claims", "headers", "detail"),
    [
        ({"typ": "ID"}, {}, "token is not an access token (typ 'ID')"),
        ({"typ": "Refresh"}, {}, "token is not an access token (typ 'Refresh')"),
        ({"typ": "Logout"}, {}, "token is not an access token (typ 'Logout')"),
        ({"typ": ["Bearer"]}, {}, "not an access token"),
        ({}, {"typ": "logout+jwt"}, "token is not an access token (header typ 'logout+jwt')"),
        ({"typ": "Bearer"}, {"typ": "id+jwt"}, "token is not an access token (header typ 'id+jwt')"),
    ],
    ids=["keycloak-id-token", "keycloak-refresh-token", "keycloak-logout-token", "typ-not-a-string",
         "logout-token-header", "id-token-header"],
)  # fmt: skip
async def test_a_token_of_another_type_for_the_same_audience_is_401(
    client: Client, mint: Callable[..., str], claims: dict[str, object], headers: dict[str, object], detail: str
) -> None:
    await assert_refused(client, mint(roles=["admin"], headers=headers, **claims), 401, detail)


@pytest.mark.usefixtures("tenants")
@pytest.mark.parametrize(
    ("claims", "headers"),
    [({"typ": "Bearer"}, {}), ({}, {"typ": "at+jwt"}), ({}, {"typ": "application/at+JWT"}), ({}, {"typ": "JWT"})],
    ids=["keycloak-access-token", "rfc9068", "rfc9068-media-type", "plain-jwt"],
)
async def test_access_tokens_are_accepted_whether_or_not_they_say_so(
    client: Client, mint: Callable[..., str], claims: dict[str, object], headers: dict[str, object]
) -> None:
    response = await client.get(CURRENT, headers=bearer(mint(roles=["admin"], headers=headers, **claims)))
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("tenants")
async def test_a_small_clock_skew_is_tolerated(client: Client, mint: Callable[..., str]) -> None:
    token = mint(roles=["admin"], exp=int(time.time()) - 10, nbf=int(time.time()) + 10)
    assert (await client.get(CURRENT, headers=bearer(token))).status_code == 200


@pytest.mark.usefixtures("tenants")
async def test_a_signature_by_another_key_is_401(client: Client, signing_keys: SigningKeys) -> None:
    forged = signing_keys.mint(key=signing_keys.stranger, kid="test-rsa", roles=["admin"])
    await assert_refused(client, forged, 401, "token signature does not verify")


@pytest.mark.usefixtures("tenants")
async def test_a_tampered_payload_is_401(client: Client, mint: Callable[..., str]) -> None:
    header, payload, signature = mint(roles=["viewer"]).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["realm_access"]["roles"] = ["admin"]
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    await assert_refused(client, f"{header}.{tampered}.{signature}", 401, "token signature does not verify")


@pytest.mark.usefixtures("tenants")
async def test_an_unknown_key_id_is_401(client: Client, signing_keys: SigningKeys) -> None:
    token = signing_keys.mint(key=signing_keys.stranger, kid="rotated-away", roles=["admin"])
    await assert_refused(client, token, 401, "token is signed by an unknown key")


@pytest.mark.usefixtures("tenants")
async def test_alg_none_is_401(client: Client, signing_keys: SigningKeys) -> None:
    token = jwt.encode(signing_keys.claims(roles=["admin"]), key=None, algorithm="none", headers={"kid": "test-rsa"})
    await assert_refused(client, token, 401, "signing algorithm 'none' is not accepted")


@pytest.mark.usefixtures("tenants")
async def test_hmac_signed_with_the_public_key_is_401(client: Client, signing_keys: SigningKeys) -> None:
    # The classic key-confusion attack: HS256 keyed with the (public) RSA key.
    public_pem = signing_keys.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = _hs256(signing_keys.claims(roles=["admin"]), public_pem, kid="test-rsa")
    await assert_refused(client, token, 401, "signing algorithm 'HS256' is not accepted")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, object], secret: bytes, *, kid: str) -> str:
    """PyJWT refuses to HMAC with a PEM key, so the attacker's token is built by hand."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


@pytest.mark.usefixtures("tenants")
async def test_an_rs256_header_on_an_ec_key_is_401(client: Client, signing_keys: SigningKeys) -> None:
    token = signing_keys.mint(alg="RS256", kid="test-ec", roles=["admin"])
    await assert_refused(client, token, 401, "token algorithm does not match its key")


async def test_garbage_is_401(client: Client) -> None:
    await assert_refused(client, "not-a-jwt", 401, "malformed token")


@pytest.mark.usefixtures("tenants")
async def test_a_token_without_the_role_is_403(client: Client, mint: Callable[..., str]) -> None:
    await assert_refused(client, mint(roles=["dispatcher"]), 403, "requires role admin")


@pytest.mark.usefixtures("tenants")
async def test_an_unknown_tenant_is_403(client: Client, mint: Callable[..., str]) -> None:
    await assert_refused(client, mint(tenant="no-such-club", roles=["admin"]), 403, "unknown tenant 'no-such-club'")


@pytest.mark.usefixtures("tenants")
async def test_a_token_without_a_tenant_is_403(client: Client, mint: Callable[..., str]) -> None:
    await assert_refused(client, mint(tenant=None, roles=["admin"]), 403, "no 'tenant' claim")


@pytest.mark.usefixtures("tenants")
async def test_the_tenant_claim_name_is_configurable(env: dict[str, str], mint: Callable[..., str]) -> None:
    app = create_app(Settings.from_env({**env, "AUTH_TENANT_CLAIM": "org"}))
    async with AsyncTestClient(app=app) as client:
        token = mint(tenant=None, roles=["admin"], org="demo-hall")
        response = await client.get(CURRENT, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["slug"] == "demo-hall"


@pytest.mark.usefixtures("tenants")
async def test_dev_tokens_are_refused_outside_dev_mode(client: Client, tmp_path: Path) -> None:
    dev_key = ensure_dev_key(tmp_path)
    token = dev_key.mint(
        tenant="demo-club", roles=["admin"], sub="dev", email=None, ttl_seconds=60, issuer=ISSUER, audience=AUDIENCE
    )
    await assert_refused(client, token, 401, "dev tokens are accepted only in dev mode")


@pytest.mark.usefixtures("tenants")
async def test_dev_mode_accepts_rollcall_dev_tokens(database_url: str, redis_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"ROLLCALL_ENV": "dev", "DATABASE_URL": database_url, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)}
    )
    token = ensure_dev_key(tmp_path).mint(tenant="demo-club", roles=["admin"], sub="dev", email=None, ttl_seconds=60)
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get(CURRENT, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["slug"] == "demo-club"
