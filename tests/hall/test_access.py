"""Who reaches the hall's master data: hall staff read, the hall's admin writes, another hall finds nothing, a
club finds no hall at all, and nobody gets in without a token."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.hall.conftest import API, HallStaff

pytestmark = pytest.mark.usefixtures("halls")

NOBODY = "0b7c6f43-4f51-4a8e-9d0a-5f8b2e1c9a10"
BODIES: dict[str, dict[str, Any]] = {
    "members": {"member_number": "A-9", "first_name": "Jo", "last_name": "Kim", "classification": "foreman"},
    "employers": {"name": "Acme Electric"},
    "books": {"name": "Marine", "code": "MAR-1", "classification": "marine", "region": "Bay Area", "book_number": 1},
}


async def seeded(hall_admin: HallStaff) -> dict[str, str]:
    """One row of each resource in demo-hall; their ids by resource."""
    return {
        "members": (await hall_admin.member())["id"],
        "employers": (await hall_admin.employer())["id"],
        "books": (await hall_admin.book())["id"],
    }


async def test_a_dispatcher_reads_the_master_data_but_cannot_change_it(
    hall_admin: HallStaff, dispatcher: HallStaff
) -> None:
    ids = await seeded(hall_admin)
    for resource, row_id in ids.items():
        assert (await dispatcher.call("GET", f"/{resource}", expect=200))["total"] == 1
        assert (await dispatcher.call("GET", f"/{resource}/{row_id}", expect=200))["id"] == row_id
        for method, path, body in (
            ("POST", f"/{resource}", BODIES[resource]),
            ("PATCH", f"/{resource}/{row_id}", {}),
            ("DELETE", f"/{resource}/{row_id}", None),
        ):
            problem = await dispatcher.call(method, path, body, 403)
            assert problem["detail"] == "requires role admin"
        assert (await hall_admin.call("GET", f"/{resource}", expect=200))["total"] == 1


async def test_a_member_login_cannot_read_or_change_the_master_data(hall_admin: HallStaff, member: HallStaff) -> None:
    ids = await seeded(hall_admin)
    for resource, row_id in ids.items():
        await member.call("GET", f"/{resource}", expect=403)
        await member.call("GET", f"/{resource}/{row_id}", expect=403)
        await member.call("POST", f"/{resource}", BODIES[resource], 403)
        await member.call("PATCH", f"/{resource}/{row_id}", {}, 403)
        await member.call("DELETE", f"/{resource}/{row_id}", expect=403)


async def test_another_halls_rows_are_not_found(hall_admin: HallStaff, rival_hall: HallStaff) -> None:
    ids = await seeded(hall_admin)
    for resource, row_id in ids.items():
        assert (await rival_hall.call("GET", f"/{resource}", expect=200))["total"] == 0
        problem = await rival_hall.call("GET", f"/{resource}/{row_id}", expect=404)
        assert row_id in problem["detail"]
        await rival_hall.call("PATCH", f"/{resource}/{row_id}", {}, 404)
        await rival_hall.call("DELETE", f"/{resource}/{row_id}", expect=404)
        await hall_admin.call("GET", f"/{resource}/{row_id}", expect=200)  # untouched


async def test_an_unknown_id_is_not_found(hall_admin: HallStaff) -> None:
    for resource in BODIES:
        await hall_admin.call("GET", f"/{resource}/{NOBODY}", expect=404)
        await hall_admin.call("PATCH", f"/{resource}/{NOBODY}", {}, 404)
        await hall_admin.call("DELETE", f"/{resource}/{NOBODY}", expect=404)


async def test_a_clubs_admin_finds_no_hall_routes(hall_admin: HallStaff, club_admin: HallStaff) -> None:
    ids = await seeded(hall_admin)
    for resource, row_id in ids.items():
        for method, path, body in (
            ("GET", f"/{resource}", None),
            ("GET", f"/{resource}?limit=1", None),
            ("POST", f"/{resource}", BODIES[resource]),
            ("POST", f"/{resource}", {"not": "even valid"}),
            ("GET", f"/{resource}/{row_id}", None),
            ("PATCH", f"/{resource}/{row_id}", {"name": "Taken over"}),
            ("DELETE", f"/{resource}/{row_id}", None),
        ):
            problem = await club_admin.call(method, path, body, 404)
            assert problem["status"] == 404, f"{method} {path}"
        assert (await hall_admin.call("GET", f"/{resource}", expect=200))["total"] == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/members"),
        ("POST", "/members"),
        ("GET", f"/members/{NOBODY}"),
        ("PATCH", f"/employers/{NOBODY}"),
        ("DELETE", f"/books/{NOBODY}"),
    ],
)
async def test_without_a_token_it_is_401(client: AsyncTestClient[Litestar], method: str, path: str) -> None:
    response = await client.request(method, f"{API}{path}", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
