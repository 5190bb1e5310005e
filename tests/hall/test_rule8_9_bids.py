"""Rules 8 and 9 against the real database: online bids and their window in the hall's time, who may bid,
processing in queue order into dispatches (also twice at once), and a rejection after acceptance with its
roll-off and, the second time within 12 months, a year's bidding suspension. Then the API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError
from app.hall.dispatch.daily import expire_requests
from app.hall.dispatch.rules import BidsOutcome
from app.hall.models import (
    ActivityAction,
    BiddingSuspension,
    BidStatus,
    BookRegistration,
    Dispatch,
    DispatchMethod,
    DispatchStatus,
    ExemptReason,
    JobBid,
    LaborRequest,
    LaborRequestStatus,
    RegistrationStatus,
    RollOffReason,
    TermReason,
)
from tests.hall.conftest import HallStaff
from tests.hall.kit import HallKit

Caller = Callable[..., HallStaff]
LA = ZoneInfo("America/Los_Angeles")


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A wall time of the demo hall (Los Angeles)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=LA)


TAKEN = la(2026, 12, 3, 10)  # the request comes in on a Thursday morning
START = date(2026, 12, 7)  # for the Monday after
EVENING = la(2026, 12, 6, 20)  # bidding is open
CLOSES = la(2026, 12, 7, 7)


async def bidding_book(hall: HallKit, code: str = "IW1") -> UUID:
    return await hall.book(code, internet_bidding_enabled=True)


async def registrant(hall: HallKit, book: UUID, *, sub: str | None = None, now: datetime = TAKEN) -> tuple[UUID, UUID]:
    """A new member registered on ``book``: (member, registration)."""
    member = await hall.member(sub=sub)
    return member, (await hall.register(book, member, now)).id


async def biddable(hall: HallKit, book: UUID, *, workers: int = 1, **values: Any) -> LaborRequest:
    return await hall.request(book, TAKEN, workers_requested=workers, allows_online_bidding=True, **values)


async def row(hall: HallKit, model: type[Any], id_: UUID) -> Any:
    async with hall.session_maker() as session:
        found = await session.get(model, id_)
        assert found is not None
        return found


async def bids_of(hall: HallKit, request_id: UUID) -> list[JobBid]:
    rows = await hall.sql("SELECT id FROM job_bids WHERE labor_request_id = :r ORDER BY submitted_at", r=request_id)
    return [await row(hall, JobBid, r.id) for r in rows]


async def suspensions(hall: HallKit, member: UUID) -> list[tuple[date, date]]:
    rows = await hall.sql(
        "SELECT starts_on, ends_on FROM bidding_suspensions WHERE member_id = :m ORDER BY starts_on", m=member
    )
    return [(r.starts_on, r.ends_on) for r in rows]


# -- rule 8: the window --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at", [la(2026, 12, 6, 17, 30), la(2026, 12, 6, 23, 59, 59), la(2026, 12, 7, 6, 59, 59)], ids=str
)
async def test_a_bid_inside_the_window_is_taken(hall: HallKit, at: datetime) -> None:
    book = await bidding_book(hall)
    await registrant(hall, book)
    member, registration = await registrant(hall, book)
    request = await biddable(hall, book)
    bid = await hall.dispatching("bid", request.id, member, now=at)
    assert (bid.status, bid.submitted_at, bid.queue_position_at_bid) == (BidStatus.PENDING, at, 2)
    assert (bid.member_id, bid.registration_id, bid.dispatch_id) == (member, registration, None)


@pytest.mark.parametrize(
    ("at", "why"),
    [
        (la(2026, 12, 6, 17, 29, 59), "opens at 17:30 on 2026-12-06"),
        (la(2026, 12, 7, 7, 0), "closed at 07:00 on 2026-12-07"),
        (la(2026, 12, 6, 12), "opens at 17:30 on 2026-12-06"),
        (la(2026, 12, 7, 12), "closed at 07:00 on 2026-12-07"),
    ],
    ids=["17:29:59", "07:00", "the day before at noon", "the start date at noon"],
)
async def test_a_bid_outside_the_window_is_refused(hall: HallKit, at: datetime, why: str) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    with pytest.raises(RuleViolationError, match=rf"^rule 8: bidding on {request.request_number} {why}$"):
        await hall.dispatching("bid", request.id, member, now=at)
    assert await bids_of(hall, request.id) == []


async def test_a_request_without_online_bidding_takes_no_bids(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await hall.request(book, TAKEN)
    with pytest.raises(RuleViolationError, match=rf"^rule 8: {request.request_number} takes no online bids$"):
        await hall.dispatching("bid", request.id, member, now=EVENING)


async def test_a_filled_request_takes_no_bids(hall: HallKit) -> None:
    book = await bidding_book(hall)
    await registrant(hall, book)  # first on the list: the morning referral sends them
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    with pytest.raises(StateConflictError, match=rf"^rule 8: {request.request_number} is filled$"):
        await hall.dispatching("bid", request.id, member, now=EVENING)


async def test_a_cancelled_request_takes_no_bids(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    await hall.requests("cancel", request.id, reason="postponed", now=la(2026, 12, 4, 9))
    with pytest.raises(StateConflictError, match=rf"^rule 8: {request.request_number} is cancelled$"):
        await hall.dispatching("bid", request.id, member, now=EVENING)


async def test_a_partially_filled_request_still_takes_bids(hall: HallKit) -> None:
    book = await bidding_book(hall)
    await registrant(hall, book)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book, workers=2)
    await hall.dispatching("morning_referral", request.id, expected=None, now=la(2026, 12, 4, 6))
    bid = await hall.dispatching("bid", request.id, member, now=EVENING)
    assert (bid.status, bid.queue_position_at_bid) == (BidStatus.PENDING, 1)


# -- rule 8: who may bid -------------------------------------------------------------------------------------


async def test_a_member_not_registered_on_the_book_may_not_bid(hall: HallKit) -> None:
    book, other = await bidding_book(hall), await bidding_book(hall, "IW2")
    elsewhere, _ = await registrant(hall, other)
    nowhere = await hall.member()
    request = await biddable(hall, book)
    for member in (elsewhere, nowhere):
        with pytest.raises(RuleViolationError, match=r"^rule 8: only members registered on book IW1 may bid$"):
            await hall.dispatching("bid", request.id, member, now=EVENING)


async def test_an_exempt_registrant_may_not_bid(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, registration = await registrant(hall, book)
    await hall.call(
        "exempt", registration, reason=ExemptReason.JURY_DUTY, start=None, end=date(2026, 12, 18), note=None, now=TAKEN
    )
    request = await biddable(hall, book)
    with pytest.raises(
        RuleViolationError,
        match=r"^rule 8: only members registered on book IW1 may bid \(the registration is exempt\)$",
    ):
        await hall.dispatching("bid", request.id, member, now=EVENING)


async def test_a_second_active_bid_is_a_conflict(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    first = await hall.dispatching("bid", request.id, member, now=EVENING)
    with pytest.raises(
        StateConflictError,
        match=rf"^rule 8: one active bid per member per request; you already bid on {request.request_number}$",
    ):
        await hall.dispatching("bid", request.id, member, now=EVENING + timedelta(minutes=5))
    assert [bid.id for bid in await bids_of(hall, request.id)] == [first.id]


async def test_a_withdrawn_bid_makes_room_for_a_new_one(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    first = await hall.dispatching("bid", request.id, member, now=EVENING)
    withdrawn = await hall.dispatching("withdraw", request.id, member, now=EVENING + timedelta(minutes=5))
    assert (withdrawn.id, withdrawn.status) == (first.id, BidStatus.WITHDRAWN)
    again = await hall.dispatching("bid", request.id, member, now=EVENING + timedelta(minutes=10))
    assert again.id != first.id
    assert [bid.status for bid in await bids_of(hall, request.id)] == [BidStatus.WITHDRAWN, BidStatus.PENDING]
    with pytest.raises(ResourceNotFoundError):  # nothing of someone else's to withdraw
        await hall.dispatching("withdraw", request.id, await hall.member(), now=EVENING)


async def test_a_member_whose_bidding_is_suspended_may_not_bid_until_it_ends(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    await hall.sql(
        "INSERT INTO bidding_suspensions (tenant_id, member_id, starts_on, ends_on, reason, created_by, updated_by)"
        " VALUES (:t, :m, '2025-12-07', '2026-12-06', 'rule 9: rejection 2 within 12 months', 'x', 'x')",
        t=hall.tenant_id,
        m=member,
    )
    with pytest.raises(
        RuleViolationError, match=r"^rule 8: bidding is suspended until 2026-12-06 \(rule 9\)$"
    ) as refused:
        await hall.dispatching("bid", request.id, member, now=la(2026, 12, 6, 23, 59, 59))
    assert "rule 9" in str(refused.value)
    bid = await hall.dispatching("bid", request.id, member, now=la(2026, 12, 7, 0, 0))  # the suspension is over
    assert bid.status == BidStatus.PENDING


async def test_a_suspended_member_may_not_bid(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    await hall.sql("UPDATE members SET status = 'suspended' WHERE id = :m", m=member)
    request = await biddable(hall, book)
    with pytest.raises(RuleViolationError, match=r"^rule 8: member M00001 is suspended$"):
        await hall.dispatching("bid", request.id, member, now=EVENING)


# -- rule 8: processing ----------------------------------------------------------------------------------


async def test_processing_accepts_bids_in_apn_order_up_to_the_open_places(hall: HallKit) -> None:
    book = await bidding_book(hall)
    people = [await registrant(hall, book) for _ in range(3)]  # APNs .01, .02, .03
    request = await biddable(hall, book, workers=2)
    for minute, (member, _) in enumerate(reversed(people)):  # the last on the list bids first
        await hall.dispatching("bid", request.id, member, now=EVENING + timedelta(minutes=minute))
    outcome: BidsOutcome = await hall.dispatching("process_bids", request.id, reason=None, now=CLOSES)

    assert [bid.member_id for bid in outcome.accepted] == [people[0][0], people[1][0]]
    assert [bid.queue_position_at_bid for bid in outcome.accepted] == [1, 2]
    assert [bid.member_id for bid in outcome.rejected] == [people[2][0]]
    assert outcome.rejected[0].status == BidStatus.REJECTED
    assert outcome.rejected[0].rejection_reason == "rule 8: the 2 places went to bids ahead in the queue"
    assert outcome.rejected[0].rejected_by_member is False
    filled = await row(hall, LaborRequest, request.id)
    assert (filled.status, filled.workers_dispatched) == (LaborRequestStatus.FILLED, 2)

    for bid in outcome.accepted:
        stored = await row(hall, JobBid, bid.id)
        assert stored.status == BidStatus.ACCEPTED
        assert stored.dispatch_id is not None
        dispatch = await row(hall, Dispatch, stored.dispatch_id)
        assert (dispatch.bid_id, dispatch.member_id, dispatch.registration_id) == (
            bid.id,
            bid.member_id,
            bid.registration_id,
        )
        assert (dispatch.method, dispatch.status, dispatch.start_date) == (
            DispatchMethod.INTERNET_BID,
            DispatchStatus.DISPATCHED,
            START,
        )
        assert dispatch.check_in_deadline == la(2026, 12, 7, 15) == datetime(2026, 12, 7, 23, tzinfo=UTC)
        assert (await hall.registration(bid.registration_id)).status == RegistrationStatus.DISPATCHED
        trace = (await hall.activities(bid.registration_id))[-1]
        assert (trace.action, trace.dispatch_id, trace.labor_request_id) == (
            ActivityAction.DISPATCHED,
            dispatch.id,
            request.id,
        )
    assert (await hall.registration(people[2][1])).status == RegistrationStatus.REGISTERED

    accepted_events = await hall.events("bid.accepted")
    assert [(e["bid_id"], e["dispatch_id"]) for e in accepted_events] == [
        (str(bid.id), str(bid.dispatch_id)) for bid in outcome.accepted
    ]
    created = await hall.events("dispatch.created")
    assert [(e["dispatch_id"], e["method"], e["member_id"]) for e in created] == [
        (str(bid.dispatch_id), "internet_bid", str(bid.member_id)) for bid in outcome.accepted
    ]


async def test_processing_before_07_00_needs_a_reason(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    bid = await hall.dispatching("bid", request.id, member, now=EVENING)
    early = la(2026, 12, 7, 6, 30)
    with pytest.raises(
        StateConflictError, match=rf"^rule 8: bidding on {request.request_number} closes at 07:00 on 2026-12-07; "
    ):
        await hall.dispatching("process_bids", request.id, reason=None, now=early)
    assert (await row(hall, JobBid, bid.id)).status == BidStatus.PENDING
    assert (await row(hall, LaborRequest, request.id)).workers_dispatched == 0


async def test_processing_early_with_a_reason_closes_bidding(hall: HallKit) -> None:
    book = await bidding_book(hall)
    first, _ = await registrant(hall, book)
    late, _ = await registrant(hall, book)
    request = await biddable(hall, book, workers=2)
    await hall.dispatching("bid", request.id, first, now=EVENING)
    early = la(2026, 12, 7, 6, 30)
    outcome = await hall.dispatching("process_bids", request.id, reason="the foreman called", now=early)
    assert [bid.member_id for bid in outcome.accepted] == [first]
    stored = await row(hall, LaborRequest, request.id)
    assert (stored.status, stored.bidding_closes_at) == (LaborRequestStatus.PARTIALLY_FILLED, early)
    assert stored.notes == "bidding closed early by dispatcher-1: the foreman called"
    with pytest.raises(RuleViolationError, match=rf"^rule 8: bidding on {request.request_number} closed at 06:30"):
        await hall.dispatching("bid", request.id, late, now=la(2026, 12, 7, 6, 45))


async def test_two_processings_at_once_dispatch_each_place_once(hall: HallKit) -> None:
    book = await bidding_book(hall)
    people = [await registrant(hall, book) for _ in range(3)]
    request = await biddable(hall, book, workers=2)
    for member, _ in people:
        await hall.dispatching("bid", request.id, member, now=EVENING)
    outcomes: list[BidsOutcome] = await asyncio.gather(
        hall.dispatching("process_bids", request.id, reason=None, now=CLOSES),
        hall.dispatching("process_bids", request.id, reason=None, now=CLOSES),
    )
    accepted = [bid.member_id for outcome in outcomes for bid in outcome.accepted]
    rejected = [bid.member_id for outcome in outcomes for bid in outcome.rejected]
    assert sorted(map(str, accepted)) == sorted(str(m) for m, _ in people[:2])
    assert rejected == [people[2][0]]
    assert sorted(len(outcome.accepted) + len(outcome.rejected) for outcome in outcomes) == [0, 3]
    dispatches = await hall.sql("SELECT member_id FROM dispatches WHERE labor_request_id = :r", r=request.id)
    assert len(dispatches) == 2
    assert len({d.member_id for d in dispatches}) == 2
    stored = await row(hall, LaborRequest, request.id)
    assert (stored.status, stored.workers_dispatched) == (LaborRequestStatus.FILLED, 2)
    assert len(await hall.events("dispatch.created")) == 2


async def test_a_bidder_no_longer_registered_when_the_bids_are_processed_is_rejected(hall: HallKit) -> None:
    book = await bidding_book(hall)
    gone, gone_registration = await registrant(hall, book)
    next_, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    await hall.dispatching("bid", request.id, gone, now=EVENING)
    await hall.dispatching("bid", request.id, next_, now=EVENING)
    await hall.call("roll_off", gone_registration, note="moved away", now=la(2026, 12, 6, 21))
    outcome = await hall.dispatching("process_bids", request.id, reason=None, now=CLOSES)
    assert [bid.member_id for bid in outcome.accepted] == [next_]
    assert [(bid.member_id, bid.rejection_reason) for bid in outcome.rejected] == [
        (gone, "rule 8: not on the out-of-work list when the bids were processed (rolled_off)")
    ]


async def test_a_bidder_suspended_before_the_bids_are_processed_is_rejected(hall: HallKit) -> None:
    book = await bidding_book(hall)
    barred, _ = await registrant(hall, book)
    idle, _ = await registrant(hall, book)
    next_, _ = await registrant(hall, book)
    request = await biddable(hall, book)
    for member in (barred, idle, next_):
        await hall.dispatching("bid", request.id, member, now=EVENING)
    await hall.sql(
        "INSERT INTO bidding_suspensions (tenant_id, member_id, starts_on, ends_on, reason, created_by, updated_by)"
        " VALUES (:t, :m, '2026-12-07', '2027-12-06', 'rule 9', 'x', 'x')",
        t=hall.tenant_id,
        m=barred,
    )
    await hall.sql("UPDATE members SET status = 'suspended' WHERE id = :m", m=idle)
    outcome = await hall.dispatching("process_bids", request.id, reason=None, now=CLOSES)
    assert [bid.member_id for bid in outcome.accepted] == [next_]
    assert [(bid.member_id, bid.rejection_reason) for bid in outcome.rejected] == [
        (barred, "rule 9: bidding suspended"),
        (idle, "rule 8: not on the out-of-work list when the bids were processed (member suspended)"),
    ]


# -- rule 9: rejecting an accepted bid ---------------------------------------------------------------------


async def won(hall: HallKit, book: UUID, member: UUID, start: date, *, workers: int = 1) -> JobBid:
    """``member`` (registered on ``book``) bids on a request for ``start`` and is dispatched at 07:00 on it."""
    taken = datetime.combine(start - timedelta(days=6), time(10), LA)
    request = await hall.request(book, taken, start_date=start, workers_requested=workers, allows_online_bidding=True)
    await hall.dispatching("bid", request.id, member, now=datetime.combine(start - timedelta(days=1), time(20), LA))
    outcome = await hall.dispatching("process_bids", request.id, reason=None, now=datetime.combine(start, time(7), LA))
    assert [bid.member_id for bid in outcome.accepted] == [member]
    accepted: JobBid = outcome.accepted[0]
    return accepted


async def won_and_rejected(hall: HallKit, book: UUID, member: UUID, start: date) -> JobBid:
    """Registered a week ahead, won the bid for ``start``, turned the job down at 08:00 on it."""
    await hall.register(book, member, datetime.combine(start - timedelta(days=7), time(9), LA))
    bid = await won(hall, book, member, start)
    rejected: JobBid = await hall.dispatching(
        "reject_bid", bid.id, reason="took another job", member_id=member, now=datetime.combine(start, time(8), LA)
    )
    return rejected


async def test_rejecting_an_accepted_bid_rolls_the_member_off_that_book_only(hall: HallKit) -> None:
    book, other = await bidding_book(hall), await bidding_book(hall, "IW2")
    member, registration = await registrant(hall, book)
    other_registration = (await hall.register(other, member, TAKEN)).id
    bid = await won(hall, book, member, START)
    assert bid.dispatch_id is not None
    at = la(2026, 12, 7, 8)
    rejected = await hall.dispatching("reject_bid", bid.id, reason="took another job", member_id=member, now=at)

    assert (rejected.status, rejected.rejected_by_member, rejected.rejection_reason) == (
        BidStatus.REJECTED,
        True,
        "took another job",
    )
    off: BookRegistration = await hall.registration(registration)
    assert (off.status, off.roll_off_reason, off.roll_off_at) == (
        RegistrationStatus.ROLLED_OFF,
        RollOffReason.BID_REJECT_QUIT,
        at,
    )
    assert (await hall.registration(other_registration)).status == RegistrationStatus.REGISTERED
    dispatch = await row(hall, Dispatch, bid.dispatch_id)
    assert (dispatch.status, dispatch.term_reason, dispatch.end_date, dispatch.days_worked) == (
        DispatchStatus.TERMINATED,
        TermReason.QUIT,
        START,
        0,
    )
    request = await row(hall, LaborRequest, bid.labor_request_id)
    assert (request.status, request.workers_dispatched) == (LaborRequestStatus.OPEN, 0)
    trace = (await hall.activities(registration))[-1]
    assert (trace.action, trace.previous_status, trace.new_status, trace.dispatch_id, trace.at) == (
        ActivityAction.ROLLED_OFF,
        RegistrationStatus.DISPATCHED,
        RegistrationStatus.ROLLED_OFF,
        dispatch.id,
        at,
    )
    assert (
        trace.reason
        == f"bid_reject_quit: rejected {request.request_number} after the bid was accepted: took another job"
    )
    rolled = await hall.events("registration.rolled_off")
    assert [(e["registration_id"], e["reason"]) for e in rolled] == [(str(registration), "bid_reject_quit")]
    terminated = await hall.events("dispatch.terminated")
    assert [(e["dispatch_id"], e["reason"], e["no_show"]) for e in terminated] == [(str(dispatch.id), "quit", False)]
    assert await suspensions(hall, member) == []  # a first rejection suspends nothing


async def test_a_rejection_frees_the_place_of_a_filled_request(hall: HallKit) -> None:
    book = await bidding_book(hall)
    first, _ = await registrant(hall, book)
    second, _ = await registrant(hall, book)
    request = await biddable(hall, book, workers=2)
    for member in (first, second):
        await hall.dispatching("bid", request.id, member, now=EVENING)
    outcome = await hall.dispatching("process_bids", request.id, reason=None, now=CLOSES)
    assert (await row(hall, LaborRequest, request.id)).status == LaborRequestStatus.FILLED
    one, two = outcome.accepted
    await hall.dispatching("reject_bid", one.id, reason="sick", member_id=None, now=la(2026, 12, 7, 8))
    stored = await row(hall, LaborRequest, request.id)
    assert (stored.status, stored.workers_dispatched) == (LaborRequestStatus.PARTIALLY_FILLED, 1)
    await hall.dispatching("reject_bid", two.id, reason="sick", member_id=None, now=la(2026, 12, 7, 8, 5))
    stored = await row(hall, LaborRequest, request.id)
    assert (stored.status, stored.workers_dispatched) == (LaborRequestStatus.OPEN, 0)


@pytest.mark.parametrize(
    ("second", "suspended"),
    [
        (date(2027, 6, 7), [(date(2027, 6, 7), date(2028, 6, 6))]),
        (date(2027, 12, 7), [(date(2027, 12, 7), date(2028, 12, 6))]),  # 12 months to the day
        (date(2027, 12, 8), []),  # 12 months and a day: the first no longer counts
    ],
    ids=["six months later", "twelve months later", "twelve months and a day later"],
)
async def test_a_second_rejection_within_12_months_suspends_bidding_for_a_year(
    hall: HallKit, second: date, suspended: list[tuple[date, date]]
) -> None:
    book = await bidding_book(hall)
    member = await hall.member()
    await won_and_rejected(hall, book, member, START)  # 2026-12-07
    assert await suspensions(hall, member) == []
    await won_and_rejected(hall, book, member, second)
    assert await suspensions(hall, member) == suspended
    # a suspension (or none) is what the next bid finds
    await hall.register(book, member, datetime.combine(second, time(9), LA))
    later = second + timedelta(days=7)
    request = await hall.request(
        book, datetime.combine(second, time(10), LA), start_date=later, allows_online_bidding=True
    )
    evening = datetime.combine(later - timedelta(days=1), time(20), LA)
    if suspended:
        ends = suspended[0][1].isoformat()
        with pytest.raises(RuleViolationError, match=rf"^rule 8: bidding is suspended until {ends} \(rule 9\)$"):
            await hall.dispatching("bid", request.id, member, now=evening)
    else:
        assert (await hall.dispatching("bid", request.id, member, now=evening)).status == BidStatus.PENDING


async def test_the_suspension_row_says_why(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member = await hall.member()
    await won_and_rejected(hall, book, member, START)
    bid = await won_and_rejected(hall, book, member, date(2027, 2, 1))
    async with hall.session_maker() as session:
        request = await session.get(LaborRequest, bid.labor_request_id)
        assert request is not None
        rows = await hall.sql("SELECT id FROM bidding_suspensions WHERE member_id = :m", m=member)
        suspension = await session.get(BiddingSuspension, rows[0].id)
        assert suspension is not None
        assert suspension.reason == f"rule 9: rejection 2 within 12 months ({request.request_number})"
        assert suspension.created_by == "dispatcher-1"


async def test_withdrawing_an_accepted_bid_is_refused_by_rule_9(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, registration = await registrant(hall, book)
    bid = await won(hall, book, member, START)
    with pytest.raises(
        StateConflictError, match=r"^rule 9: the bid was accepted and dispatched; reject the job instead$"
    ):
        await hall.dispatching("withdraw", bid.labor_request_id, member, now=la(2026, 12, 7, 7, 30))
    assert (await row(hall, JobBid, bid.id)).status == BidStatus.ACCEPTED
    assert (await hall.registration(registration)).status == RegistrationStatus.DISPATCHED


async def test_rejecting_a_pending_bid_is_a_conflict(hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, registration = await registrant(hall, book)
    request = await biddable(hall, book)
    bid = await hall.dispatching("bid", request.id, member, now=EVENING)
    with pytest.raises(
        StateConflictError,
        match=r"^rule 9: only an accepted bid is rejected; this one is pending \(withdraw a pending bid\)$",
    ):
        await hall.dispatching("reject_bid", bid.id, reason="changed my mind", member_id=member, now=EVENING)
    assert (await row(hall, JobBid, bid.id)).status == BidStatus.PENDING
    assert (await hall.registration(registration)).status == RegistrationStatus.REGISTERED


# -- the API ---------------------------------------------------------------------------------------------


async def open_around_now(hall: HallKit, request_id: UUID) -> None:
    """The API takes the time from the clock: move the request's bidding window around it."""
    await hall.sql(
        "UPDATE labor_requests SET bidding_opens_at = now() - interval '1 hour',"
        " bidding_closes_at = now() + interval '1 hour' WHERE id = :r",
        r=request_id,
    )


async def test_a_member_bids_and_withdraws_over_the_api(caller: Caller, hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, registration = await registrant(hall, book, sub="kc-ana")
    request = await biddable(hall, book)
    await open_around_now(hall, request.id)
    ana = caller("demo-hall", "member", sub="kc-ana")
    path = f"/labor-requests/{request.id}/bids"
    bid = await ana.call("POST", path, None, 201)
    assert (bid["member_id"], bid["registration_id"], bid["status"], bid["queue_position_at_bid"]) == (
        str(member),
        str(registration),
        "pending",
        1,
    )
    again = await ana.call("POST", path, None, 409)
    assert again["detail"].startswith("rule 8: one active bid per member per request")
    withdrawn = await ana.call("DELETE", f"{path}/mine", None, 200)
    assert (withdrawn["id"], withdrawn["status"]) == (bid["id"], "withdrawn")


async def test_a_bid_outside_the_window_is_a_422_that_names_rule_8(caller: Caller, hall: HallKit) -> None:
    book = await bidding_book(hall)
    await registrant(hall, book, sub="kc-ana")
    request = await biddable(hall, book)  # its window is in the past
    ana = caller("demo-hall", "member", sub="kc-ana")
    refused = await ana.call("POST", f"/labor-requests/{request.id}/bids", None, 422)
    assert refused["detail"].startswith(f"rule 8: bidding on {request.request_number} ")


async def test_staff_without_a_linked_member_cannot_bid(dispatcher: HallStaff, hall: HallKit) -> None:
    book = await bidding_book(hall)
    request = await biddable(hall, book)
    await open_around_now(hall, request.id)
    refused = await dispatcher.call("POST", f"/labor-requests/{request.id}/bids", None, 403)
    assert refused["detail"] == "no member of this hall is linked to this login"
    assert await bids_of(hall, request.id) == []


async def test_a_member_rejects_only_their_own_accepted_bid(caller: Caller, hall: HallKit) -> None:
    book = await bidding_book(hall)
    member, registration = await registrant(hall, book, sub="kc-ana")
    await registrant(hall, book, sub="kc-ben")
    bid = await won(hall, book, member, START)
    ben = caller("demo-hall", "member", sub="kc-ben")
    missing = await ben.call("POST", f"/bids/{bid.id}/reject", {"reason": "not mine"}, 404)
    assert missing["detail"] == f"no bid {bid.id}"
    assert (await row(hall, JobBid, bid.id)).status == BidStatus.ACCEPTED
    ana = caller("demo-hall", "member", sub="kc-ana")
    rejected = await ana.call("POST", f"/bids/{bid.id}/reject", {"reason": "took another job"}, 200)
    assert (rejected["status"], rejected["rejected_by_member"]) == ("rejected", True)
    assert (await hall.registration(registration)).roll_off_reason == RollOffReason.BID_REJECT_QUIT
    twice = await ana.call("POST", f"/bids/{bid.id}/reject", {"reason": "again"}, 409)
    assert twice["detail"].startswith("rule 9: only an accepted bid is rejected; this one is rejected")


async def test_a_dispatcher_processes_the_bids_over_the_api(dispatcher: HallStaff, hall: HallKit) -> None:
    book = await bidding_book(hall)
    first, _ = await registrant(hall, book, now=la(2025, 12, 29, 9))
    second, _ = await registrant(hall, book, now=la(2025, 12, 29, 9))
    # a request of last January: the clock is past 07:00 on its start date
    request = await hall.request(book, la(2025, 12, 29, 10), start_date=date(2026, 1, 5), allows_online_bidding=True)
    await hall.dispatching("bid", request.id, second, now=la(2026, 1, 4, 20))
    await hall.dispatching("bid", request.id, first, now=la(2026, 1, 4, 20))
    path = f"/labor-requests/{request.id}/process-bids"
    processed = await dispatcher.call("POST", path, {}, 200)
    assert [b["member_id"] for b in processed["accepted"]] == [str(first)]
    assert [b["member_id"] for b in processed["rejected"]] == [str(second)]
    assert (processed["workers_dispatched"], processed["status"]) == (1, "filled")


async def test_bids_on_a_request_filled_meanwhile_are_rejected_then_and_expire_after_its_day(hall: HallKit) -> None:
    book = await hall.book(internet_bidding_enabled=True)
    bidder, other = await hall.member(), await hall.member()
    await hall.register(book, other, TAKEN - timedelta(days=2))  # first on the list
    await hall.register(book, bidder, TAKEN - timedelta(days=1))
    request = await hall.request(book, TAKEN, allows_online_bidding=True)
    bid = await hall.dispatching("bid", request.id, bidder, now=EVENING)
    await hall.dispatching("morning_referral", request.id, expected=None, now=EVENING)  # fills the one place
    outcome: BidsOutcome = await hall.dispatching("process_bids", request.id, reason=None, now=CLOSES)
    assert [rejected.id for rejected in outcome.rejected] == [bid.id]
    assert outcome.rejected[0].rejection_reason == f"rule 8: no place left: {request.request_number} is filled"

    again = await hall.request(book, TAKEN, allows_online_bidding=True, workers_requested=1)
    stranded = await hall.dispatching("bid", again.id, bidder, now=EVENING)
    late = await hall.register(book, await hall.member(), TAKEN)
    await hall.dispatching("named", again.id, late.id, method=DispatchMethod.BY_NAME, reason="asked", now=EVENING)
    await expire_requests(hall.session_maker, hall.actor(sub="system"), START)
    assert (await hall.sql("SELECT status FROM job_bids WHERE id = :b", b=stranded.id))[0].status == "pending"
    await expire_requests(hall.session_maker, hall.actor(sub="system"), START + timedelta(days=1))
    assert (await hall.sql("SELECT status FROM job_bids WHERE id = :b", b=stranded.id))[0].status == "expired"
