"""Rule 1: registration, and the APN = spreadsheet serial of the hall's day + k/100."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from app.core.errors import ResourceNotFoundError, StateConflictError
from app.hall.clock import excel_serial
from app.hall.events import RegistrationCreated
from app.hall.models import ActivityAction, MemberStatus, RegistrationStatus
from app.hall.registrations.rules import apn_for
from tests.hall.kit import HallKit

# 2026-12-03 17:00 in Los Angeles (PST, UTC-8).
NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
SERIAL = excel_serial(date(2026, 12, 3))


def test_the_apn_is_the_spreadsheet_serial_of_the_day_plus_k_hundredths() -> None:
    assert excel_serial(date(2012, 2, 27)) == 40966
    assert apn_for(date(2012, 2, 27), 1) == Decimal("40966.01")
    assert apn_for(date(2012, 2, 27), 99) == Decimal("40966.99")
    assert str(apn_for(date(2012, 2, 27), 10)) == "40966.10"


async def test_the_days_registrations_on_a_book_count_up_and_the_next_day_starts_again(hall: HallKit) -> None:
    book, other_book = await hall.book("IW1"), await hall.book("TS1", classification="tradeshow")
    members = [await hall.member() for _ in range(3)]
    first = await hall.register(book, members[0], NOW)
    second = await hall.register(book, members[1], NOW + timedelta(minutes=5))
    elsewhere = await hall.register(other_book, members[0], NOW)  # k counts per book
    next_day = await hall.register(book, members[2], NOW + timedelta(days=1))
    assert first.applicant_priority_number == Decimal(SERIAL) + Decimal("0.01")
    assert second.applicant_priority_number == Decimal(SERIAL) + Decimal("0.02")
    assert elsewhere.applicant_priority_number == Decimal(SERIAL) + Decimal("0.01")
    assert next_day.applicant_priority_number == Decimal(SERIAL + 1) + Decimal("0.01")
    assert first.re_sign_deadline == datetime(2027, 1, 3, 1, 0, tzinfo=UTC)  # 30 days, same hour in the hall


async def test_the_day_is_the_halls_not_utcs(hall: HallKit) -> None:
    book, member = await hall.book(), await hall.member()
    # 2026-12-04 06:30 UTC is still 2026-12-03 (22:30) in Los Angeles.
    registration = await hall.register(book, member, datetime(2026, 12, 4, 6, 30, tzinfo=UTC))
    assert registration.applicant_priority_number == Decimal(SERIAL) + Decimal("0.01")


async def test_a_100th_registration_on_one_day_is_refused_and_changes_nothing(hall: HallKit) -> None:
    book, first, late = await hall.book(), await hall.member(), await hall.member()
    await hall.call(
        "import_registration", book, first, apn=Decimal(SERIAL) + Decimal("0.99"), registered_at=NOW,
        last_re_sign_at=None, now=NOW,
    )  # fmt: skip
    with pytest.raises(StateConflictError, match=r"^rule 1: book IW1 has taken 99 registrations on 2026-12-03"):
        await hall.register(book, late, NOW)
    assert await hall.apns(book) == [Decimal(SERIAL) + Decimal("0.99")]
    assert len(await hall.events("registration.created")) == 1


async def test_concurrent_registrations_on_one_book_never_share_a_number(hall: HallKit) -> None:
    book = await hall.book()
    members = [await hall.member() for _ in range(12)]
    await asyncio.gather(*(hall.register(book, member, NOW) for member in members))
    expected = [Decimal(SERIAL) + Decimal(k) / 100 for k in range(1, 13)]
    assert await hall.apns(book) == expected


@pytest.mark.parametrize(
    ("status", "message"),
    [(MemberStatus.SUSPENDED, "is suspended, not active"), (MemberStatus.RETIRED, "is retired, not active")],
)
async def test_only_an_active_member_registers(hall: HallKit, status: MemberStatus, message: str) -> None:
    book, member = await hall.book(), await hall.member(status=status)
    with pytest.raises(StateConflictError, match=rf"^rule 1: member M\d+ {message}"):
        await hall.register(book, member, NOW)
    assert await hall.apns(book) == []


async def test_a_closed_book_takes_no_registrations(hall: HallKit) -> None:
    book, member = await hall.book(is_active=False), await hall.member()
    with pytest.raises(StateConflictError, match=r"^rule 1: book IW1 is closed to registrations"):
        await hall.register(book, member, NOW)


async def test_one_active_registration_per_member_and_book(hall: HallKit) -> None:
    book, member = await hall.book(), await hall.member()
    registration = await hall.register(book, member, NOW)
    with pytest.raises(
        StateConflictError, match=r"^rule 1: member M00001 already has an active registration on book IW1"
    ):
        await hall.register(book, member, NOW)
    await hall.call("roll_off", registration.id, note="left the trade", now=NOW)
    again = await hall.register(book, member, NOW + timedelta(hours=1))  # rolled off: a new APN
    assert again.applicant_priority_number == Decimal(SERIAL) + Decimal("0.02")


async def test_an_unknown_member_or_book_is_not_found(hall: HallKit) -> None:
    book, member = await hall.book(), await hall.member()
    with pytest.raises(ResourceNotFoundError, match="no member"):
        await hall.register(book, book, NOW)
    with pytest.raises(ResourceNotFoundError, match="no book"):
        await hall.register(member, member, NOW)


async def test_a_registration_writes_its_trace_and_its_event_in_the_same_transaction(hall: HallKit) -> None:
    book, ahead, member = await hall.book(), await hall.member(), await hall.member()
    await hall.register(book, ahead, NOW)
    registration = await hall.register(book, member, NOW)
    [activity] = await hall.activities(registration.id)
    assert (activity.action, activity.previous_status, activity.new_status) == (
        ActivityAction.REGISTERED, None, RegistrationStatus.REGISTERED,
    )  # fmt: skip
    assert (activity.previous_position, activity.new_position) == (None, 2)
    assert (activity.performed_by, activity.at) == ("dispatcher-1", NOW)
    [_, event] = await hall.events("registration.created")
    assert event["aggregate_id"] == str(registration.id)
    assert event["applicant_priority_number"] == f"{SERIAL}.02"  # a string, never a float
    assert (event["position"], event["imported"], event["member_id"]) == (2, False, str(member))
    decoded = msgspec.convert(event, RegistrationCreated)  # what a handler receives
    assert (decoded.registered_at, decoded.applicant_priority_number) == (NOW, Decimal(SERIAL) + Decimal("0.02"))


async def test_an_import_keeps_its_apn_and_ties_go_to_the_earlier_registration(hall: HallKit) -> None:
    book = await hall.book()
    later, earlier, fresh = await hall.member(), await hall.member(), await hall.member()
    apn = Decimal("40966.01")
    for member, registered_at in (
        (later, datetime(2012, 2, 28, tzinfo=UTC)),
        (earlier, datetime(2012, 2, 27, tzinfo=UTC)),
    ):
        imported = await hall.call(
            "import_registration", book, member, apn=apn, registered_at=registered_at, last_re_sign_at=None, now=NOW
        )
        assert imported.applicant_priority_number == apn
    registered = await hall.register(book, fresh, NOW)
    rows = await hall.sql(
        "SELECT a.new_position, r.member_id FROM registration_activities a JOIN book_registrations r"
        " ON r.id = a.registration_id ORDER BY a.seq"
    )
    # Positions when each arrived: the later import first (1), the earlier one goes ahead of it (1), then the new one.
    assert [(row.member_id, row.new_position) for row in rows] == [(later, 1), (earlier, 1), (fresh, 3)]
    assert (await hall.activities(registered.id))[0].action == ActivityAction.REGISTERED
    [first, _, _] = await hall.events("registration.created")
    assert first["imported"] is True
