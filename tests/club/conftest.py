"""Club test kit: an admin of demo-club and one of a rival club."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api import ApiCaller

Client = AsyncTestClient[Litestar]
API = "/api/v1/admin"


class ClubAdmin(ApiCaller):
    """An admin of one club talking to the API."""

    prefix = API

    async def team(self, name: str = "U12 Kings Elite", season: str = "2026-27", **extra: Any) -> dict[str, Any]:
        created: dict[str, Any] = await self.call("POST", "/teams", {"name": name, "season": season, **extra}, 201)
        return created

    async def parent(self, email: str = "dana@example.org", name: str = "Dana Rivera") -> dict[str, Any]:
        created: dict[str, Any] = await self.call("POST", "/parents", {"name": name, "email": email}, 201)
        return created

    async def player(self, name: str = "Sam Rivera", **extra: Any) -> dict[str, Any]:
        created: dict[str, Any] = await self.call("POST", "/players", {"name": name, **extra}, 201)
        return created


@pytest.fixture
def club(client: Client, mint: Callable[..., str]) -> ClubAdmin:
    return ClubAdmin(client, {"Authorization": f"Bearer {mint(tenant='demo-club', roles=['admin'])}"})


@pytest.fixture
def rival(client: Client, mint: Callable[..., str]) -> ClubAdmin:
    return ClubAdmin(client, {"Authorization": f"Bearer {mint(tenant='other-club', roles=['admin'])}"})
