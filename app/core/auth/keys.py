"""Where token signing keys come from: a JWKS URL (cached, refreshed) or a JWKS file."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
import structlog

__all__ = ["JWKSFile", "JWKSUrl", "KeySource", "KeysUnavailableError", "parse_jwks"]

logger = structlog.get_logger(__name__)


class KeysUnavailableError(Exception):
    """No signing keys could be loaded at all (the identity provider is unreachable)."""


class KeySource(Protocol):
    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The verification key with this id, or None when the issuer has no such key."""
        ...

    async def aclose(self) -> None: ...


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document by ``kid``; encryption and unusable keys are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document: expected an object with a 'keys' list")  # noqa: TRY004
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not entry.get("kid"):
            continue
        try:
            keys[str(entry["kid"])] = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
    return keys


class JWKSFile:
    """Keys from a local JWKS file, re-read when an unknown ``kid`` arrives and the file has changed."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._keys: dict[str, jwt.PyJWK] = {}
        self._mtime: float | None = None

    def _load_if_changed(self) -> None:
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            raise KeysUnavailableError(f"JWKS file {self._path} does not exist") from None
        if mtime != self._mtime:
            self._keys = parse_jwks(json.loads(self._path.read_text()))
            self._mtime = mtime

    async def get(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys:
            # A stat and a small read: cheap, and only on a cache miss.
            self._load_if_changed()
        return self._keys.get(kid)

    async def aclose(self) -> None:
        return None


class JWKSUrl:
    """Keys from the issuer's JWKS endpoint, fetched without blocking the event loop.

    The set is cached for ``max_age`` seconds. A token with an unknown ``kid``
    triggers a refresh (key rotation), at most once per ``min_refresh_interval``
    so that random ``kid`` values cannot make us hammer the issuer. Concurrent
    requests share one fetch. When a refresh fails the last good keys are kept.
    """

    def __init__(
        self,
        url: str,
        *,
        max_age: float = 600.0,
        min_refresh_interval: float = 10.0,
        timeout: float = 5.0,
    ) -> None:
        self._url = url
        self._max_age = max_age
        self._min_refresh_interval = min_refresh_interval
        self._timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self._client: httpx.AsyncClient | None = None

    async def get(self, kid: str) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > self._max_age
        if stale or kid not in self._keys:
            await self._refresh()
        if not self._keys:
            raise KeysUnavailableError(f"could not load signing keys from {self._url}")
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        attempted_before = self._attempted_at
        async with self._lock:
            if self._attempted_at != attempted_before:
                return  # another request refreshed (or tried to) while we waited
            now = time.monotonic()
            recently = self._attempted_at is not None and now - self._attempted_at < self._min_refresh_interval
            if recently and self._keys:
                return
            self._attempted_at = now
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as error:
                logger.warning("jwks_refresh_failed", url=self._url, error=str(error))
                return
            self._keys = keys
            self._fetched_at = now

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=True)
        response = await self._client.get(self._url, headers={"Accept": "application/json"})
        response.raise_for_status()
        return parse_jwks(response.json())

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
