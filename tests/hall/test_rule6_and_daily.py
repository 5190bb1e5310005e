"""Rule 6 (exemptions) and the daily run (rules 3 and 6) in the hall's timezone, across DST changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.errors import RuleViolationError, StateConflictError
from app.hall.models import ActivityAction, BookRegistration, ExemptReason, RegistrationStatus, RollOffReason
from app.hall.registrations.daily import run_daily
from tests.hall.kit import HallKit
from workers.jobs import hall_daily

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 2026-12-03 17:00 in Los Angeles
TODAY = date(2026, 12, 3)


async def one(hall: HallKit, *, at: datetime = NOW) -> BookRegistration:
    book_id = await hall.book()
    return await hall.register(book_id, await hall.member(), at)


# -- rule 6 ----------------------------------------------------------------------------------------------


async def test_an_exemption_takes_the_registrant_out_of_the_queue_until_it_ends(hall: HallKit) -> None:
    book = await hall.book()
    first = await hall.register(book, await hall.member(), NOW)
    await hall.register(book, await hall.member(), NOW)
    exempt = await hall.call(
        "exempt",
        first.id,
        reason=ExemptReason.JURY_DUTY,
        start=None,
        end=TODAY + timedelta(days=4),
        note="summons",
        now=NOW,
    )
    assert (exempt.status, exempt.exempt_start, exempt.exempt_end) == (
        RegistrationStatus.EXEMPT,
        TODAY,
        TODAY + timedelta(days=4),
    )
    last = (await hall.activities(first.id))[-1]
    assert (last.action, last.previous_position, last.new_position, last.reason) == (
        ActivityAction.EXEMPTED, 1, None, f"jury_duty exemption {TODAY} to {TODAY + timedelta(days=4)}: summons",
    )  # fmt: skip
    back = await hall.call("end_exemption", first.id, note="dismissed early", now=NOW + timedelta(days=1))
    assert (back.status, back.exempt_reason, back.applicant_priority_number) == (
        RegistrationStatus.REGISTERED, None, first.applicant_priority_number,
    )  # fmt: skip
    assert back.re_sign_deadline == NOW + timedelta(days=31)  # a fresh period from the return
    ended = (await hall.activities(first.id))[-1]
    assert (ended.action, ended.previous_status, ended.new_position) == (
        ActivityAction.EXEMPTION_ENDED, RegistrationStatus.EXEMPT, 1,
    )  # fmt: skip


@pytest.mark.parametrize("reason", [ExemptReason.TRAVELING, ExemptReason.UNDER_SCALE])
async def test_traveling_and_under_scale_last_180_days_unless_an_admin_says_more(
    hall: HallKit, reason: ExemptReason
) -> None:
    registration = await one(hall)
    longest = TODAY + timedelta(days=179)  # 180 days, today included
    with pytest.raises(
        RuleViolationError,
        match=rf"^rule 6: a {reason.value.replace('_', '-')} exemption lasts at most 180 days \(181 asked\)",
    ):
        await hall.call(
            "exempt", registration.id, reason=reason, start=None, end=longest + timedelta(days=1), note=None, now=NOW
        )
    await hall.call("exempt", registration.id, reason=reason, start=None, end=longest, note=None, now=NOW)
    with pytest.raises(RuleViolationError, match="an admin may extend it"):
        await hall.call(
            "extend_exemption", registration.id, end=longest + timedelta(days=30), note="still abroad", now=NOW
        )
    extended = await hall.call(
        "extend_exemption", registration.id, end=longest + timedelta(days=30), note="still abroad", now=NOW,
        actor=hall.actor(sub="admin-1", admin=True),
    )  # fmt: skip
    assert extended.exempt_end == longest + timedelta(days=30)
    assert (await hall.activities(extended.id))[-1].performed_by == "admin-1"


async def test_other_exemptions_may_be_long(hall: HallKit) -> None:
    registration = await one(hall)
    made = await hall.call(
        "exempt",
        registration.id,
        reason=ExemptReason.MILITARY,
        start=None,
        end=TODAY + timedelta(days=700),
        note=None,
        now=NOW,
    )
    assert made.status == RegistrationStatus.EXEMPT


async def test_an_exemption_is_refused_in_the_past_backwards_twice_or_off_the_book(hall: HallKit) -> None:
    registration = await one(hall)
    rid = registration.id
    with pytest.raises(RuleViolationError, match=r"^rule 6: an exemption cannot start before today \(2026-12-03\)"):
        await hall.call("exempt", rid, reason="medical", start=TODAY - timedelta(days=1), end=TODAY, note=None, now=NOW)
    with pytest.raises(RuleViolationError, match=r"^rule 6: an exemption ends on or after the day it starts"):
        await hall.call(
            "exempt",
            rid,
            reason="medical",
            start=TODAY + timedelta(days=2),
            end=TODAY + timedelta(days=1),
            note=None,
            now=NOW,
        )
    await hall.call("exempt", rid, reason="medical", start=None, end=TODAY, note=None, now=NOW)
    with pytest.raises(StateConflictError, match=r"^rule 6: the registration is already exempt until 2026-12-03"):
        await hall.call("exempt", rid, reason="medical", start=None, end=TODAY, note=None, now=NOW)
    await hall.call("roll_off", rid, note="left", now=NOW)
    with pytest.raises(StateConflictError, match=r"^rule 6: a rolled_off registration cannot be exempted"):
        await hall.call("exempt", rid, reason="medical", start=None, end=TODAY, note=None, now=NOW)
    with pytest.raises(StateConflictError, match=r"^rule 6: the registration has no exemption to end"):
        await hall.call("end_exemption", rid, note="x", now=NOW)


# -- the daily run ----------------------------------------------------------------------------------------


async def test_a_planned_exemption_begins_on_its_day_and_ends_after_its_last(hall: HallKit) -> None:
    registration = await one(hall)
    rid = registration.id
    planned = await hall.call(
        "exempt",
        rid,
        reason="medical",
        start=TODAY + timedelta(days=2),
        end=TODAY + timedelta(days=3),
        note=None,
        now=NOW,
    )
    assert planned.status == RegistrationStatus.REGISTERED  # still in the queue until its first day
    day = lambda d: datetime(2026, 12, 3 + d, 9, 0, tzinfo=UTC)  # noqa: E731  (01:00 in the hall)
    assert (await run_daily(hall.session_maker, now=day(1))).exemptions_started == 0
    assert (await run_daily(hall.session_maker, now=day(2))).exemptions_started == 1
    assert (await hall.registration(rid)).status == RegistrationStatus.EXEMPT
    assert (await run_daily(hall.session_maker, now=day(3))).exemptions_ended == 0  # its last day
    report = await run_daily(hall.session_maker, now=day(4))
    assert report.exemptions_ended == 1
    back = await hall.registration(rid)
    assert (back.status, back.exempt_reason) == (RegistrationStatus.REGISTERED, None)
    assert [a.action for a in await hall.activities(rid)][-2:] == [
        ActivityAction.EXEMPTED,
        ActivityAction.EXEMPTION_ENDED,
    ]
    assert [a.performed_by for a in await hall.activities(rid)][-2:] == ["system", "system"]


async def test_the_daily_run_rolls_off_on_the_halls_first_day_after_the_grace(hall: HallKit) -> None:
    registration = await one(hall)  # deadline 2027-01-02 17:00 in the hall, grace through 2027-01-05
    rid = registration.id
    last_grace_night = datetime(2027, 1, 6, 7, 59, tzinfo=UTC)  # 2027-01-05 23:59 there (already 01-06 in UTC)
    assert (await run_daily(hall.session_maker, now=last_grace_night)).rolled_off == 0
    first_day_after = datetime(2027, 1, 6, 8, 1, tzinfo=UTC)
    assert (await run_daily(hall.session_maker, now=first_day_after)).rolled_off == 1
    assert (await run_daily(hall.session_maker, now=first_day_after + timedelta(hours=1))).rolled_off == 0  # once
    off = await hall.registration(rid)
    assert (off.status, off.roll_off_reason, off.roll_off_at) == (
        RegistrationStatus.ROLLED_OFF, RollOffReason.FAILED_RE_SIGN, first_day_after,
    )  # fmt: skip
    last = (await hall.activities(rid))[-1]
    assert (last.action, last.previous_position, last.performed_by, last.reason) == (
        ActivityAction.ROLLED_OFF, 1, "system", "failed_re_sign: not re-signed by 2027-01-02",
    )  # fmt: skip
    [event] = await hall.events("registration.rolled_off")
    assert event["reason"] == "failed_re_sign"


async def test_exempt_and_dispatched_registrants_are_not_rolled_off(hall: HallKit) -> None:
    book = await hall.book()
    exempt = await hall.register(book, await hall.member(), NOW)
    dispatched = await hall.register(book, await hall.member(), NOW)
    await hall.call(
        "exempt", exempt.id, reason="military", start=None, end=TODAY + timedelta(days=400), note=None, now=NOW
    )
    await hall.sql("UPDATE book_registrations SET status = 'dispatched' WHERE id = :id", id=dispatched.id)
    report = await run_daily(hall.session_maker, now=NOW + timedelta(days=60))
    assert report.rolled_off == 0
    assert report.reminded == 0


async def test_the_daily_run_is_safe_with_several_workers(hall: HallKit) -> None:
    book = await hall.book()
    for _ in range(30):
        await hall.register(book, await hall.member(), NOW)
    later = NOW + timedelta(days=40)
    reports = await asyncio.gather(*(run_daily(hall.session_maker, now=later) for _ in range(3)))
    assert sum(report.rolled_off for report in reports) == 30
    assert len(await hall.events("registration.rolled_off")) == 30
    rows = await hall.sql("SELECT count(*) AS n FROM registration_activities WHERE action = 'rolled_off'")
    assert rows[0].n == 30


async def test_a_reminder_goes_out_seven_hall_days_before_each_deadline_once(hall: HallKit) -> None:
    registration = await one(hall)  # deadline 2027-01-02 17:00 in the hall
    rid = registration.id
    assert (
        await run_daily(hall.session_maker, now=datetime(2026, 12, 26, 7, 59, tzinfo=UTC))
    ).reminded == 0  # 12-25 23:59
    assert (
        await run_daily(hall.session_maker, now=datetime(2026, 12, 26, 8, 1, tzinfo=UTC))
    ).reminded == 1  # 12-26 00:01
    assert (await run_daily(hall.session_maker, now=datetime(2026, 12, 27, 8, 1, tzinfo=UTC))).reminded == 0
    [event] = await hall.events("registration.re_sign_due")
    assert (event["aggregate_id"], event["re_sign_deadline"]) == (str(rid), "2027-01-03T01:00:00Z")
    await hall.call("re_sign", rid, now=datetime(2026, 12, 28, 18, 0, tzinfo=UTC))  # a new deadline: 2027-01-27
    assert (await run_daily(hall.session_maker, now=datetime(2027, 1, 20, 8, 1, tzinfo=UTC))).reminded == 1
    assert len(await hall.events("registration.re_sign_due")) == 2


async def test_days_are_the_halls_across_the_change_to_daylight_saving_time(hall: HallKit) -> None:
    # Registered 2026-02-20 10:00 PST: 30 days later is 2026-03-22 10:00 PDT, 23 hours short of 30 * 24.
    registered_at = datetime(2026, 2, 20, 18, 0, tzinfo=UTC)
    registration = await one(hall, at=registered_at)
    rid = registration.id
    assert registration.re_sign_deadline == datetime(2026, 3, 22, 17, 0, tzinfo=UTC)
    # The reminder: from 2026-03-15 (the first hall day seven days before), midnight PDT = 07:00 UTC.
    assert (await run_daily(hall.session_maker, now=datetime(2026, 3, 15, 6, 59, tzinfo=UTC))).reminded == 0
    assert (await run_daily(hall.session_maker, now=datetime(2026, 3, 15, 7, 1, tzinfo=UTC))).reminded == 1
    # Grace through 2026-03-25; rolled off from 2026-03-26 00:00 PDT.
    assert (await run_daily(hall.session_maker, now=datetime(2026, 3, 26, 6, 59, tzinfo=UTC))).rolled_off == 0
    assert (await run_daily(hall.session_maker, now=datetime(2026, 3, 26, 7, 1, tzinfo=UTC))).rolled_off == 1
    assert (await hall.registration(rid)).status == RegistrationStatus.ROLLED_OFF


async def test_days_are_the_halls_across_the_change_back_to_standard_time(hall: HallKit) -> None:
    # Registered 2026-10-20 10:00 PDT: the deadline 2026-11-19 10:00 PST (25 hours more than 30 * 24 ... less one).
    registration = await one(hall, at=datetime(2026, 10, 20, 17, 0, tzinfo=UTC))
    assert registration.re_sign_deadline == datetime(2026, 11, 19, 18, 0, tzinfo=UTC)
    # Grace through 2026-11-22; rolled off from 2026-11-23 00:00 PST = 08:00 UTC (not 07:00).
    assert (await run_daily(hall.session_maker, now=datetime(2026, 11, 23, 7, 30, tzinfo=UTC))).rolled_off == 0
    assert (await run_daily(hall.session_maker, now=datetime(2026, 11, 23, 8, 1, tzinfo=UTC))).rolled_off == 1


async def test_the_hall_timezone_is_the_tenants_setting(hall: HallKit) -> None:
    await hall.sql("UPDATE tenants SET timezone = 'America/New_York' WHERE id = :id", id=hall.tenant_id)
    hall.timezone = "America/New_York"
    registration = await one(hall)  # 2026-12-03 20:00 in New York
    assert registration.re_sign_deadline == NOW + timedelta(days=30)
    # Grace through 2027-01-05 in New York: rolled off from 05:00 UTC on 01-06, three hours before Los Angeles.
    assert (await run_daily(hall.session_maker, now=datetime(2027, 1, 6, 5, 1, tzinfo=UTC))).rolled_off == 1


async def test_the_workers_cron_job_runs_the_daily_run(hall: HallKit) -> None:
    registration = await one(hall, at=datetime.now(UTC) - timedelta(days=60))  # long past its deadline and grace
    report = await hall_daily({"session_maker": hall.session_maker})
    assert (report.rolled_off, "demo-hall" in report.halls) == (1, True)
    assert (await hall.registration(registration.id)).roll_off_reason == RollOffReason.FAILED_RE_SIGN
