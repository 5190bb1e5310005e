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


@pytest.mark.usefixtures("tenants")
async def test_an_admin_brands_their_own_tenant_only(
    client: AsyncTestClient[Litestar], mint: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {mint(tenant='demo-club', roles=['admin'])}"}
    url = "/api/v1/admin/tenants/current"
    body = {"brand_color": "#0B6E4F", "logo_url": "https://cdn.example.org/kings.png"}
    changed = await client.patch(url, json=body, headers=headers)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["brand_color"], changed.json()["logo_url"]) == (
        "#0B6E4F",
        "https://cdn.example.org/kings.png",
    )
    assert changed.json()["name"] == "Demo Youth Soccer Club"  # absent: unchanged
    cleared = await client.patch(url, json={"logo_url": None}, headers=headers)
    assert (cleared.json()["brand_color"], cleared.json()["logo_url"]) == ("#0B6E4F", None)
    hall = await client.get(url, headers={"Authorization": f"Bearer {mint(tenant='demo-hall', roles=['admin'])}"})
    assert hall.json()["brand_color"] is None


@pytest.mark.parametrize(
    "body",
    [{"brand_color": "green"}, {"logo_url": "http://insecure.example/logo.png"}, {"slug": "new-slug"}, {"name": ""}],
)
@pytest.mark.usefixtures("tenants")
async def test_a_bad_brand_is_400_and_changes_nothing(
    client: AsyncTestClient[Litestar], mint: Callable[..., str], body: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {mint(tenant='demo-club', roles=['admin'])}"}
    response = await client.patch("/api/v1/admin/tenants/current", json=body, headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    current = (await client.get("/api/v1/admin/tenants/current", headers=headers)).json()
    assert (current["slug"], current["name"], current["brand_color"]) == ("demo-club", "Demo Youth Soccer Club", None)


async def test_the_database_refuses_a_malformed_brand_colour(session: AsyncSession) -> None:
    await TenantService(session=session).ensure_demo_tenants()
    with pytest.raises(IntegrityError):
        await session.execute(text("UPDATE tenants SET brand_color = 'red' WHERE slug = 'demo-club'"))
    await session.rollback()


async def test_the_database_refuses_a_groupme_token_that_cannot_travel_in_a_header(session: AsyncSession) -> None:
    await TenantService(session=session).ensure_demo_tenants()
    with pytest.raises(IntegrityError):
        await session.execute(text("UPDATE tenants SET groupme_access_token = 'a b' WHERE slug = 'demo-club'"))
    await session.rollback()


async def test_a_failed_statement_never_carries_its_parameters_into_the_error(session: AsyncSession) -> None:
    # Errors are logged with their trace: a GroupMe token, a contract token or an email must not ride along.
    await TenantService(session=session).ensure_demo_tenants()
    with pytest.raises(DBAPIError) as failed:
        await session.execute(
            text("UPDATE tenants SET groupme_access_token = :token, brand_color = 'red' WHERE slug = 'demo-club'"),
            {"token": "secret-gm-token-0042"},
        )
    await session.rollback()
    assert "secret-gm-token-0042" not in str(failed.value)


@pytest.mark.usefixtures("tenants")
async def test_a_tenant_is_in_los_angeles_until_its_admin_moves_it_to_another_iana_zone(
    client: AsyncTestClient[Litestar], mint: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {mint(tenant='demo-hall', roles=['admin'])}"}
    url = "/api/v1/admin/tenants/current"
    assert (await client.get(url, headers=headers)).json()["timezone"] == "America/Los_Angeles"
    moved = await client.patch(url, json={"timezone": "America/Argentina/Buenos_Aires"}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["timezone"], moved.json()["name"]) == (
        "America/Argentina/Buenos_Aires",
        "Demo Union Hiring Hall",
    )
    assert (await client.get(url, headers=headers)).json()["timezone"] == "America/Argentina/Buenos_Aires"
    renamed = await client.patch(url, json={"name": "Local 6 Hiring Hall"}, headers=headers)
    assert renamed.json()["timezone"] == "America/Argentina/Buenos_Aires"  # absent: unchanged


@pytest.mark.parametrize(
    ("timezone", "status"),
    [
        ("Mars/Olympus_Mons", 422),  # the shape of a name, but no such zone
        ("localtime", 422),  # the server's own zone, not a place
        ("america/los_angeles", 422),  # names are case-sensitive
        ("PST 8", 400),
        ("", 400),
        (None, 400),
        ("Europe/" + "X" * 60, 400),
    ],
)
@pytest.mark.usefixtures("tenants")
async def test_a_timezone_that_is_not_an_iana_name_is_refused_naming_the_field(
    client: AsyncTestClient[Litestar], mint: Callable[..., str], timezone: str | None, status: int
) -> None:
    headers = {"Authorization": f"Bearer {mint(tenant='demo-hall', roles=['admin'])}"}
    url = "/api/v1/admin/tenants/current"
    response = await client.patch(url, json={"timezone": timezone, "name": "Renamed"}, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    if status == 400:
        assert [error["field"] for error in problem["errors"]] == ["timezone"]
    else:
        assert problem["detail"].startswith(f"timezone {timezone} is not an IANA time zone name")
    current = (await client.get(url, headers=headers)).json()
    assert (current["timezone"], current["name"]) == ("America/Los_Angeles", "Demo Union Hiring Hall")
