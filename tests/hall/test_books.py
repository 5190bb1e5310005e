"""Referral books: CRUD by the hall's admin, the rules as columns with the database's bounds, unique codes,
a contract code that is not the name, and books with history kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hall.conftest import HallStaff
from tests.hall.records import labor_request, registration

pytestmark = pytest.mark.usefixtures("halls")


async def test_a_book_is_created_with_the_default_rules_read_changed_and_deleted(hall_admin: HallStaff) -> None:
    book = await hall_admin.book("Inside Wireperson", "IW-1", contract_code="INSIDE")
    assert {
        key: book[key] for key in ("referral_start_time", "re_sign_days", "grace_period_days", "max_check_marks")
    } == {
        "referral_start_time": "08:00:00",
        "re_sign_days": 30,
        "grace_period_days": 3,
        "max_check_marks": 2,
    }
    assert (book["is_active"], book["internet_bidding_enabled"], book["created_by"]) == (True, False, "hall-admin")
    assert await hall_admin.call("GET", f"/books/{book['id']}", expect=200) == book
    changed = await hall_admin.call(
        "PATCH",
        f"/books/{book['id']}",
        {"re_sign_days": 60, "max_check_marks": 0, "referral_start_time": "07:30:00", "internet_bidding_enabled": True},
        200,
    )
    assert (changed["re_sign_days"], changed["max_check_marks"], changed["referral_start_time"]) == (60, 0, "07:30:00")
    assert (changed["internet_bidding_enabled"], changed["contract_code"], changed["code"]) == (True, "INSIDE", "IW-1")
    await hall_admin.call("DELETE", f"/books/{book['id']}", expect=204)
    await hall_admin.call("GET", f"/books/{book['id']}", expect=404)


async def test_a_books_contract_code_is_optional_and_not_its_name(hall_admin: HallStaff) -> None:
    stockman = await hall_admin.book("Stockman", "STOCK-1", classification="stockperson", contract_code="STOCKPERSON")
    tradeshow = await hall_admin.book("Tradeshow", "TS-1", classification="tradeshow", book_number=2)
    assert (stockman["name"], stockman["contract_code"]) == ("Stockman", "STOCKPERSON")
    assert (tradeshow["contract_code"], tradeshow["book_number"]) == (None, 2)
    cleared = await hall_admin.call("PATCH", f"/books/{stockman['id']}", {"contract_code": None}, 200)
    assert cleared["contract_code"] is None


async def test_book_codes_are_unique_in_a_hall(hall_admin: HallStaff, rival_hall: HallStaff) -> None:
    await hall_admin.book("Inside Wireperson", "IW-1")
    problem = await hall_admin.call(
        "POST",
        "/books",
        {"name": "Other", "code": "IW-1", "classification": "marine", "region": "Bay Area", "book_number": 1},
        409,
    )
    assert problem["detail"] == "a book with this code already exists"
    await rival_hall.book("Inside Wireperson", "IW-1")
    marine = await hall_admin.book("Marine", "MAR-1", classification="marine")
    await hall_admin.call("PATCH", f"/books/{marine['id']}", {"code": "IW-1"}, 409)


@pytest.mark.parametrize(
    ("field", "refused", "allowed"),
    [
        ("book_number", [0, 5], [1, 4]),
        ("re_sign_days", [0, 366], [1, 365]),
        ("grace_period_days", [-1, 91], [0, 90]),
        ("max_check_marks", [-1, 11], [0, 10]),
    ],
)
async def test_a_books_rules_have_the_databases_bounds(
    hall_admin: HallStaff, field: str, refused: list[int], allowed: list[int]
) -> None:
    book = await hall_admin.book()
    for value in refused:
        problem = await hall_admin.call("PATCH", f"/books/{book['id']}", {field: value}, 400)
        assert [error["field"] for error in problem["errors"]] == [field]
        problem = await hall_admin.call(
            "POST",
            "/books",
            {"name": "B", "code": "B", "classification": "marine", "region": "R", "book_number": 1, field: value},
            400,
        )
        assert [error["field"] for error in problem["errors"]] == [field]
    for value in allowed:
        assert (await hall_admin.call("PATCH", f"/books/{book['id']}", {field: value}, 200))[field] == value


@pytest.mark.parametrize(
    "body",
    [
        {"referral_start_time": "8am"},
        {"referral_start_time": "08:00"},
        {"referral_start_time": "08:00:00Z"},
        {"referral_start_time": "25:00:00"},
        {"classification": "inside"},
        {"code": ""},
        {"code": "X" * 21},
        {"name": "Stock\x00man"},
        {"region": None},
        {"is_active": "yes"},
        {"tenant_id": "0b7c6f43-4f51-4a8e-9d0a-5f8b2e1c9a10"},
    ],
)
async def test_a_bad_change_to_a_book_is_400_and_changes_nothing(hall_admin: HallStaff, body: dict[str, Any]) -> None:
    book = await hall_admin.book()
    problem = await hall_admin.call("PATCH", f"/books/{book['id']}", body, 400)
    assert [error["field"] for error in problem["errors"]] == list(body)
    assert await hall_admin.call("GET", f"/books/{book['id']}", expect=200) == book


async def test_books_filter_by_classification_and_activity_and_search_name_and_code(hall_admin: HallStaff) -> None:
    await hall_admin.book("Inside Wireperson", "IW-2", book_number=2)
    await hall_admin.book("Inside Wireperson", "IW-1")
    await hall_admin.book("Stockman", "STOCK-1", classification="stockperson")
    closed = await hall_admin.book("Marine", "MAR-1", classification="marine")
    await hall_admin.call("PATCH", f"/books/{closed['id']}", {"is_active": False}, 200)

    async def codes(query: str = "") -> list[str]:
        return [b["code"] for b in (await hall_admin.call("GET", f"/books?{query}", expect=200))["items"]]

    assert await codes() == ["IW-1", "IW-2", "MAR-1", "STOCK-1"]
    assert await codes("classification=inside_wireperson") == ["IW-1", "IW-2"]
    assert await codes("is_active=false") == ["MAR-1"]
    assert await codes("is_active=true&classification=marine") == []
    assert await codes("q=stock") == ["STOCK-1"]  # name and code
    assert await codes("q=iw-2") == ["IW-2"]  # code, any case
    page = await hall_admin.call("GET", "/books?limit=2&offset=1", expect=200)
    assert (page["total"], [b["code"] for b in page["items"]]) == (4, ["IW-2", "MAR-1"])
    await hall_admin.call("GET", "/books?classification=plumbing", expect=400)
    await hall_admin.call("GET", "/books?is_active=maybe", expect=400)


async def test_a_book_with_registrations_is_kept_and_can_be_closed_instead(
    hall_admin: HallStaff, session: AsyncSession
) -> None:
    book, member = await hall_admin.book(), await hall_admin.member()
    await registration(session, member["id"], book["id"])
    problem = await hall_admin.call("DELETE", f"/books/{book['id']}", expect=409)
    assert problem["detail"].startswith("the book has registrations")
    assert "is_active to false" in problem["detail"]
    closed = await hall_admin.call("PATCH", f"/books/{book['id']}", {"is_active": False}, 200)
    assert closed["is_active"] is False


async def test_a_book_with_labor_requests_is_kept(hall_admin: HallStaff, session: AsyncSession) -> None:
    book, employer = await hall_admin.book(), await hall_admin.employer()
    await labor_request(session, employer["id"], book["id"])
    await hall_admin.call("DELETE", f"/books/{book['id']}", expect=409)
    await hall_admin.call("GET", f"/books/{book['id']}", expect=200)
