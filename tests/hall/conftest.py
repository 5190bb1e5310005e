"""Hall test kit: staff and members of demo-hall, an admin of a second hall, and a club's admin at the hall's door."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.tenants.models import TenantKind
from app.tenants.services import TenantService
from tests.api import ApiCaller
from tests.hall.kit import hall  # noqa: F401  (the registrations kit fixture)

Client = AsyncTestClient[Litestar]
API = "/api/v1/hall"


class HallStaff(ApiCaller):
    """Someone of one tenant, with some roles, talking to the hall's API."""

    prefix = API

    async def member(
        self, member_number: str = "A-1001", first_name: str = "Pat", last_name: str = "Nguyen", **extra: Any
    ) -> dict[str, Any]:
        body = {
            "member_number": member_number,
            "first_name": first_name,
            "last_name": last_name,
            "classification": "journeyman",
            **extra,
        }
        created: dict[str, Any] = await self.call("POST", "/members", body, 201)
        return created

    async def employer(self, name: str = "Bayside Electric", **extra: Any) -> dict[str, Any]:
        created: dict[str, Any] = await self.call("POST", "/employers", {"name": name, **extra}, 201)
        return created

    async def book(self, name: str = "Inside Wireperson", code: str = "IW-1", **extra: Any) -> dict[str, Any]:
        body = {
            "name": name,
            "code": code,
            "classification": "inside_wireperson",
            "region": "Bay Area",
            "book_number": 1,
            **extra,
        }
        created: dict[str, Any] = await self.call("POST", "/books", body, 201)
        return created


@pytest.fixture
async def halls(tenants: None, session: AsyncSession) -> None:
    """The demo tenants, a second club, and a second hall."""
    await TenantService(session=session).ensure_tenants((("other-hall", "Other Hiring Hall", TenantKind.HALL),))


@pytest.fixture
def caller(client: Client, mint: Callable[..., str], halls: None) -> Callable[..., HallStaff]:
    """``caller(tenant, *roles, sub=...)``: someone of ``tenant`` with ``roles``."""

    def make(tenant: str, *roles: str, sub: str = "user-1") -> HallStaff:
        token = mint(tenant=tenant, roles=list(roles), sub=sub, email=None)
        return HallStaff(client, {"Authorization": f"Bearer {token}"})

    return make


@pytest.fixture
def hall_admin(caller: Callable[..., HallStaff]) -> HallStaff:
    """An admin of demo-hall (sub ``hall-admin``)."""
    return caller("demo-hall", "admin", sub="hall-admin")


@pytest.fixture
def dispatcher(caller: Callable[..., HallStaff]) -> HallStaff:
    return caller("demo-hall", "dispatcher", sub="hall-dispatcher")


@pytest.fixture
def member(caller: Callable[..., HallStaff]) -> HallStaff:
    """A member of demo-hall with a login."""
    return caller("demo-hall", "member", sub="member-login")


@pytest.fixture
def rival_hall(caller: Callable[..., HallStaff]) -> HallStaff:
    """An admin of other-hall."""
    return caller("other-hall", "admin", sub="rival-admin")


@pytest.fixture
def club_admin(caller: Callable[..., HallStaff]) -> HallStaff:
    """An admin of demo-club, every role included: the hall's routes do not exist for a club."""
    return caller("demo-club", "admin", "dispatcher", "member", sub="club-admin")
