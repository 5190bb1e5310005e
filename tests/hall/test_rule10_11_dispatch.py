"""Rules 10 and 11: dispatch by morning referral, skips, by name and emergency, check-in, no-shows, termination."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import RuleViolationError, StateConflictError
from app.hall.clock import HallClock
from app.hall.dispatch.daily import mark_no_shows
from app.hall.models import (
    ActivityAction,
    Dispatch,
    DispatchMethod,
    DispatchStatus,
    DispatchType,
    LaborRequest,
    LaborRequestStatus,
    RegistrationStatus,
    RollOffReason,
    TermReason,
)
from tests.hall.kit import HallKit

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # Thursday 10:00 in Los Angeles
START = date(2026, 12, 7)  # the Monday after
ON_START = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)  # Monday 10:00 there


async def queue(hall: HallKit, size: int, **book: object) -> tuple[UUID, list[UUID]]:
    """A book with ``size`` registrants, in queue order."""
    book_id = await hall.book(**book)
    registrations = [
        (await hall.register(book_id, await hall.member(), NOW + timedelta(seconds=index))).id for index in range(size)
    ]
    return book_id, registrations


async def referral(hall: HallKit, request: LaborRequest, *, at: datetime = NOW, expected: UUID | None = None) -> Any:
    return await hall.dispatching("morning_referral", request.id, expected=expected, now=at)


async def request_row(hall: HallKit, request_id: UUID) -> LaborRequest:
    async with hall.session_maker() as session:
        found = await session.get(LaborRequest, request_id)
        assert found is not None
        return found


# -- rule 10: morning referral ---------------------------------------------------------------------------


async def test_a_morning_referral_sends_the_first_on_the_list_and_traces_it(hall: HallKit) -> None:
    book, (first, second) = await queue(hall, 2)
    request = await hall.request(book, NOW, workers_requested=2)
    dispatch = await referral(hall, request)

    assert dispatch.registration_id == first
    assert dispatch.method == DispatchMethod.MORNING_REFERRAL
    assert dispatch.type == DispatchType.NORMAL
    assert dispatch.check_in_deadline is None
    assert (await hall.registration(first)).status == RegistrationStatus.DISPATCHED
    assert (await hall.registration(second)).status == RegistrationStatus.REGISTERED
    changed = await request_row(hall, request.id)
    assert (changed.workers_dispatched, changed.status) == (1, LaborRequestStatus.PARTIALLY_FILLED)
    last = (await hall.activities(first))[-1]
    assert (last.action, last.previous_status, last.new_status) == (
        ActivityAction.DISPATCHED,
        RegistrationStatus.REGISTERED,
        RegistrationStatus.DISPATCHED,
    )
    assert (last.previous_position, last.new_position) == (1, None)
    assert (last.labor_request_id, last.dispatch_id) == (request.id, dispatch.id)
    [event] = await hall.events("dispatch.created")
    assert event["dispatch_id"] == str(dispatch.id)
    assert event["position"] == 1
    assert event["method"] == "morning_referral"


async def test_the_last_place_fills_the_request_and_then_nobody_more_is_sent(hall: HallKit) -> None:
    book, registrations = await queue(hall, 3)
    request = await hall.request(book, NOW, workers_requested=2)
    await referral(hall, request)
    await referral(hall, request)
    assert (await request_row(hall, request.id)).status == LaborRequestStatus.FILLED
    with pytest.raises(StateConflictError, match=r"rule 10: .* is filled"):
        await referral(hall, request)
    assert (await hall.registration(registrations[2])).status == RegistrationStatus.REGISTERED


async def test_a_list_with_nobody_eligible_is_a_conflict(hall: HallKit) -> None:
    book = await hall.book()
    request = await hall.request(book, NOW)
    with pytest.raises(StateConflictError, match="rule 10: nobody on book IW1"):
        await referral(hall, request)


async def test_the_dispatcher_s_expected_registrant_must_still_be_next(hall: HallKit) -> None:
    book, (first, second) = await queue(hall, 2)
    request = await hall.request(book, NOW)
    with pytest.raises(StateConflictError, match=r"rule 10: the next eligible registrant .* position 1"):
        await referral(hall, request, expected=second)
    assert (await hall.registration(first)).status == RegistrationStatus.REGISTERED
    assert (await hall.registration(second)).status == RegistrationStatus.REGISTERED
    assert (await referral(hall, request, expected=first)).registration_id == first


async def test_a_request_received_after_15_00_is_filled_from_the_next_working_day(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    friday_afternoon = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # Friday 15:30 in Los Angeles
    request = await hall.request(book, friday_afternoon)
    with pytest.raises(RuleViolationError, match=r"rule 7: .* filled from 2026-12-07"):
        await referral(hall, request, at=friday_afternoon + timedelta(hours=1))
    assert (await referral(hall, request, at=ON_START)).registration_id == first


async def test_a_member_who_is_not_active_is_passed_over_with_the_reason_recorded(hall: HallKit) -> None:
    book, (first, second) = await queue(hall, 2)
    await hall.sql(
        "UPDATE members SET status = 'suspended' WHERE id = (SELECT member_id FROM book_registrations WHERE id = :r)",
        r=first,
    )
    request = await hall.request(book, NOW)
    assert (await referral(hall, request)).registration_id == second
    skipped = (await hall.activities(first))[-1]
    assert skipped.action == ActivityAction.REFERRAL_SKIPPED
    assert skipped.labor_request_id == request.id
    assert skipped.reason == "the member is suspended (not dispatchable)"
    assert (skipped.previous_position, skipped.new_position) == (1, 1)


# -- rule 10: skips --------------------------------------------------------------------------------------


async def test_a_skip_is_recorded_gives_a_check_mark_and_the_referral_passes_over_it(hall: HallKit) -> None:
    book, (first, second) = await queue(hall, 2)
    request = await hall.request(book, NOW)
    outcome = await hall.dispatching("skip", request.id, first, reason="declined by phone", now=NOW)

    assert (outcome.position, outcome.check_mark) == (1, True)
    marked = await hall.registration(first)
    assert (marked.check_marks, marked.last_check_mark_on) == (1, date(2026, 12, 3))
    actions = [row.action for row in await hall.activities(first)]
    assert actions[-2:] == [ActivityAction.REFERRAL_SKIPPED, ActivityAction.CHECK_MARK]
    assert (await referral(hall, request)).registration_id == second


async def test_a_skip_for_a_request_that_gives_no_check_marks_gives_none(hall: HallKit) -> None:
    book, (first, _) = await queue(hall, 2)
    short_call = await hall.request(book, NOW, estimated_duration_days=5)
    outcome = await hall.dispatching("skip", short_call.id, first, reason="declined", now=NOW)
    assert outcome.check_mark is False
    assert (await hall.registration(first)).check_marks == 0


async def test_a_second_skip_on_one_day_gives_no_second_mark(hall: HallKit) -> None:
    book, (first, _) = await queue(hall, 2)
    one, two = await hall.request(book, NOW), await hall.request(book, NOW)
    await hall.dispatching("skip", one.id, first, reason="declined", now=NOW)
    outcome = await hall.dispatching("skip", two.id, first, reason="declined again", now=NOW + timedelta(hours=1))
    assert outcome.check_mark is False
    assert (await hall.registration(first)).check_marks == 1


async def test_the_mark_a_skip_gives_can_roll_the_registrant_off(hall: HallKit) -> None:
    book, (first, _) = await queue(hall, 2, max_check_marks=0)
    request = await hall.request(book, NOW)
    outcome = await hall.dispatching("skip", request.id, first, reason="no answer", now=NOW)
    assert outcome.registration.status == RegistrationStatus.ROLLED_OFF
    assert outcome.registration.roll_off_reason == RollOffReason.CHECK_MARKS


async def test_a_registrant_is_passed_over_once_per_request(hall: HallKit) -> None:
    book, (first, _) = await queue(hall, 2)
    request = await hall.request(book, NOW)
    await hall.dispatching("skip", request.id, first, reason="declined", now=NOW)
    with pytest.raises(StateConflictError, match="rule 10: the registrant was already passed over"):
        await hall.dispatching("skip", request.id, first, reason="again", now=NOW)


async def test_only_a_registrant_on_the_request_s_list_is_passed_over(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    other_book = await hall.book("IW2")
    other = await hall.register(other_book, await hall.member(), NOW)
    request = await hall.request(book, NOW)
    with pytest.raises(RuleViolationError, match="rule 10: the registration is not on book IW1"):
        await hall.dispatching("skip", request.id, other.id, reason="x", now=NOW)
    await referral(hall, request)
    with pytest.raises(StateConflictError, match=r"rule 10: .* is filled"):
        await hall.dispatching("skip", request.id, first, reason="x", now=NOW)


# -- rule 10: by name and emergency ----------------------------------------------------------------------


async def test_a_by_name_dispatch_sends_the_named_registrant_with_the_reason(hall: HallKit) -> None:
    book, registrations = await queue(hall, 3)
    request = await hall.request(book, NOW)
    dispatch = await hall.dispatching(
        "named", request.id, registrations[2], method=DispatchMethod.BY_NAME, reason="foreman asked for her", now=NOW
    )
    assert (dispatch.registration_id, dispatch.method, dispatch.reason) == (
        registrations[2],
        DispatchMethod.BY_NAME,
        "foreman asked for her",
    )
    traced = (await hall.activities(registrations[2]))[-1]
    assert traced.previous_position == 3
    assert traced.reason == f"by_name to {request.request_number}: foreman asked for her"


async def test_an_emergency_dispatch_is_of_the_emergency_type(hall: HallKit) -> None:
    book, registrations = await queue(hall, 2)
    request = await hall.request(book, NOW)
    dispatch = await hall.dispatching(
        "named", request.id, registrations[1], method=DispatchMethod.EMERGENCY, reason="storm damage", now=NOW
    )
    assert dispatch.type == DispatchType.EMERGENCY


async def test_a_named_registrant_must_be_waiting_on_the_list(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    request = await hall.request(book, NOW, workers_requested=2)
    await referral(hall, request)
    with pytest.raises(StateConflictError, match="rule 10: the registration is dispatched"):
        await hall.dispatching("named", request.id, first, method=DispatchMethod.BY_NAME, reason="x", now=NOW)


async def test_by_name_from_an_employer_the_member_quit_is_blocked_for_14_days(hall: HallKit) -> None:
    book = await hall.book()
    member = await hall.member()
    employer = await hall.employer("Bright Electric")
    first = await hall.register(book, member, NOW)
    job = await hall.request(book, NOW, employer_id=employer, start_date=date(2026, 12, 3))
    dispatch = await referral(hall, job)
    await hall.dispatching(
        "terminate", dispatch.id, reason=TermReason.QUIT, end_date=None, days_worked=None, note=None,
        member_id=None, now=NOW,
    )  # fmt: skip
    assert (await hall.registration(first.id)).roll_off_reason == RollOffReason.QUIT
    again = await hall.register(book, member, NOW + timedelta(minutes=5))
    later = await hall.request(book, NOW, employer_id=employer)
    day_13 = NOW + timedelta(days=13)
    with pytest.raises(RuleViolationError, match=r"rule 11: .* until 2026-12-17"):
        await hall.dispatching("named", later.id, again.id, method=DispatchMethod.BY_NAME, reason="asked", now=day_13)
    other_employer = await hall.request(book, NOW, employer_id=await hall.employer("Other Co"))
    sent = await hall.dispatching(
        "named", other_employer.id, again.id, method=DispatchMethod.BY_NAME, reason="asked", now=day_13
    )
    assert sent.registration_id == again.id


async def test_by_name_is_allowed_again_on_the_14th_day(hall: HallKit) -> None:
    book = await hall.book()
    member = await hall.member()
    employer = await hall.employer()
    await hall.register(book, member, NOW)
    dispatch = await referral(hall, await hall.request(book, NOW, employer_id=employer, start_date=date(2026, 12, 3)))
    await hall.dispatching(
        "terminate", dispatch.id, reason=TermReason.FIRED, end_date=None, days_worked=None, note=None,
        member_id=None, now=NOW,
    )  # fmt: skip
    again = await hall.register(book, member, NOW + timedelta(minutes=5))
    later = await hall.request(book, NOW, employer_id=employer, start_date=date(2026, 12, 21))
    day_14 = NOW + timedelta(days=14)
    sent = await hall.dispatching("named", later.id, again.id, method=DispatchMethod.BY_NAME, reason="ok", now=day_14)
    assert sent.method == DispatchMethod.BY_NAME


# -- rule 10: check-in and no-shows ----------------------------------------------------------------------


async def bid_dispatch(hall: HallKit, *, start: date = START) -> tuple[UUID, Any]:
    """A member's internet dispatch: bid in the window, processed at 07:00 on the start day."""
    book = await hall.book(internet_bidding_enabled=True)
    member = await hall.member()
    registration = await hall.register(book, member, NOW)
    request = await hall.request(book, NOW, start_date=start, allows_online_bidding=True)
    evening_before = datetime(start.year, start.month, start.day, 3, 0, tzinfo=UTC)  # 19:00 the day before in LA
    await hall.dispatching("bid", request.id, member, now=evening_before)
    at_seven = datetime(start.year, start.month, start.day, 15, 0, tzinfo=UTC)
    outcome = await hall.dispatching("process_bids", request.id, reason=None, now=at_seven)
    [bid] = outcome.accepted
    async with hall.session_maker() as session:
        dispatch = await session.get(Dispatch, bid.dispatch_id)
    return registration.id, dispatch


async def test_an_internet_dispatch_checks_in_by_15_00_on_the_start_date(hall: HallKit) -> None:
    _, dispatch = await bid_dispatch(hall)
    assert dispatch.check_in_deadline == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 15:00 in Los Angeles
    late = dispatch.check_in_deadline + timedelta(seconds=1)
    with pytest.raises(StateConflictError, match="rule 10: check-in closed at 15:00 on 2026-12-07"):
        await hall.dispatching("check_in", dispatch.id, member_id=None, note=None, now=late)
    checked = await hall.dispatching(
        "check_in", dispatch.id, member_id=None, note="at the gate", now=late - timedelta(minutes=1)
    )
    assert checked.status == DispatchStatus.CHECKED_IN
    with pytest.raises(StateConflictError, match="rule 10: the dispatch is checked_in"):
        await hall.dispatching("check_in", dispatch.id, member_id=None, note=None, now=late)


async def test_the_check_in_deadline_is_15_00_in_the_hall_after_the_clocks_change(hall: HallKit) -> None:
    _, summer = await bid_dispatch(hall, start=date(2027, 3, 15))  # the day after daylight saving time begins
    assert summer.check_in_deadline == datetime(2027, 3, 15, 22, 0, tzinfo=UTC)  # 15:00 PDT


async def test_a_no_show_is_treated_as_a_quit(hall: HallKit) -> None:
    registration_id, dispatch = await bid_dispatch(hall)
    other_book = await hall.book("IW9")
    member_id = (await hall.registration(registration_id)).member_id
    elsewhere = await hall.register(other_book, member_id, NOW)
    before = dispatch.check_in_deadline
    assert await mark_no_shows(hall.session_maker, hall.actor(sub="system"), before) == 0
    assert await mark_no_shows(hall.session_maker, hall.actor(sub="system"), before + timedelta(minutes=1)) == 1
    assert await mark_no_shows(hall.session_maker, hall.actor(sub="system"), before + timedelta(minutes=2)) == 0

    rows = await hall.sql("SELECT status, end_date, days_worked FROM dispatches WHERE id = :d", d=dispatch.id)
    assert tuple(rows[0]) == ("no_show", date(2026, 12, 7), 0)
    for registration in (registration_id, elsewhere.id):
        rolled = await hall.registration(registration)
        assert (rolled.status, rolled.roll_off_reason) == (RegistrationStatus.ROLLED_OFF, RollOffReason.QUIT)
    request = await request_row(hall, dispatch.labor_request_id)
    assert (request.workers_dispatched, request.status) == (0, LaborRequestStatus.OPEN)
    [terminated] = await hall.events("dispatch.terminated")
    assert (terminated["no_show"], terminated["reason"]) == (True, None)


# -- rule 11: termination --------------------------------------------------------------------------------


async def terminate(hall: HallKit, dispatch_id: UUID, reason: TermReason, **values: object) -> Any:
    values.setdefault("end_date", None)
    values.setdefault("days_worked", None)
    return await hall.dispatching(
        "terminate", dispatch_id, reason=reason, note=values.pop("note", None), member_id=None,
        now=values.pop("now", ON_START + timedelta(days=14)), **values,
    )  # fmt: skip


async def test_a_quit_rolls_the_member_off_every_book(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    member = (await hall.registration(first)).member_id
    other = await hall.register(await hall.book("IW2"), member, NOW)
    dispatch = await referral(hall, await hall.request(book, NOW))
    ended = await terminate(hall, dispatch.id, TermReason.QUIT, note="left the site")

    assert (ended.status, ended.term_reason, ended.end_date) == (
        DispatchStatus.TERMINATED,
        TermReason.QUIT,
        date(2026, 12, 21),
    )
    assert ended.days_worked == 11  # 7 to 21 December, weekdays
    for registration in (first, other.id):
        rolled = await hall.registration(registration)
        assert (rolled.status, rolled.roll_off_reason) == (RegistrationStatus.ROLLED_OFF, RollOffReason.QUIT)
    rolled_off = await hall.events("registration.rolled_off")
    assert {event["registration_id"] for event in rolled_off} == {str(first), str(other.id)}
    [event] = await hall.events("dispatch.terminated")
    assert (event["reason"], event["days_worked"]) == ("quit", 11)


async def test_fired_rolls_off_as_discharged(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    dispatch = await referral(hall, await hall.request(book, NOW))
    await terminate(hall, dispatch.id, TermReason.FIRED)
    assert (await hall.registration(first)).roll_off_reason == RollOffReason.DISCHARGED


async def test_the_end_of_a_short_call_restores_the_registration_with_its_apn(hall: HallKit) -> None:
    book, (first, second) = await queue(hall, 2)
    apn = (await hall.registration(first)).applicant_priority_number
    dispatch = await referral(hall, await hall.request(book, NOW, estimated_duration_days=10))
    assert dispatch.type == DispatchType.SHORT_CALL
    await terminate(hall, dispatch.id, TermReason.SHORT_CALL_END, end_date=date(2026, 12, 11))

    restored = await hall.registration(first)
    assert (restored.status, restored.applicant_priority_number) == (RegistrationStatus.REGISTERED, apn)
    assert restored.short_call_restorations == 1
    last = (await hall.activities(first))[-1]
    assert (last.action, last.new_position, last.dispatch_id) == (ActivityAction.RESTORED, 1, dispatch.id)
    assert "restoration 1 of 2" in (last.reason or "")
    assert (await hall.registration(second)).status == RegistrationStatus.REGISTERED


async def test_a_stint_of_three_days_or_fewer_does_not_count_as_a_restoration(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    dispatch = await referral(hall, await hall.request(book, NOW, estimated_duration_days=3))
    await terminate(hall, dispatch.id, TermReason.SHORT_CALL_END, end_date=date(2026, 12, 9))  # Mon to Wed: 3 days
    restored = await hall.registration(first)
    assert (restored.status, restored.short_call_restorations) == (RegistrationStatus.REGISTERED, 0)


async def test_the_third_counted_short_call_closes_the_registration(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    for _ in range(2):
        dispatch = await referral(hall, await hall.request(book, NOW, estimated_duration_days=5))
        await terminate(hall, dispatch.id, TermReason.SHORT_CALL_END, days_worked=4)
    assert (await hall.registration(first)).short_call_restorations == 2
    dispatch = await referral(hall, await hall.request(book, NOW, estimated_duration_days=5))
    await terminate(hall, dispatch.id, TermReason.SHORT_CALL_END, days_worked=4)
    closed = await hall.registration(first)
    assert closed.status == RegistrationStatus.RESIGNED
    assert (await hall.activities(first))[-1].action == ActivityAction.CLOSED


async def test_short_call_end_ends_only_a_short_call(hall: HallKit) -> None:
    book, _ = await queue(hall, 1)
    dispatch = await referral(hall, await hall.request(book, NOW))
    with pytest.raises(RuleViolationError, match="rule 11: short_call_end ends a short call"):
        await terminate(hall, dispatch.id, TermReason.SHORT_CALL_END)


@pytest.mark.parametrize("reason", [TermReason.RIF, TermReason.LAID_OFF, TermReason.CONTRACT_END])
async def test_other_endings_close_the_registration(hall: HallKit, reason: TermReason) -> None:
    book, (first,) = await queue(hall, 1)
    member = (await hall.registration(first)).member_id
    other = await hall.register(await hall.book("IW2"), member, NOW)
    dispatch = await referral(hall, await hall.request(book, NOW))
    await terminate(hall, dispatch.id, reason)
    closed = await hall.registration(first)
    assert closed.status == RegistrationStatus.RESIGNED
    assert closed.roll_off_reason is None
    assert (await hall.registration(other.id)).status == RegistrationStatus.REGISTERED
    assert await hall.events("registration.rolled_off") == []


async def test_a_dispatch_ends_once_between_its_start_and_today(hall: HallKit) -> None:
    book, _ = await queue(hall, 1)
    dispatch = await referral(hall, await hall.request(book, NOW))
    with pytest.raises(RuleViolationError, match="rule 11: a dispatch ends on or after its start date"):
        await terminate(hall, dispatch.id, TermReason.RIF, end_date=date(2026, 12, 4))
    with pytest.raises(RuleViolationError, match="rule 11: the end date 2026-12-22 is after today"):
        await terminate(hall, dispatch.id, TermReason.RIF, end_date=date(2026, 12, 22))
    await terminate(hall, dispatch.id, TermReason.RIF)
    with pytest.raises(StateConflictError, match="rule 11: the dispatch is already terminated"):
        await terminate(hall, dispatch.id, TermReason.QUIT)


async def test_a_job_quit_before_its_first_day_ends_on_it_unworked(hall: HallKit) -> None:
    book, (first,) = await queue(hall, 1)
    dispatch = await referral(hall, await hall.request(book, NOW))
    ended = await terminate(hall, dispatch.id, TermReason.QUIT, now=NOW + timedelta(hours=2))
    assert (ended.end_date, ended.days_worked) == (START, 0)
    assert (await hall.registration(first)).roll_off_reason == RollOffReason.QUIT


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Auckland"])
async def test_the_database_counts_a_request_from_the_same_day_as_the_clock(hall: HallKit, zone: str) -> None:
    """The morning referral checks rule 7 in the database (``hall_counts_from``); it must agree with
    ``HallClock.counts_from`` before and after 15:00, on every weekday, and on the days the clocks change."""
    local = ZoneInfo(zone)
    days = [date(2026, 12, 3) + timedelta(days=offset) for offset in range(7)]
    days += [date(2026, 11, 1), date(2027, 3, 14), date(2026, 4, 5), date(2026, 9, 27)]
    instants = [
        datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=local).astimezone(UTC)
        for day in days
        for hour, minute, second in ((0, 0, 0), (14, 59, 59), (15, 0, 0), (23, 59, 59))
    ]
    clock = HallClock(zone)
    for instant in instants:
        [row] = await hall.sql("SELECT hall_counts_from(:at, :zone) AS day", at=instant, zone=zone)
        assert row.day == clock.counts_from(instant), instant
