"""Rule 7 (labor requests) against the real database: numbers by the hall's day, the 15:00 cut-off, short calls,
rule 5's check marks, rule 8's bidding window (also across DST changes), editing, cancelling, the daily expiry,
the event in the request's transaction, and the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import RuleViolationError, StateConflictError
from app.hall.clock import HallClock
from app.hall.dispatch.daily import expire_requests
from app.hall.models import (
    BidStatus,
    DispatchStatus,
    JobBid,
    LaborRequest,
    LaborRequestStatus,
    NoCheckMarkReason,
)
from app.hall.registrations.daily import run_daily
from tests.api import ApiCaller
from tests.hall.conftest import HallStaff
from tests.hall.kit import HallKit

Caller = Callable[..., HallStaff]
LA = ZoneInfo("America/Los_Angeles")


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall time of the demo hall (Los Angeles)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LA)


TAKEN = la(2026, 12, 3, 10)  # a Thursday morning
START = date(2026, 12, 7)  # the Monday after


async def bidding_book(hall: HallKit) -> UUID:
    return await hall.book(internet_bidding_enabled=True)


async def on_the_book(hall: HallKit, book: UUID, *, now: datetime = TAKEN) -> UUID:
    """A member registered on ``book``; the registration's id."""
    return (await hall.register(book, await hall.member(), now)).id


async def count(hall: HallKit, table: str) -> int:
    return int((await hall.sql(f"SELECT count(*) AS n FROM {table}"))[0].n)  # noqa: S608  (a fixed name)


async def row(hall: HallKit, model: type[Any], id_: UUID) -> Any:
    async with hall.session_maker() as session:
        found = await session.get(model, id_)
        assert found is not None
        return found


# -- the request number ------------------------------------------------------------------------------------


async def test_a_request_is_numbered_by_the_halls_day_not_the_utc_day(hall: HallKit) -> None:
    book = await hall.book()
    late = datetime(2026, 12, 4, 7, 30, tzinfo=UTC)  # 23:30 on 2026-12-03 in Los Angeles
    request = await hall.request(book, late)
    assert request.request_number == "REQ20261203-0001"
    assert request.received_at == late
    assert request.status == LaborRequestStatus.OPEN
    assert request.workers_dispatched == 0


async def test_the_numbers_count_per_day_of_the_hall(hall: HallKit) -> None:
    book = await hall.book()
    first = await hall.request(book, la(2026, 12, 3, 8))
    second = await hall.request(book, la(2026, 12, 3, 23, 59, 59))
    next_day = await hall.request(book, la(2026, 12, 4, 0, 0, 0))
    third = await hall.request(book, la(2026, 12, 3, 12))  # a late entry for the 3rd still counts on
    assert [r.request_number for r in (first, second, next_day, third)] == [
        "REQ20261203-0001",
        "REQ20261203-0002",
        "REQ20261204-0001",
        "REQ20261203-0003",
    ]


async def test_requests_taken_at_once_get_distinct_consecutive_numbers(hall: HallKit) -> None:
    book = await hall.book()
    employer = await hall.employer()
    made = await asyncio.gather(*(hall.request(book, TAKEN, employer_id=employer) for _ in range(10)))
    assert sorted(r.request_number for r in made) == [f"REQ20261203-{k:04d}" for k in range(1, 11)]
    assert await count(hall, "labor_requests") == 10


# -- the 15:00 cut-off -------------------------------------------------------------------------------------


async def test_a_request_before_15_00_counts_from_that_day(hall: HallKit) -> None:
    book = await hall.book()
    received = la(2026, 12, 3, 14, 59, 59)
    assert HallClock(hall.timezone).counts_from(received) == date(2026, 12, 3)
    request = await hall.request(book, received, start_date=date(2026, 12, 3))
    assert request.start_date == date(2026, 12, 3)


async def test_a_request_after_15_00_counts_from_the_next_working_day(hall: HallKit) -> None:
    book = await hall.book()
    received = la(2026, 12, 3, 15, 30)
    assert HallClock(hall.timezone).counts_from(received) == date(2026, 12, 4)
    with pytest.raises(
        RuleViolationError,
        match=r"^rule 7: a request received 2026-12-03 at 15:30 counts from 2026-12-04; it cannot start on 2026-12-03$",
    ):
        await hall.request(book, received, start_date=date(2026, 12, 3))
    assert await count(hall, "labor_requests") == 0
    request = await hall.request(book, received, start_date=date(2026, 12, 4))
    assert request.request_number == "REQ20261203-0001"  # numbered by the day it came in


async def test_a_request_on_a_friday_afternoon_counts_from_monday(hall: HallKit) -> None:
    book = await hall.book()
    friday = la(2026, 12, 4, 16)
    assert HallClock(hall.timezone).counts_from(friday) == date(2026, 12, 7)
    for saturday_or_sunday in (date(2026, 12, 5), date(2026, 12, 6)):
        with pytest.raises(RuleViolationError, match=r"^rule 7: .* counts from 2026-12-07; it cannot start on"):
            await hall.request(book, friday, start_date=saturday_or_sunday)
    request = await hall.request(book, friday, start_date=date(2026, 12, 7))
    assert request.request_number == "REQ20261204-0001"


# -- short calls and rule 5's check marks ------------------------------------------------------------------


@pytest.mark.parametrize(("days", "short"), [(10, True), (11, False)])
async def test_ten_working_days_or_fewer_make_a_short_call(hall: HallKit, days: int, short: bool) -> None:
    request = await hall.request(await hall.book(), TAKEN, estimated_duration_days=days)
    assert request.is_short_call is short
    assert request.generates_check_mark is not short
    assert request.no_check_mark_reason == (NoCheckMarkReason.SHORT_CALL if short else None)


async def test_a_request_starting_at_06_00_gives_check_marks(hall: HallKit) -> None:
    request = await hall.request(await hall.book(), TAKEN, start_time=time(6, 0), estimated_duration_days=11)
    assert (request.generates_check_mark, request.no_check_mark_reason) == (True, None)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"estimated_duration_days": 10}, NoCheckMarkReason.SHORT_CALL),
        ({"start_time": time(5, 59)}, NoCheckMarkReason.EARLY_START),
        ({"is_specialty": True}, NoCheckMarkReason.SPECIALTY),
        ({"is_mou_jobsite": True}, NoCheckMarkReason.MOU_JOBSITE),
        ({"is_under_scale": True}, NoCheckMarkReason.UNDER_SCALE),
    ],
    ids=["short_call", "early_start", "specialty", "mou_jobsite", "under_scale"],
)
async def test_each_no_check_mark_reason_turns_check_marks_off(
    hall: HallKit, values: dict[str, Any], reason: NoCheckMarkReason
) -> None:
    request = await hall.request(await hall.book(), TAKEN, **values)
    assert (request.generates_check_mark, request.no_check_mark_reason) == (False, reason)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (
            {"estimated_duration_days": 3, "start_time": time(5, 0), "is_specialty": True, "is_under_scale": True},
            NoCheckMarkReason.SHORT_CALL,
        ),
        ({"start_time": time(5, 0), "is_specialty": True, "is_mou_jobsite": True}, NoCheckMarkReason.EARLY_START),
        ({"is_specialty": True, "is_mou_jobsite": True, "is_under_scale": True}, NoCheckMarkReason.SPECIALTY),
        ({"is_mou_jobsite": True, "is_under_scale": True}, NoCheckMarkReason.MOU_JOBSITE),
    ],
)
async def test_the_first_reason_that_applies_is_the_one_stored(
    hall: HallKit, values: dict[str, Any], reason: NoCheckMarkReason
) -> None:
    request = await hall.request(await hall.book(), TAKEN, **values)
    assert (request.generates_check_mark, request.no_check_mark_reason) == (False, reason)


# -- rule 8's bidding window -------------------------------------------------------------------------------


async def test_the_bidding_window_runs_from_17_30_the_day_before_to_07_00_on_the_start_date(hall: HallKit) -> None:
    request = await hall.request(await bidding_book(hall), TAKEN, allows_online_bidding=True)
    assert request.bidding_opens_at == la(2026, 12, 6, 17, 30) == datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
    assert request.bidding_closes_at == la(2026, 12, 7, 7) == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


async def test_a_request_without_online_bidding_has_no_window(hall: HallKit) -> None:
    request = await hall.request(await bidding_book(hall), TAKEN)
    assert (request.allows_online_bidding, request.bidding_opens_at, request.bidding_closes_at) == (False, None, None)


@pytest.mark.parametrize(
    ("start", "opens", "closes"),
    [
        # the clocks go back at 02:00 on 2026-11-01: 17:30 the day before is still daylight time, 07:00 is not
        (date(2026, 11, 1), datetime(2026, 11, 1, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 15, 0, tzinfo=UTC)),
        (date(2026, 11, 2), datetime(2026, 11, 2, 1, 30, tzinfo=UTC), datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
        # they go forward at 02:00 on 2027-03-14
        (date(2027, 3, 14), datetime(2027, 3, 14, 1, 30, tzinfo=UTC), datetime(2027, 3, 14, 14, 0, tzinfo=UTC)),
        (date(2027, 3, 15), datetime(2027, 3, 15, 0, 30, tzinfo=UTC), datetime(2027, 3, 15, 14, 0, tzinfo=UTC)),
    ],
)
async def test_the_bidding_window_keeps_to_the_wall_clock_across_a_dst_change(
    hall: HallKit, start: date, opens: datetime, closes: datetime
) -> None:
    request = await hall.request(
        await bidding_book(hall), la(2026, 10, 28, 10), start_date=start, allows_online_bidding=True
    )
    assert request.bidding_opens_at == opens
    assert request.bidding_closes_at == closes
    assert request.bidding_opens_at is not None
    assert request.bidding_closes_at is not None
    assert request.bidding_opens_at.astimezone(LA).timetz().replace(tzinfo=None) == time(17, 30)
    assert request.bidding_closes_at.astimezone(LA).timetz().replace(tzinfo=None) == time(7, 0)


async def test_online_bidding_on_a_book_without_it_is_refused_by_rule_8(hall: HallKit) -> None:
    book = await hall.book()
    with pytest.raises(RuleViolationError, match=r"^rule 8: book IW1 does not take online bids$"):
        await hall.request(book, TAKEN, allows_online_bidding=True)
    assert await count(hall, "labor_requests") == 0
    assert await hall.events("labor_request.created") == []


# -- editing ---------------------------------------------------------------------------------------------


async def test_an_edit_derives_the_flags_again(hall: HallKit) -> None:
    book = await bidding_book(hall)
    request = await hall.request(book, TAKEN)
    assert (request.is_short_call, request.generates_check_mark, request.bidding_opens_at) == (False, True, None)
    changes = {"estimated_duration_days": 5, "allows_online_bidding": True, "start_date": date(2026, 12, 8)}
    edited = await hall.requests("edit", request.id, changes, now=la(2026, 12, 3, 11))
    assert (edited.is_short_call, edited.generates_check_mark, edited.no_check_mark_reason) == (
        True,
        False,
        NoCheckMarkReason.SHORT_CALL,
    )
    assert (edited.bidding_opens_at, edited.bidding_closes_at) == (la(2026, 12, 7, 17, 30), la(2026, 12, 8, 7))
    back = await hall.requests(
        "edit", request.id, {"estimated_duration_days": 30, "allows_online_bidding": False}, now=la(2026, 12, 3, 12)
    )
    assert (back.is_short_call, back.generates_check_mark, back.no_check_mark_reason) == (False, True, None)
    assert (back.bidding_opens_at, back.bidding_closes_at) == (None, None)
    assert back.request_number == request.request_number


async def test_an_edit_is_held_to_rules_7_and_8(hall: HallKit) -> None:
    plain = await hall.book("IW2")
    request = await hall.request(plain, la(2026, 12, 3, 16))  # counts from 2026-12-04
    with pytest.raises(RuleViolationError, match=r"^rule 7: .* counts from 2026-12-04; it cannot start on 2026-12-03"):
        await hall.requests("edit", request.id, {"start_date": date(2026, 12, 3)}, now=la(2026, 12, 3, 17))
    with pytest.raises(RuleViolationError, match=r"^rule 8: book IW2 does not take online bids"):
        await hall.requests("edit", request.id, {"allows_online_bidding": True}, now=la(2026, 12, 3, 17))
    unchanged = await row(hall, LaborRequest, request.id)
    assert (unchanged.start_date, unchanged.allows_online_bidding) == (START, False)


async def test_only_an_open_request_is_editable(hall: HallKit) -> None:
    book = await hall.book()
    await on_the_book(hall, book)
    request = await hall.request(book, TAKEN, workers_requested=2)
    await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    assert (await row(hall, LaborRequest, request.id)).status == LaborRequestStatus.PARTIALLY_FILLED
    with pytest.raises(
        StateConflictError,
        match=rf"^rule 7: only open requests are editable; {request.request_number} is partially_filled$",
    ):
        await hall.requests("edit", request.id, {"workers_requested": 3}, now=la(2026, 12, 4, 7))
    assert (await row(hall, LaborRequest, request.id)).workers_requested == 2


# -- cancelling ------------------------------------------------------------------------------------------


async def test_cancelling_an_open_request_expires_its_pending_bids(hall: HallKit) -> None:
    book = await bidding_book(hall)
    request = await hall.request(book, TAKEN, allows_online_bidding=True)
    bidder = await hall.member()
    await hall.register(book, bidder, TAKEN)
    bid = await hall.dispatching("bid", request.id, bidder, now=la(2026, 12, 6, 18))
    cancelled = await hall.requests("cancel", request.id, reason="job postponed", now=la(2026, 12, 6, 19))
    assert cancelled.status == LaborRequestStatus.CANCELLED
    assert cancelled.notes == "cancelled by dispatcher-1: job postponed"
    expired = await row(hall, JobBid, bid.id)
    assert (expired.status, expired.rejection_reason) == (BidStatus.EXPIRED, "the request was cancelled")


async def test_cancelling_a_partially_filled_request_leaves_its_dispatches_standing(hall: HallKit) -> None:
    book = await hall.book()
    await on_the_book(hall, book)
    request = await hall.request(book, TAKEN, workers_requested=2)
    dispatch = await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    cancelled = await hall.requests("cancel", request.id, reason="one is enough", now=la(2026, 12, 4, 9))
    assert (cancelled.status, cancelled.workers_dispatched) == (LaborRequestStatus.CANCELLED, 1)
    rows = await hall.sql("SELECT status FROM dispatches WHERE id = :d", d=dispatch.id)
    assert [r.status for r in rows] == [DispatchStatus.DISPATCHED.value]


async def test_a_request_is_cancelled_once(hall: HallKit) -> None:
    request = await hall.request(await hall.book(), TAKEN)
    await hall.requests("cancel", request.id, reason="postponed", now=la(2026, 12, 3, 11))
    with pytest.raises(
        StateConflictError,
        match=rf"^rule 7: only open or partially filled requests are cancelled; {request.request_number} is cancelled$",
    ):
        await hall.requests("cancel", request.id, reason="again", now=la(2026, 12, 3, 12))
    assert (await row(hall, LaborRequest, request.id)).notes == "cancelled by dispatcher-1: postponed"


async def test_a_filled_request_is_not_cancelled(hall: HallKit) -> None:
    book = await hall.book()
    await on_the_book(hall, book)
    request = await hall.request(book, TAKEN)
    await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    with pytest.raises(StateConflictError, match=r"is filled$"):
        await hall.requests("cancel", request.id, reason="too late", now=la(2026, 12, 4, 7))


# -- the daily expiry ------------------------------------------------------------------------------------


async def test_the_daily_run_expires_open_requests_after_their_start_date_not_on_it(hall: HallKit) -> None:
    book = await bidding_book(hall)
    await on_the_book(hall, book)
    await on_the_book(hall, book)
    bidder = await hall.member()
    await hall.register(book, bidder, TAKEN)
    open_ = await hall.request(book, TAKEN, allows_online_bidding=True)
    partly = await hall.request(book, TAKEN, workers_requested=2)
    filled = await hall.request(book, TAKEN)
    later = await hall.request(book, TAKEN, start_date=date(2026, 12, 8))
    await hall.dispatching("morning_referral", partly.id, expected=None, now=la(2026, 12, 4, 6))
    await hall.dispatching("morning_referral", filled.id, expected=None, now=la(2026, 12, 4, 6))
    bid = await hall.dispatching("bid", open_.id, bidder, now=la(2026, 12, 6, 18))
    system = hall.actor(sub="system")

    assert await expire_requests(hall.session_maker, system, START) == 0  # the start date itself
    assert await expire_requests(hall.session_maker, system, START + timedelta(days=1)) == 2

    async def status(request: LaborRequest) -> LaborRequestStatus:
        return LaborRequestStatus((await row(hall, LaborRequest, request.id)).status)

    assert [await status(r) for r in (open_, partly, filled, later)] == [
        LaborRequestStatus.EXPIRED,
        LaborRequestStatus.EXPIRED,
        LaborRequestStatus.FILLED,
        LaborRequestStatus.OPEN,
    ]
    expired_bid = await row(hall, JobBid, bid.id)
    assert (expired_bid.status, expired_bid.rejection_reason) == (BidStatus.EXPIRED, "the request expired")
    assert (await row(hall, LaborRequest, open_.id)).updated_by == "system"
    assert await expire_requests(hall.session_maker, system, START + timedelta(days=1)) == 0  # again: nothing


async def test_the_daily_run_expires_by_the_halls_day(hall: HallKit) -> None:
    request = await hall.request(await hall.book(), TAKEN)
    last_minute = datetime(2026, 12, 8, 7, 59, 59, tzinfo=UTC)  # 23:59:59 on the start date in Los Angeles
    assert (await run_daily(hall.session_maker, now=last_minute)).requests_expired == 0
    assert (await row(hall, LaborRequest, request.id)).status == LaborRequestStatus.OPEN
    report = await run_daily(hall.session_maker, now=last_minute + timedelta(seconds=1))
    assert report.requests_expired == 1
    assert (await row(hall, LaborRequest, request.id)).status == LaborRequestStatus.EXPIRED


# -- the event ---------------------------------------------------------------------------------------------


async def test_labor_request_created_is_written_in_the_requests_transaction(hall: HallKit) -> None:
    book = await bidding_book(hall)
    request = await hall.request(book, TAKEN, allows_online_bidding=True, estimated_duration_days=4)
    events = await hall.events("labor_request.created")
    assert len(events) == 1
    event = events[0]
    assert event["aggregate_id"] == str(request.id)
    assert event["labor_request_id"] == str(request.id)
    assert event["request_number"] == "REQ20261203-0001"
    assert event["book_id"] == str(book)
    assert (event["start_date"], event["workers_requested"]) == ("2026-12-07", 1)
    assert (event["is_short_call"], event["generates_check_mark"], event["allows_online_bidding"]) == (
        True,
        False,
        True,
    )
    # rows written by one transaction carry its id
    same = await hall.sql(
        "SELECT (SELECT xmin::text FROM labor_requests WHERE id = :r) = "
        "(SELECT xmin::text FROM outbox_events WHERE aggregate_id = :a) AS same",
        r=request.id,
        a=str(request.id),
    )
    assert same[0].same is True
    with pytest.raises(RuleViolationError):
        await hall.request(book, la(2026, 12, 6, 16), start_date=date(2026, 12, 6))
    assert len(await hall.events("labor_request.created")) == 1  # a refusal leaves no event


# -- the API ---------------------------------------------------------------------------------------------


def hall_today() -> date:
    return datetime.now(UTC).astimezone(LA).date()


async def test_a_dispatcher_takes_a_request_over_the_api(dispatcher: HallStaff, hall: HallKit) -> None:
    book, employer = await bidding_book(hall), await hall.employer()
    today = hall_today()
    start = today + timedelta(days=14)
    body = {
        "employer_id": str(employer),
        "book_id": str(book),
        "workers_requested": 2,
        "start_date": start.isoformat(),
        "start_time": "05:30:00",
        "estimated_duration_days": 30,
        "allows_online_bidding": True,
        "wage_rate": "62.50",
        "worksite_name": "Mission Bay Block 9",
    }
    made = await dispatcher.call("POST", "/labor-requests", body, 201)
    assert made["request_number"] == f"REQ{today:%Y%m%d}-0001"
    assert made["status"] == "open"
    assert (made["workers_requested"], made["workers_dispatched"]) == (2, 0)
    assert (made["is_short_call"], made["generates_check_mark"], made["no_check_mark_reason"]) == (
        False,
        False,
        "early_start",
    )
    received = datetime.fromisoformat(made["received_at"])
    assert made["counts_from"] == HallClock(hall.timezone).counts_from(received).isoformat()
    assert datetime.fromisoformat(made["bidding_opens_at"]) == datetime.combine(
        start - timedelta(days=1), time(17, 30), LA
    )
    assert datetime.fromisoformat(made["bidding_closes_at"]) == datetime.combine(start, time(7, 0), LA)
    assert (made["wage_rate"], made["contract_code"], made["worksite_name"]) == ("62.50", None, "Mission Bay Block 9")
    again = await dispatcher.call("GET", f"/labor-requests/{made['id']}", expect=200)
    assert again == made
    events = await hall.events("labor_request.created")
    assert [event["request_number"] for event in events] == [made["request_number"]]


def request_body(book: UUID, employer: UUID, *, start_in_days: int) -> dict[str, Any]:
    """An API body for one worker, 20 working days, starting 07:00 ``start_in_days`` after the hall's today."""
    return {
        "employer_id": str(employer),
        "book_id": str(book),
        "workers_requested": 1,
        "start_date": (hall_today() + timedelta(days=start_in_days)).isoformat(),
        "start_time": "07:00:00",
        "estimated_duration_days": 20,
    }


async def test_a_refused_request_is_a_422_problem_that_names_its_rule(dispatcher: HallStaff, hall: HallKit) -> None:
    plain, employer = await hall.book(), await hall.employer()
    body = request_body(plain, employer, start_in_days=-1)
    late = await dispatcher.call("POST", "/labor-requests", body, 422)
    assert late["detail"].startswith("rule 7: a request received ")
    assert "it cannot start on" in late["detail"]
    body["start_date"] = (hall_today() + timedelta(days=7)).isoformat()
    no_bids = await dispatcher.call("POST", "/labor-requests", {**body, "allows_online_bidding": True}, 422)
    assert no_bids["detail"] == "rule 8: book IW1 does not take online bids"
    assert await count(hall, "labor_requests") == 0


async def test_a_member_cannot_take_edit_or_cancel_a_request(caller: Caller, hall: HallKit) -> None:
    await hall.member(sub="kc-ana")
    ana = caller("demo-hall", "member", sub="kc-ana")
    book, employer = await hall.book(), await hall.employer()
    body = request_body(book, employer, start_in_days=7)
    await ana.call("POST", "/labor-requests", body, 403)
    request = await hall.request(book, TAKEN)
    await ana.call("PATCH", f"/labor-requests/{request.id}", {"workers_requested": 2}, 403)
    await ana.call("POST", f"/labor-requests/{request.id}/cancel", {"reason": "no"}, 403)
    assert await count(hall, "labor_requests") == 1


async def test_editing_a_filled_in_part_or_cancelled_request_is_a_409(dispatcher: HallStaff, hall: HallKit) -> None:
    book = await hall.book()
    await on_the_book(hall, book)
    request = await hall.request(book, TAKEN, workers_requested=2)
    edited = await dispatcher.call("PATCH", f"/labor-requests/{request.id}", {"workers_requested": 3}, 200)
    assert edited["workers_requested"] == 3
    await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    refused = await dispatcher.call("PATCH", f"/labor-requests/{request.id}", {"workers_requested": 4}, 409)
    assert refused["detail"] == f"rule 7: only open requests are editable; {request.request_number} is partially_filled"
    path = f"/labor-requests/{request.id}/cancel"
    cancelled = await dispatcher.call("POST", path, {"reason": "postponed"}, 200)
    assert cancelled["status"] == "cancelled"
    twice = await dispatcher.call("POST", path, {"reason": "postponed"}, 409)
    assert twice["detail"].startswith("rule 7: only open or partially filled requests are cancelled")


async def test_a_new_time_zone_holds_from_the_next_request_to_the_process_that_took_it(
    caller: Caller, hall: HallKit
) -> None:
    """Kiritimati (UTC+14) and Pago Pago (UTC-11) are never on the same day: each request's number shows the day
    in the zone set just before it, not one the tenant cache remembered."""
    admin = caller("demo-hall", "admin", "dispatcher", sub="hall-admin")
    book, employer = await hall.book(), await hall.employer()
    body = request_body(book, employer, start_in_days=30)
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        await ApiCaller(admin.client, admin.headers).call(
            "PATCH", "/api/v1/admin/tenants/current", {"timezone": zone}, 200
        )
        made = await admin.call("POST", "/labor-requests", body, 201)
        assert made["request_number"] == f"REQ{datetime.now(ZoneInfo(zone)):%Y%m%d}-0001"
