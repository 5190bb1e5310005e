"""The fairness record: every dispatch explained from the trace, every book's history verified by replaying it,
and concurrent dispatchers who never send one member twice or pass one over."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from app.hall.dispatch.fairness import VerifyReport, explain, verify
from app.hall.dispatch.rules import DispatchRules
from app.hall.models import (
    ActivityAction,
    DispatchMethod,
    ExemptReason,
    RegistrationStatus,
    RollOffReason,
    TermReason,
)
from tests.hall.kit import HallKit
from tests.hall.test_hall_schema import snapshot
from tests.processes import rollcall
from tests.test_migrations import _dsn, empty_database  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # Thursday 10:00 in Los Angeles
LATER = NOW + timedelta(days=20)


async def verified(hall: HallKit) -> VerifyReport:
    async with hall.session_maker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return await verify(session, hall.tenant_id)


async def explained(hall: HallKit, dispatch_id: UUID) -> Any:
    async with hall.session_maker() as session:
        return await explain(session, hall.tenant_id, dispatch_id)


async def busy_book(hall: HallKit, size: int = 6) -> tuple[UUID, list[UUID]]:
    """A book with a history: registrations, an import (last in the list: APN 40000.50 is ahead of today's
    numbers), a re-sign, a check mark, an exemption, a roll-off."""
    book = await hall.book()
    registrations = [
        (await hall.register(book, await hall.member(), NOW + timedelta(seconds=index))).id for index in range(size)
    ]
    imported = await hall.call(
        "import_registration", book, await hall.member(), apn=Decimal("40000.50"), registered_at=None,
        last_re_sign_at=None, now=NOW,
    )  # fmt: skip
    registrations.append(imported.id)
    await hall.call("re_sign", registrations[1], now=NOW + timedelta(hours=1))
    await hall.call("add_check_mark", registrations[2], reason="missed", labor_request_id=None, now=NOW)
    await hall.call(
        "exempt", registrations[3], reason=ExemptReason.MEDICAL, start=None, end=date(2026, 12, 31), note=None, now=NOW
    )
    await hall.call("roll_off", registrations[4], note="asked to be taken off", now=NOW)
    return book, registrations


async def test_a_whole_history_of_every_rule_verifies_clean(hall: HallKit) -> None:
    book, registrations = await busy_book(hall)
    request = await hall.request(book, NOW, workers_requested=3)
    await hall.dispatching("skip", request.id, registrations[0], reason="declined by phone", now=NOW)
    await hall.dispatching("morning_referral", request.id, expected=None, now=NOW)
    by_name = await hall.dispatching(
        "named", request.id, registrations[5], method=DispatchMethod.BY_NAME, reason="asked for", now=NOW
    )
    short = await hall.request(book, NOW, estimated_duration_days=5)
    sent = await hall.dispatching("morning_referral", short.id, expected=None, now=NOW)
    await hall.dispatching(
        "terminate", sent.id, reason=TermReason.SHORT_CALL_END, end_date=None, days_worked=None, note=None,
        member_id=None, now=LATER,
    )  # fmt: skip
    await hall.dispatching(
        "terminate", by_name.id, reason=TermReason.QUIT, end_date=None, days_worked=None, note=None,
        member_id=None, now=LATER,
    )  # fmt: skip

    report = await verified(hall)
    assert report.findings == []
    assert (report.books, report.dispatches) == (1, 3)
    assert report.activities == len(await hall.sql("SELECT 1 FROM registration_activities WHERE book_id = :b", b=book))


async def test_explain_shows_who_was_ahead_and_why_each_was_passed_over(hall: HallKit) -> None:
    book, registrations = await busy_book(hall)
    imported = registrations[-1]  # first in the list
    request = await hall.request(book, NOW)
    await hall.dispatching("skip", request.id, imported, reason="declined by phone", now=NOW)
    await hall.dispatching("skip", request.id, registrations[0], reason="no answer", now=NOW)
    dispatch = await hall.dispatching("morning_referral", request.id, expected=None, now=NOW)
    assert dispatch.registration_id == registrations[1]
    why = await explained(hall, dispatch.id)

    assert why.findings == []
    assert why.method == DispatchMethod.MORNING_REFERRAL
    assert why.rule.startswith("rule 10: a morning referral takes the first eligible")
    assert (why.position, why.ahead_count) == (3, 2)
    assert why.queue_length == 5  # the import, registrations 0, 1, 2 and 5: 3 is exempt, 4 rolled off
    number = request.request_number
    assert [(entry.registration_id, entry.position, entry.passed_over) for entry in why.ahead] == [
        (imported, 1, f"passed over for {number}: declined by phone (rule 10)"),
        (registrations[0], 2, f"passed over for {number}: no answer (rule 10)"),
    ]


async def test_explain_names_the_exempt_and_the_recorded_skips_ahead(hall: HallKit) -> None:
    book = await hall.book()
    first, second, third = [
        (await hall.register(book, await hall.member(), NOW + timedelta(seconds=index))).id for index in range(3)
    ]
    await hall.call(
        "exempt", first, reason=ExemptReason.JURY_DUTY, start=None, end=date(2026, 12, 10), note="summons", now=NOW
    )
    request = await hall.request(book, NOW)
    await hall.dispatching("skip", request.id, second, reason="declined by phone", now=NOW)
    dispatch = await hall.dispatching("morning_referral", request.id, expected=None, now=NOW)
    why = await explained(hall, dispatch.id)

    assert (why.registration_id, why.position, why.queue_length, why.ahead_count) == (third, 2, 2, 2)
    assert [(entry.registration_id, entry.position, entry.status) for entry in why.ahead] == [
        (second, 1, RegistrationStatus.REGISTERED),
        (first, None, RegistrationStatus.EXEMPT),
    ]
    assert why.ahead[0].passed_over == f"passed over for {request.request_number}: declined by phone (rule 10)"
    assert why.ahead[1].passed_over.startswith("jury_duty exemption 2026-12-03 to 2026-12-10: summons")


async def test_explain_of_a_by_name_dispatch_gives_its_reason_as_the_rule(hall: HallKit) -> None:
    book = await hall.book()
    regs = [(await hall.register(book, await hall.member(), NOW + timedelta(seconds=i))).id for i in range(3)]
    request = await hall.request(book, NOW)
    dispatch = await hall.dispatching(
        "named", request.id, regs[2], method=DispatchMethod.BY_NAME, reason="the foreman asked", now=NOW
    )
    why = await explained(hall, dispatch.id)
    assert why.rule == "rule 10: the employer asked for this member by name: the foreman asked"
    assert why.position == 3
    assert [entry.passed_over for entry in why.ahead] == [
        "by-name dispatch outside the queue: the foreman asked (rule 10)"
    ] * 2
    assert why.findings == []


# -- verify finds what no rule explains ------------------------------------------------------------------


async def test_verify_finds_an_apn_changed_with_plain_sql(hall: HallKit, database_url: str) -> None:
    _, registrations = await busy_book(hall)
    await hall.sql("UPDATE book_registrations SET applicant_priority_number = 1.00 WHERE id = :r", r=registrations[5])
    report = await verified(hall)
    assert report.findings, "a queue jump with no rule behind it must be found"
    assert any("position change with no rule behind it" in finding.text for finding in report.findings)

    result = rollcall("hall", "verify", "--tenant", "demo-hall", env={"DATABASE_URL": database_url})
    assert result.returncode == 1
    assert "position change with no rule behind it" in result.stdout
    assert "findings" in result.stderr


async def test_verify_finds_a_status_changed_with_plain_sql(hall: HallKit) -> None:
    _, registrations = await busy_book(hall)
    await hall.sql("UPDATE book_registrations SET status = 'exempt' WHERE id = :r", r=registrations[0])
    [finding] = (await verified(hall)).findings
    assert finding.seq is None
    assert "is exempt, but the trace ends with registered" in finding.text


async def test_verify_finds_a_registration_written_outside_the_rules(hall: HallKit) -> None:
    book, _ = await busy_book(hall)
    member = await hall.member()
    await hall.sql(
        "INSERT INTO book_registrations (tenant_id, member_id, book_id, applicant_priority_number, registered_at,"
        " re_sign_deadline) VALUES (:t, :m, :b, 1.00, now(), now() + interval '30 days')",
        t=hall.tenant_id, m=member, b=book,
    )  # fmt: skip
    findings = (await verified(hall)).findings
    assert any("with no trace: written outside the rules" in finding.text for finding in findings)


async def test_verify_finds_a_referral_that_passed_over_someone_without_a_reason(hall: HallKit) -> None:
    book = await hall.book()
    regs = [(await hall.register(book, await hall.member(), NOW + timedelta(seconds=i))).id for i in range(3)]
    request = await hall.request(book, NOW)
    dispatch = await hall.dispatching(
        "named", request.id, regs[1], method=DispatchMethod.BY_NAME, reason="asked", now=NOW
    )
    assert (await verified(hall)).findings == []
    await hall.sql("UPDATE dispatches SET method = 'morning_referral', reason = NULL WHERE id = :d", d=dispatch.id)
    [finding] = (await verified(hall)).findings
    assert "passed over member M00001 at position 1 without a recorded reason" in finding.text
    assert (await explained(hall, dispatch.id)).ahead[0].passed_over == "no recorded reason: not explained by any rule"


async def test_a_clean_hall_verifies_with_exit_status_0(hall: HallKit, database_url: str) -> None:
    await busy_book(hall)
    result = rollcall("hall", "verify", "--tenant", "demo-hall", env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("clean")
    unknown = rollcall("hall", "verify", "--tenant", "demo-club", env={"DATABASE_URL": database_url})
    assert unknown.returncode == 1
    assert "no hall tenant 'demo-club'" in unknown.stderr


# -- concurrency -----------------------------------------------------------------------------------------


async def test_parallel_morning_referrals_never_send_one_member_twice_nor_pass_one_over(hall: HallKit) -> None:
    book = await hall.book()
    regs = [(await hall.register(book, await hall.member(), NOW + timedelta(seconds=i))).id for i in range(12)]
    requests = [await hall.request(book, NOW, workers_requested=2) for _ in range(4)]

    async def dispatcher(request_id: UUID) -> list[UUID]:
        sent = []
        for _ in range(2):
            async with hall.session_maker() as session:
                dispatch = await DispatchRules(session).morning_referral(
                    hall.actor(), request_id, expected=None, now=NOW
                )
                sent.append(dispatch.registration_id)
        return sent

    results = await asyncio.gather(*(dispatcher(request.id) for request in requests))
    sent = [registration for batch in results for registration in batch]
    assert sorted(sent, key=regs.index) == regs[:8]  # each of the first eight once, nobody after them
    assert (await verified(hall)).findings == []


async def test_processing_bids_twice_at_once_fills_each_place_once(hall: HallKit) -> None:
    book = await hall.book(internet_bidding_enabled=True)
    members = [await hall.member() for _ in range(5)]
    for index, member in enumerate(members):
        await hall.register(book, member, NOW + timedelta(seconds=index))
    request = await hall.request(book, NOW, workers_requested=2, allows_online_bidding=True)
    evening = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    for member in reversed(members):
        await hall.dispatching("bid", request.id, member, now=evening)
    seven = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    outcomes = await asyncio.gather(
        *(hall.dispatching("process_bids", request.id, reason=None, now=seven) for _ in range(2))
    )
    accepted = [bid.member_id for outcome in outcomes for bid in outcome.accepted]
    assert accepted == members[:2]
    rows = await hall.sql("SELECT count(*) AS n FROM dispatches WHERE labor_request_id = :r", r=request.id)
    assert rows[0].n == 2
    assert (await verified(hall)).findings == []


# -- the whole walk --------------------------------------------------------------------------------------


async def test_one_member_from_registration_to_quit(hall: HallKit) -> None:
    """register → bid → accepted → dispatched → short_call_end (restored, same APN) → quit (off every book)."""
    book = await hall.book(internet_bidding_enabled=True)
    second_book = await hall.book("IW2")
    member = await hall.member()
    registration = await hall.register(book, member, NOW)
    elsewhere = await hall.register(second_book, member, NOW)
    apn = registration.applicant_priority_number

    short_call = await hall.request(book, NOW, allows_online_bidding=True, estimated_duration_days=8)
    bid = await hall.dispatching("bid", short_call.id, member, now=datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    assert bid.queue_position_at_bid == 1
    outcome = await hall.dispatching(
        "process_bids", short_call.id, reason=None, now=datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    )
    [accepted] = outcome.accepted
    assert accepted.id == bid.id
    first_job = accepted.dispatch_id
    await hall.dispatching(
        "check_in", first_job, member_id=member, note=None, now=datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    )
    await hall.dispatching(
        "terminate", first_job, reason=TermReason.SHORT_CALL_END, end_date=date(2026, 12, 14), days_worked=None,
        note="job done", member_id=None, now=datetime(2026, 12, 15, 1, 0, tzinfo=UTC),
    )  # fmt: skip
    restored = await hall.registration(registration.id)
    assert (restored.status, restored.applicant_priority_number) == (RegistrationStatus.REGISTERED, apn)
    assert restored.short_call_restorations == 1

    regular = await hall.request(book, datetime(2026, 12, 15, 17, 0, tzinfo=UTC), start_date=date(2026, 12, 16))
    second_job = await hall.dispatching(
        "morning_referral", regular.id, expected=registration.id, now=datetime(2026, 12, 15, 17, 5, tzinfo=UTC)
    )
    await hall.dispatching(
        "terminate", second_job.id, reason=TermReason.QUIT, end_date=None, days_worked=None, note="walked off",
        member_id=member, now=datetime(2026, 12, 18, 20, 0, tzinfo=UTC),
    )  # fmt: skip

    trace = [(row.action, row.previous_status, row.new_status, row.previous_position, row.new_position)
             for row in await hall.activities(registration.id)]  # fmt: skip
    registered, dispatched, off = (
        RegistrationStatus.REGISTERED,
        RegistrationStatus.DISPATCHED,
        RegistrationStatus.ROLLED_OFF,
    )
    assert trace == [
        (ActivityAction.REGISTERED, None, registered, None, 1),
        (ActivityAction.DISPATCHED, registered, dispatched, 1, None),
        (ActivityAction.RESTORED, dispatched, registered, None, 1),
        (ActivityAction.DISPATCHED, registered, dispatched, 1, None),
        (ActivityAction.ROLLED_OFF, dispatched, off, None, None),
    ]
    [*_, other_off] = await hall.activities(elsewhere.id)
    assert (other_off.action, other_off.dispatch_id) == (ActivityAction.ROLLED_OFF, second_job.id)
    for reg in (registration.id, elsewhere.id):
        assert (await hall.registration(reg)).roll_off_reason == RollOffReason.QUIT

    assert [e["registration_id"] for e in await hall.events("registration.created")] == [
        str(registration.id), str(elsewhere.id)
    ]  # fmt: skip
    assert [e["bid_id"] for e in await hall.events("bid.accepted")] == [str(bid.id)]
    assert [e["dispatch_id"] for e in await hall.events("dispatch.created")] == [str(first_job), str(second_job.id)]
    terminated = await hall.events("dispatch.terminated")
    assert [(e["dispatch_id"], e["reason"]) for e in terminated] == [
        (str(first_job), "short_call_end"), (str(second_job.id), "quit")
    ]  # fmt: skip
    assert {e["registration_id"] for e in await hall.events("registration.rolled_off")} == {
        str(registration.id), str(elsewhere.id)
    }  # fmt: skip
    assert len(await hall.events("labor_request.created")) == 2
    assert (await verified(hall)).findings == []


async def test_0012_adds_the_dispatch_functions_and_the_skips_index_and_downgrades_to_exactly_0011(
    empty_database: str,  # noqa: F811
) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    dsn = _dsn(empty_database)
    await asyncio.to_thread(commands.upgrade, "0011")
    before = await snapshot(dsn)
    await asyncio.to_thread(commands.upgrade, "0012")
    at_0012 = await snapshot(dsn)
    await asyncio.to_thread(commands.downgrade, "0011")
    undone = await snapshot(dsn)
    await asyncio.to_thread(commands.upgrade, "0012")

    assert at_0012["functions"] - before["functions"] == {
        "hall_counts_from", "hall_dispatch_write", "hall_morning_referral", "hall_process_bids"
    }  # fmt: skip
    assert at_0012["tables"] == before["tables"]
    assert {key: value for key, value in undone.items() if key != "version"} == {
        key: value for key, value in before.items() if key != "version"
    }
    assert await snapshot(dsn) == at_0012
