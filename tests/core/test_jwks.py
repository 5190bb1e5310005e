"""Signing keys from the issuer's JWKS URL: cached, refreshed on rotation, never hammered, outage-tolerant."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings
from app.core.auth import tokens
from app.core.auth.keys import JWKSFile, JWKSUrl, KeysUnavailableError, parse_jwks
from app.core.auth.tokens import InvalidTokenError, TokenVerifier
from tests.jwks_server import JWKSServer
from tests.tokens import SigningKeys, public_jwk


@pytest.fixture
def issuer(signing_keys: SigningKeys) -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.document = {"keys": [public_jwk(signing_keys.rsa_key, "test-rsa")]}
    with server.running():
        yield server


async def test_keys_are_fetched_once_and_cached(issuer: JWKSServer) -> None:
    keys = JWKSUrl(issuer.url)
    for _ in range(5):
        assert await keys.get("test-rsa") is not None
    assert issuer.requests == 1
    await keys.aclose()


async def test_an_unknown_kid_refreshes_the_keys(issuer: JWKSServer, signing_keys: SigningKeys) -> None:
    keys = JWKSUrl(issuer.url, min_refresh_interval=0)
    assert await keys.get("test-ec") is None
    issuer.document = signing_keys.jwks()  # the issuer rotates in a new key
    assert await keys.get("test-ec") is not None
    assert issuer.requests == 2
    await keys.aclose()


async def test_random_kids_do_not_hammer_the_issuer(issuer: JWKSServer) -> None:
    keys = JWKSUrl(issuer.url, min_refresh_interval=60)
    for _ in range(20):
        assert await keys.get(secrets.token_hex(4)) is None
    assert issuer.requests == 1
    await keys.aclose()


async def test_concurrent_misses_share_one_fetch(issuer: JWKSServer) -> None:
    keys = JWKSUrl(issuer.url)
    found = await asyncio.gather(*(keys.get("test-rsa") for _ in range(20)))
    assert all(key is not None for key in found)
    assert issuer.requests == 1
    await keys.aclose()


async def test_the_last_good_keys_survive_an_issuer_outage(issuer: JWKSServer) -> None:
    keys = JWKSUrl(issuer.url, max_age=0, min_refresh_interval=0)
    assert await keys.get("test-rsa") is not None
    issuer.status = 503
    assert await keys.get("test-rsa") is not None
    assert issuer.requests == 2
    await keys.aclose()


async def test_no_keys_at_all_means_unavailable(issuer: JWKSServer) -> None:
    issuer.status = 500
    keys = JWKSUrl(issuer.url)
    with pytest.raises(KeysUnavailableError):
        await keys.get("test-rsa")
    await keys.aclose()


def test_encryption_keys_and_junk_are_ignored(signing_keys: SigningKeys) -> None:
    encryption = {**public_jwk(signing_keys.rsa_key, "enc-1"), "use": "enc", "alg": "RSA-OAEP"}
    unusable = {"kid": "odd", "kty": "XYZ"}
    keys = parse_jwks({"keys": [encryption, unusable, "junk", public_jwk(signing_keys.ec_key, "test-ec")]})
    assert list(keys) == ["test-ec"]
    with pytest.raises(ValueError, match="not a JWKS document"):
        parse_jwks({"nokeys": []})


async def test_a_missing_jwks_file_means_unavailable(tmp_path: Path) -> None:
    with pytest.raises(KeysUnavailableError):
        await JWKSFile(tmp_path / "absent.json").get("any")


async def get_current_tenant(env: dict[str, str], jwks_url: str, token: str) -> httpx.Response:
    """Ask an app that reads its keys from ``jwks_url`` for the caller's tenant."""
    settings = Settings.from_env({**{k: v for k, v in env.items() if k != "AUTH_JWKS_FILE"}, "AUTH_JWKS_URL": jwks_url})
    async with AsyncTestClient(app=create_app(settings)) as client:
        return await client.get("/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.usefixtures("tenants")
async def test_the_api_verifies_tokens_against_the_jwks_url(
    issuer: JWKSServer, env: dict[str, str], mint: Callable[..., str]
) -> None:
    response = await get_current_tenant(env, issuer.url, mint(roles=["admin"]))
    assert response.status_code == 200


@pytest.mark.usefixtures("tenants")
async def test_an_unreachable_issuer_is_503_not_401(
    issuer: JWKSServer, env: dict[str, str], mint: Callable[..., str]
) -> None:
    issuer.status = 502
    response = await get_current_tenant(env, issuer.url, mint(roles=["admin"]))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "signing keys are unavailable" in response.json()["detail"]


# A verified token is remembered for a minute: the signature is not checked again, the expiry always is.


def verifier_for(keys: JWKSUrl, signing_keys: SigningKeys, *, leeway: int = 0) -> TokenVerifier:
    return TokenVerifier(keys, signing_keys.issuer, signing_keys.audience, leeway_seconds=leeway)


async def test_a_remembered_token_still_expires(
    issuer: JWKSServer, signing_keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = JWKSUrl(issuer.url)
    verifier = verifier_for(keys, signing_keys)
    now = time.time()
    token = signing_keys.mint(exp=int(now) + 5)
    assert (await verifier.verify(token))["sub"] == "user-1"
    monkeypatch.setattr(tokens.time, "time", lambda: now + 6)
    with pytest.raises(InvalidTokenError, match="expired"):
        await verifier.verify(token)
    await keys.aclose()


async def test_a_remembered_token_is_verified_again_after_a_minute(
    issuer: JWKSServer, signing_keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = JWKSUrl(issuer.url, max_age=0, min_refresh_interval=0)
    verifier = verifier_for(keys, signing_keys)
    token = signing_keys.mint()
    await verifier.verify(token)
    issuer.document = {"keys": [public_jwk(signing_keys.ec_key, "test-ec")]}  # the RSA key is withdrawn
    assert (await verifier.verify(token))["sub"] == "user-1"  # within the minute: remembered
    later = time.monotonic() + tokens.VERIFIED_CACHE_SECONDS + 1
    monkeypatch.setattr(tokens.time, "monotonic", lambda: later)
    with pytest.raises(InvalidTokenError, match="unknown key"):
        await verifier.verify(token)
    await keys.aclose()


async def test_only_verified_tokens_are_remembered_and_only_so_many(
    issuer: JWKSServer, signing_keys: SigningKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 3)
    keys = JWKSUrl(issuer.url)
    verifier = verifier_for(keys, signing_keys)
    forged = signing_keys.mint(key=signing_keys.stranger)
    for _ in range(2):
        with pytest.raises(InvalidTokenError, match="does not verify"):
            await verifier.verify(forged)
    minted = [signing_keys.mint(sub=f"user-{index}") for index in range(5)]
    for token in minted:
        await verifier.verify(token)
    assert list(verifier._verified) == minted[2:]  # the oldest went first; the forged one never came in
    await keys.aclose()
