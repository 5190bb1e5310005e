"""Tenants: the admin's current tenant, idempotent demo data, slug and kind enforced by the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.tenants.models import Tenant, TenantKind
from app.tenants.services import TenantService


@pytest.mark.usefixtures("tenants")
async def test_each_admin_sees_only_their_own_tenant(
    client: AsyncTestClient[Litestar], mint: Callable[..., str]
) -> None:
    seen = {}
    for slug in ("demo-club", "demo-hall", "other-club"):
        response = await client.get(
            "/api/v1/admin/tenants/current", headers={"Authorization": f"Bearer {mint(tenant=slug, roles=['admin'])}"}
        )
        assert response.status_code == 200
        seen[slug] = response.json()
    assert {body["slug"] for body in seen.values()} == {"demo-club", "demo-hall", "other-club"}
    assert seen["demo-hall"]["kind"] == "hall"
    assert len({body["id"] for body in seen.values()}) == 3


async def test_demo_tenants_load_idempotently(session: AsyncSession) -> None:
    service = TenantService(session=session)
    await service.ensure_demo_tenants()
    first = {t.slug: t.id for t in await service.get_many()}
    await service.ensure_demo_tenants()
    second = {t.slug: t.id for t in await service.get_many()}
    assert first == second
    assert set(first) == {"demo-club", "demo-hall"}


async def test_an_existing_slug_keeps_its_name(session: AsyncSession) -> None:
    service = TenantService(session=session)
    await service.ensure_tenants((("lions", "Lions FC", TenantKind.CLUB),))
    await service.ensure_tenants((("lions", "Renamed", TenantKind.HALL),))
    lions = await service.get_by_slug("lions")
    assert lions is not None
    assert (lions.name, lions.kind) == ("Lions FC", TenantKind.CLUB)
    assert await service.get_by_slug("tigers") is None


@pytest.mark.parametrize("slug", ["Upper", "-dash-first", "a", "spaces here", "x" * 64])
async def test_the_database_refuses_a_malformed_slug(session: AsyncSession, slug: str) -> None:
    session.add(Tenant(slug=slug, name="Bad", kind=TenantKind.CLUB))
    with pytest.raises(DBAPIError):  # a CHECK violation, or too long for the column
        await session.commit()
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(Tenant)) == 0


async def test_the_database_refuses_an_unknown_kind(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="ck_tenants_tenant_kind"):
        await session.execute(
            text(
                "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'guild', 'Guild', 'guild', now(), now())"
            )
        )
    await session.rollback()


async def test_slugs_are_unique(session: AsyncSession) -> None:
    session.add(Tenant(slug="twins", name="One", kind=TenantKind.CLUB))
    await session.commit()
    session.add(Tenant(slug="twins", name="Two", kind=TenantKind.HALL))
    with pytest.raises(IntegrityError, match="uq_tenants_slug"):
        await session.commit()
    await session.rollback()
