"""Hall employers: CRUD by the hall's admin, search and contract filter, kept when they asked for workers."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hall.conftest import HallStaff
from tests.hall.records import labor_request

pytestmark = pytest.mark.usefixtures("halls")


async def test_an_employer_is_created_read_changed_and_deleted(hall_admin: HallStaff) -> None:
    employer = await hall_admin.employer("Bayside Electric", contract_code="INSIDE")
    assert (employer["name"], employer["contract_code"], employer["created_by"]) == (
        "Bayside Electric",
        "INSIDE",
        "hall-admin",
    )
    assert await hall_admin.call("GET", f"/employers/{employer['id']}", expect=200) == employer
    changed = await hall_admin.call("PATCH", f"/employers/{employer['id']}", {"contract_code": None}, 200)
    assert (changed["name"], changed["contract_code"]) == ("Bayside Electric", None)
    renamed = await hall_admin.call("PATCH", f"/employers/{employer['id']}", {"name": "Bayside Electric Inc."}, 200)
    assert (renamed["name"], renamed["contract_code"]) == ("Bayside Electric Inc.", None)
    await hall_admin.call("DELETE", f"/employers/{employer['id']}", expect=204)
    await hall_admin.call("GET", f"/employers/{employer['id']}", expect=404)


async def test_employers_are_listed_by_name_searched_and_filtered_by_contract(hall_admin: HallStaff) -> None:
    await hall_admin.employer("Rosendin", contract_code="INSIDE")
    await hall_admin.employer("Bayside Electric", contract_code="INSIDE")
    await hall_admin.employer("Freeman Expo")
    await hall_admin.employer("Moscone Sound", contract_code="SOUND")

    async def names(query: str = "") -> list[str]:
        return [e["name"] for e in (await hall_admin.call("GET", f"/employers?{query}", expect=200))["items"]]

    assert await names() == ["Bayside Electric", "Freeman Expo", "Moscone Sound", "Rosendin"]
    assert await names("contract_code=INSIDE") == ["Bayside Electric", "Rosendin"]
    assert await names("contract_code=inside") == []  # a code is exact
    assert await names("q=SOUND") == ["Moscone Sound"]
    assert await names("q=e&contract_code=SOUND") == ["Moscone Sound"]
    page = await hall_admin.call("GET", "/employers?limit=1&offset=3", expect=200)
    assert (page["total"], [e["name"] for e in page["items"]]) == (4, ["Rosendin"])


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": "X" * 201}, {"name": "Acme", "contract_code": ""}, {"name": "Acme", "id": "1"}]
)
async def test_a_bad_employer_is_400(hall_admin: HallStaff, body: dict[str, str]) -> None:
    assert (await hall_admin.call("POST", "/employers", body, 400))["errors"]


async def test_an_employer_who_asked_for_workers_is_kept(hall_admin: HallStaff, session: AsyncSession) -> None:
    employer, book = await hall_admin.employer(), await hall_admin.book()
    await labor_request(session, employer["id"], book["id"])
    problem = await hall_admin.call("DELETE", f"/employers/{employer['id']}", expect=409)
    assert problem["detail"] == "the employer has labor requests or dispatches, which keep the hall's history"
    await hall_admin.call("GET", f"/employers/{employer['id']}", expect=200)
