"""Rules 2 (the out-of-work list), 3 (re-sign), 4 and 5 (check marks) against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError
from app.hall.models import ActivityAction, BookRegistration, NoCheckMarkReason, RegistrationStatus, RollOffReason
from app.hall.registrations.queue import Books, out_of_work_page
from app.hall.registrations.rules import position_of
from tests.hall.kit import HallKit

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 2026-12-03 17:00 in Los Angeles


async def registered(hall: HallKit, count: int, *, book_code: str = "IW1") -> tuple[object, list[BookRegistration]]:
    book = await hall.book(book_code)
    made = [await hall.register(book, await hall.member(), NOW + timedelta(minutes=i)) for i in range(count)]
    return book, made


# -- rule 2 ----------------------------------------------------------------------------------------------


async def test_the_list_is_registered_members_by_apn_then_registration_time_then_id(hall: HallKit) -> None:
    book = await hall.book()
    ids = [await hall.member() for _ in range(5)]
    same_apn = Decimal("40000.01")
    early = datetime(2009, 7, 6, 15, 0, tzinfo=UTC)
    # Two imports share an APN and a registration time: the id decides.
    for member in ids[:2]:
        await hall.call(
            "import_registration", book, member, apn=same_apn, registered_at=early, last_re_sign_at=None, now=NOW
        )
    await hall.call(
        "import_registration",
        book,
        ids[2],
        apn=same_apn,
        registered_at=early - timedelta(days=1),
        last_re_sign_at=None,
        now=NOW,
    )
    exempt = await hall.register(book, ids[3], NOW)
    await hall.call(
        "exempt", exempt.id, reason="jury_duty", start=None, end=NOW.date() + timedelta(days=10), note=None, now=NOW
    )
    last = await hall.register(book, ids[4], NOW)
    async with hall.session_maker() as session:
        whole = await Books(session).whole_list(hall.tenant_id, book)
    items, total = await out_of_work_page(hall.engine, hall.tenant_id, book, limit=50, offset=0)
    page, _ = await out_of_work_page(hall.engine, hall.tenant_id, book, limit=2, offset=2)
    beyond, beyond_total = await out_of_work_page(hall.engine, hall.tenant_id, book, limit=2, offset=10)
    tied = sorted(
        row.id for row in await hall.sql("SELECT id FROM book_registrations WHERE registered_at = :t", t=early)
    )
    assert items[0].member_id == ids[2]  # same APN, registered a day earlier
    assert [item.registration_id for item in items[1:3]] == tied  # same APN and time: by id
    assert items[3].registration_id == last.id  # today's APN comes after
    assert [item.position for item in items] == [1, 2, 3, 4]
    assert total == 4  # the exempt registrant is not on the list
    assert [(item.position, item.registration_id) for item in page] == [(3, items[2].registration_id), (4, last.id)]
    assert whole == items
    assert (beyond, beyond_total) == ([], 4)


async def test_a_registrations_position_counts_only_registered_ones_ahead(hall: HallKit) -> None:
    _, made = await registered(hall, 4)
    await hall.call("roll_off", made[0].id, note="moved away", now=NOW)
    async with hall.session_maker() as session:
        positions = [await position_of(session, await session.get(BookRegistration, r.id)) for r in made]  # type: ignore[arg-type]
    assert positions == [None, 1, 2, 3]


async def test_another_tenants_book_is_not_found(hall: HallKit) -> None:
    book = await hall.book()
    with pytest.raises(ResourceNotFoundError):
        await out_of_work_page(hall.engine, book, book, limit=10, offset=0)  # a tenant that is not the book's


# -- rule 3 ----------------------------------------------------------------------------------------------


async def test_a_re_sign_moves_the_deadline_and_keeps_the_apn_and_place(hall: HallKit) -> None:
    _, [_, second] = await registered(hall, 2)
    later = NOW + timedelta(days=20)
    signed = await hall.call("re_sign", second.id, now=later)
    assert signed.applicant_priority_number == second.applicant_priority_number
    assert (signed.last_re_sign_at, signed.re_sign_deadline) == (later, later + timedelta(days=30))
    [_, activity] = await hall.activities(second.id)
    assert (activity.action, activity.previous_position, activity.new_position) == (ActivityAction.RE_SIGNED, 2, 2)


async def test_a_re_sign_is_accepted_through_the_last_day_of_grace_and_refused_after(hall: HallKit) -> None:
    _, [registration] = await registered(hall, 1)
    deadline = registration.re_sign_deadline  # 2027-01-02 17:00 in the hall; grace through 2027-01-05
    last_grace_evening = datetime(2027, 1, 6, 7, 59, tzinfo=UTC)  # 2027-01-05 23:59 in Los Angeles
    await hall.call("re_sign", registration.id, now=last_grace_evening)
    again = await hall.registration(registration.id)
    too_late = again.re_sign_deadline + timedelta(days=4)
    with pytest.raises(StateConflictError, match=r"^rule 3: the re-sign deadline 2027-02-04 and its 3 days' grace"):
        await hall.call("re_sign", registration.id, now=too_late)
    assert (await hall.registration(registration.id)).re_sign_deadline == again.re_sign_deadline
    assert deadline < again.re_sign_deadline


@pytest.mark.parametrize("status", ["dispatched", "rolled_off", "resigned"])
async def test_only_a_registration_on_the_book_re_signs(hall: HallKit, status: str) -> None:
    _, [registration] = await registered(hall, 1)
    await hall.sql(
        "UPDATE book_registrations SET status = CAST(:s AS varchar),"
        " roll_off_at = CASE WHEN CAST(:s AS varchar) = 'rolled_off' THEN now() END,"
        " roll_off_reason = CASE WHEN CAST(:s AS varchar) = 'rolled_off' THEN 'manual' END WHERE id = :id",
        s=status,
        id=registration.id,
    )
    with pytest.raises(StateConflictError, match=rf"^rule 3: a {status} registration is not re-signed"):
        await hall.call("re_sign", registration.id, now=NOW)


async def test_an_exempt_registrant_may_re_sign(hall: HallKit) -> None:
    _, [registration] = await registered(hall, 1)
    await hall.call(
        "exempt", registration.id, reason="medical", start=None, end=NOW.date() + timedelta(days=3), note=None, now=NOW
    )
    signed = await hall.call("re_sign", registration.id, now=NOW + timedelta(days=1))
    assert signed.status == RegistrationStatus.EXEMPT


# -- rules 4 and 5 ---------------------------------------------------------------------------------------


async def test_a_check_mark_a_day_and_the_third_rolls_off(hall: HallKit) -> None:
    _, [registration, behind] = await registered(hall, 2)
    for day in range(2):
        marked = await hall.call(
            "add_check_mark", registration.id, reason="no answer", labor_request_id=None, now=NOW + timedelta(days=day)
        )
        assert (marked.check_marks, marked.status) == (day + 1, RegistrationStatus.REGISTERED)
    with pytest.raises(StateConflictError, match=r"^rule 4: the registration already has a check mark on 2026-12-04"):
        await hall.call(
            "add_check_mark",
            registration.id,
            reason="again",
            labor_request_id=None,
            now=NOW + timedelta(days=1, hours=2),
        )
    third = await hall.call(
        "add_check_mark", registration.id, reason="no answer", labor_request_id=None, now=NOW + timedelta(days=2)
    )
    assert (third.check_marks, third.status, third.roll_off_reason) == (
        3,
        RegistrationStatus.ROLLED_OFF,
        RollOffReason.CHECK_MARKS,
    )
    actions = [
        (a.action, a.previous_position, a.new_position, a.new_status) for a in await hall.activities(registration.id)
    ]
    assert actions[-2:] == [
        (ActivityAction.CHECK_MARK, 1, 1, RegistrationStatus.REGISTERED),
        (ActivityAction.ROLLED_OFF, 1, None, RegistrationStatus.ROLLED_OFF),
    ]
    [event] = await hall.events("registration.rolled_off")
    assert (event["reason"], event["previous_position"], event["aggregate_id"]) == (
        "check_marks",
        1,
        str(registration.id),
    )
    async with hall.session_maker() as session:
        assert await position_of(session, await session.get(BookRegistration, behind.id)) == 1  # type: ignore[arg-type]


async def test_an_exempt_registrant_gets_no_check_mark(hall: HallKit) -> None:
    _, [registration] = await registered(hall, 1)
    await hall.call(
        "exempt",
        registration.id,
        reason="military",
        start=None,
        end=NOW.date() + timedelta(days=90),
        note=None,
        now=NOW,
    )
    with pytest.raises(RuleViolationError, match=r"^rule 4: an exempt registrant gets no check marks"):
        await hall.call("add_check_mark", registration.id, reason="no answer", labor_request_id=None, now=NOW)
    assert (await hall.registration(registration.id)).check_marks == 0


@pytest.mark.parametrize("reason", list(NoCheckMarkReason))
async def test_a_request_that_gives_no_check_mark_gives_none(hall: HallKit, reason: NoCheckMarkReason) -> None:
    book, [registration] = await registered(hall, 1)
    request = await hall.labor_request(book, generates_check_mark=False, no_check_mark_reason=reason)
    with pytest.raises(
        RuleViolationError,
        match=rf"^rule 5: labor request REQ\d{{8}}-\d{{4}} gives no check mark \({reason.value.replace('_', ' ')}\)",
    ):
        await hall.call("add_check_mark", registration.id, reason="declined", labor_request_id=request, now=NOW)
    counted = await hall.call(
        "add_check_mark", registration.id, reason="declined", labor_request_id=await hall.labor_request(book), now=NOW
    )
    assert counted.check_marks == 1
    assert (await hall.activities(registration.id))[-1].labor_request_id is not None


async def test_a_restored_mark_is_taken_back_and_a_roll_off_by_marks_undone(hall: HallKit) -> None:
    _, [registration] = await registered(hall, 1)
    for day in range(3):
        await hall.call(
            "add_check_mark", registration.id, reason="no answer", labor_request_id=None, now=NOW + timedelta(days=day)
        )
    with pytest.raises(StateConflictError, match=r"^rule 4: the registration has 3 check marks, not a mark 4"):
        await hall.call("restore_check_mark", registration.id, 4, reason="typo", now=NOW)
    back = await hall.call(
        "restore_check_mark", registration.id, 3, reason="the phone line was down", now=NOW + timedelta(days=3)
    )
    assert (back.status, back.check_marks, back.roll_off_reason, back.applicant_priority_number) == (
        RegistrationStatus.REGISTERED, 2, None, registration.applicant_priority_number,
    )  # fmt: skip
    last = (await hall.activities(registration.id))[-1]
    assert (last.action, last.previous_status, last.new_status, last.new_position) == (
        ActivityAction.CHECK_MARK_RESTORED, RegistrationStatus.ROLLED_OFF, RegistrationStatus.REGISTERED, 1,
    )  # fmt: skip
    assert last.reason == "check mark 3 restored: the phone line was down"


async def test_a_roll_off_by_marks_stays_when_the_member_registered_again(hall: HallKit) -> None:
    book, [registration] = await registered(hall, 1)
    for day in range(3):
        await hall.call(
            "add_check_mark", registration.id, reason="no answer", labor_request_id=None, now=NOW + timedelta(days=day)
        )
    await hall.register(book, registration.member_id, NOW + timedelta(days=3))
    with pytest.raises(StateConflictError, match=r"^rule 4: the member has registered on book IW1 again since"):
        await hall.call("restore_check_mark", registration.id, 1, reason="error", now=NOW + timedelta(days=3))
    assert (await hall.registration(registration.id)).check_marks == 3


async def test_a_manual_roll_off_needs_a_registration_on_the_book(hall: HallKit) -> None:
    _, [registration] = await registered(hall, 1)
    off = await hall.call("roll_off", registration.id, note="asked to be taken off", now=NOW)
    assert (off.status, off.roll_off_reason, off.roll_off_at) == (
        RegistrationStatus.ROLLED_OFF,
        RollOffReason.MANUAL,
        NOW,
    )
    with pytest.raises(StateConflictError, match=r"^roll-off: the registration is already rolled_off"):
        await hall.call("roll_off", registration.id, note="twice", now=NOW)
    await hall.sql("UPDATE book_registrations SET status = 'dispatched', roll_off_at = NULL, roll_off_reason = NULL")
    with pytest.raises(
        StateConflictError, match=r"^roll-off: the registration is dispatched; the dispatch ends first \(rule 11\)"
    ):
        await hall.call("roll_off", registration.id, note="while working", now=NOW)
    async with hall.session_maker() as session:
        rows = list(await session.scalars(select(BookRegistration.status)))
    assert rows == [RegistrationStatus.DISPATCHED]
