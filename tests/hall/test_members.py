"""Hall members: CRUD by the hall's admin, filters and search, unique numbers and logins, kept history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hall.conftest import HallStaff
from tests.hall.records import registration

pytestmark = pytest.mark.usefixtures("halls")


async def test_a_member_is_created_read_changed_and_deleted(hall_admin: HallStaff) -> None:
    member = await hall_admin.member(email="pat@example.org", phone="+1 555 0142", keycloak_sub="kc-pat")
    assert {key: member[key] for key in ("member_number", "first_name", "last_name", "classification", "status")} == {
        "member_number": "A-1001",
        "first_name": "Pat",
        "last_name": "Nguyen",
        "classification": "journeyman",
        "status": "active",
    }
    assert (member["email"], member["phone"], member["keycloak_sub"]) == ("pat@example.org", "+1 555 0142", "kc-pat")
    assert await hall_admin.call("GET", f"/members/{member['id']}", expect=200) == member
    changed = await hall_admin.call(
        "PATCH", f"/members/{member['id']}", {"status": "retired", "classification": "retiree", "phone": None}, 200
    )
    assert (changed["status"], changed["classification"], changed["phone"]) == ("retired", "retiree", None)
    assert (changed["email"], changed["member_number"]) == ("pat@example.org", "A-1001")  # absent: unchanged
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(member["updated_at"])
    await hall_admin.call("DELETE", f"/members/{member['id']}", expect=204)
    await hall_admin.call("GET", f"/members/{member['id']}", expect=404)


async def test_a_members_rows_name_who_created_and_last_changed_them(hall_admin: HallStaff, caller: Any) -> None:
    member = await hall_admin.member()
    assert (member["created_by"], member["updated_by"]) == ("hall-admin", "hall-admin")
    other_admin = caller("demo-hall", "admin", sub="second-admin")
    changed = await other_admin.call("PATCH", f"/members/{member['id']}", {"first_name": "Patricia"}, 200)
    assert (changed["created_by"], changed["updated_by"]) == ("hall-admin", "second-admin")


async def test_member_numbers_are_unique_in_a_hall(hall_admin: HallStaff, rival_hall: HallStaff) -> None:
    await hall_admin.member("A-1001")
    problem = await hall_admin.call(
        "POST",
        "/members",
        {"member_number": "A-1001", "first_name": "Jo", "last_name": "Kim", "classification": "foreman"},
        409,
    )
    assert problem["detail"] == "a member with this member_number already exists"
    await rival_hall.member("A-1001")  # another hall's numbering is its own
    other = await hall_admin.member("A-1002", "Jo", "Kim")
    renumbered = await hall_admin.call("PATCH", f"/members/{other['id']}", {"member_number": "A-1001"}, 409)
    assert "member_number" in renumbered["detail"]


async def test_a_login_belongs_to_one_member_of_a_hall(hall_admin: HallStaff, rival_hall: HallStaff) -> None:
    await hall_admin.member("A-1001", keycloak_sub="kc-1")
    problem = await hall_admin.call(
        "POST",
        "/members",
        {
            "member_number": "A-1002",
            "first_name": "Jo",
            "last_name": "Kim",
            "classification": "foreman",
            "keycloak_sub": "kc-1",
        },
        409,
    )
    assert "keycloak_sub" in problem["detail"]
    await rival_hall.member("B-1", keycloak_sub="kc-1")
    await hall_admin.member("A-1003", keycloak_sub=None)
    await hall_admin.member("A-1004")  # any number of members without a login


@pytest.mark.parametrize(
    "body",
    [
        {"first_name": "Pat", "last_name": "Nguyen", "classification": "journeyman"},
        {"member_number": "", "first_name": "Pat", "last_name": "Nguyen", "classification": "journeyman"},
        {"member_number": "A" * 21, "first_name": "Pat", "last_name": "Nguyen", "classification": "journeyman"},
        {"member_number": "A-1", "first_name": "Pat", "last_name": "Nguyen", "classification": "wizard"},
        {
            "member_number": "A-1",
            "first_name": "Pat",
            "last_name": "Nguyen",
            "classification": "foreman",
            "status": "away",
        },
        {"member_number": "A-1", "first_name": "Pat\x00", "last_name": "Nguyen", "classification": "foreman"},
        {
            "member_number": "A-1",
            "first_name": "Pat",
            "last_name": "Nguyen",
            "classification": "foreman",
            "email": "pat",
        },
        {"member_number": "A-1", "first_name": "P", "last_name": "N", "classification": "foreman", "created_by": "me"},
    ],
)
async def test_a_bad_member_is_400_naming_the_field_and_nothing_is_created(
    hall_admin: HallStaff, body: dict[str, Any]
) -> None:
    problem = await hall_admin.call("POST", "/members", body, 400)
    assert problem["errors"]
    assert (await hall_admin.call("GET", "/members", expect=200))["total"] == 0


async def test_members_are_listed_by_last_name_first_name_and_number(hall_admin: HallStaff) -> None:
    await hall_admin.member("A-3", "Pat", "Nguyen")
    await hall_admin.member("A-1", "Pat", "Nguyen")
    await hall_admin.member("A-2", "Alex", "Nguyen")
    await hall_admin.member("A-4", "Zed", "Adams")
    page = await hall_admin.call("GET", "/members", expect=200)
    assert [m["member_number"] for m in page["items"]] == ["A-4", "A-2", "A-1", "A-3"]
    second = await hall_admin.call("GET", "/members?limit=2&offset=2", expect=200)
    assert (second["total"], second["limit"], second["offset"]) == (4, 2, 2)
    assert [m["member_number"] for m in second["items"]] == ["A-1", "A-3"]


async def test_members_filter_by_status_and_classification_and_search_number_name_and_email(
    hall_admin: HallStaff,
) -> None:
    await hall_admin.member("A-100", "Pat", "Nguyen", email="pat@bayside.example")
    await hall_admin.member("A-200", "Jo", "Kim", classification="apprentice_3")
    await hall_admin.member("B-300", "Sam", "Patel", status="retired", classification="retiree")
    await hall_admin.member("C_400", "Lee", "100% Jones")

    async def numbers(query: str) -> list[str]:
        return [m["member_number"] for m in (await hall_admin.call("GET", f"/members?{query}", expect=200))["items"]]

    assert await numbers("status=retired") == ["B-300"]
    assert await numbers("classification=apprentice_3") == ["A-200"]
    assert await numbers("status=active&classification=journeyman") == ["C_400", "A-100"]
    assert await numbers("q=pat") == ["A-100", "B-300"]  # first name, last name
    assert await numbers("q=BAYSIDE") == ["A-100"]  # email, any case
    assert await numbers("q=a-") == ["A-200", "A-100"]  # member number
    assert await numbers("q=100%25") == ["C_400"]  # % is literal
    assert await numbers("q=c_") == ["C_400"]  # and so is _
    assert await numbers("q=pat&status=retired") == ["B-300"]
    await hall_admin.call("GET", "/members?status=away", expect=400)
    await hall_admin.call("GET", "/members?q=pat%00", expect=400)


async def test_a_member_who_was_on_a_book_is_kept(hall_admin: HallStaff, session: AsyncSession) -> None:
    member, book = await hall_admin.member(), await hall_admin.book()
    await registration(session, member["id"], book["id"])
    problem = await hall_admin.call("DELETE", f"/members/{member['id']}", expect=409)
    assert problem["detail"].startswith("the member has registrations on a referral book")
    assert "status" in problem["detail"]
    await hall_admin.call("GET", f"/members/{member['id']}", expect=200)
    retired = await hall_admin.call("PATCH", f"/members/{member['id']}", {"status": "inactive"}, 200)
    assert retired["status"] == "inactive"
