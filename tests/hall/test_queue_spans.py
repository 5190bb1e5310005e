"""Migration 0011: the out-of-work list counted by spans of APNs (kept by triggers), the database's
``queue_position`` and ``hall_register``, and the pages read through them (rule 2) against a plain recount."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from app.core.errors import ResourceNotFoundError
from app.hall.clock import HallClock, excel_serial
from app.hall.registrations.queue import out_of_work_page
from tests.hall.kit import HallKit
from tests.hall.test_hall_schema import snapshot
from tests.test_migrations import _dsn, empty_database  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 2026-12-03 17:00 in Los Angeles

RECOUNT = """
    SELECT book_id, floor(applicant_priority_number / 8)::integer AS span, count(*) AS waiting
    FROM book_registrations WHERE status = 'registered' GROUP BY 1, 2
"""
NAIVE_ORDER = """
    SELECT id FROM book_registrations WHERE book_id = :b AND status = 'registered'
    ORDER BY applicant_priority_number, registered_at, id
"""


async def spans(hall: HallKit) -> dict[tuple[UUID, int], int]:
    rows = await hall.sql("SELECT book_id, span, waiting FROM book_queue_spans")
    return {(row.book_id, row.span): row.waiting for row in rows}


async def recount(hall: HallKit) -> dict[tuple[UUID, int], int]:
    return {(row.book_id, row.span): row.waiting for row in await hall.sql(RECOUNT)}


async def imported(hall: HallKit, book: UUID, apn: str, *, at: datetime = NOW) -> UUID:
    registration = await hall.call(
        "import_registration", book, await hall.member(), apn=Decimal(apn), registered_at=at, last_re_sign_at=None,
        now=NOW,
    )  # fmt: skip
    return registration.id


# -- the span counts follow every change ---------------------------------------------------------------


async def test_a_registration_counts_in_its_span_and_a_span_nobody_waits_in_has_no_row(hall: HallKit) -> None:
    book = await hall.book()
    first = await imported(hall, book, "40000.01")  # span 5000 (40000 // 8)
    await imported(hall, book, "40007.99")  # the same span
    third = await imported(hall, book, "40008.01")  # the next one
    assert await spans(hall) == {(book, 5000): 2, (book, 5001): 1}

    await hall.call("roll_off", third, note="moved away", now=NOW)
    assert await spans(hall) == {(book, 5000): 2}
    await hall.sql("UPDATE book_registrations SET status = 'dispatched' WHERE id = :r", r=first)
    assert await spans(hall) == {(book, 5000): 1}
    await hall.sql("UPDATE book_registrations SET status = 'registered' WHERE id = :r", r=first)
    assert await spans(hall) == {(book, 5000): 2}


async def test_an_apn_moved_across_spans_and_a_deleted_row_are_counted_out(hall: HallKit) -> None:
    book = await hall.book()
    moved = await imported(hall, book, "40000.01")
    await hall.sql("UPDATE book_registrations SET applicant_priority_number = 40100.01 WHERE id = :r", r=moved)
    assert await spans(hall) == {(book, 5012): 1}
    await hall.sql("UPDATE book_registrations SET applicant_priority_number = 40100.50 WHERE id = :r", r=moved)
    assert await spans(hall) == {(book, 5012): 1}  # the same span: the trigger does not fire
    other = await hall.book("TS1", classification="tradeshow")
    await hall.sql("UPDATE book_registrations SET book_id = :o WHERE id = :r", o=other, r=moved)
    assert await spans(hall) == {(other, 5012): 1}
    untraced = await hall.sql(
        "INSERT INTO book_registrations (tenant_id, member_id, book_id, applicant_priority_number, re_sign_deadline)"
        " VALUES (:t, :m, :b, 40100.02, now()) RETURNING id",
        t=hall.tenant_id, m=await hall.member(), b=other,
    )  # fmt: skip
    assert await spans(hall) == {(other, 5012): 2}
    await hall.sql("DELETE FROM book_registrations WHERE id = :r", r=untraced[0].id)
    assert await spans(hall) == {(other, 5012): 1}


async def test_rows_that_are_not_registered_are_never_counted(hall: HallKit) -> None:
    book = await hall.book()
    await imported(hall, book, "40000.01")
    await hall.sql(
        "INSERT INTO book_registrations (tenant_id, member_id, book_id, applicant_priority_number, status,"
        " re_sign_deadline) VALUES (:t, :m, :b, 40001.01, 'dispatched', now())",
        t=hall.tenant_id, m=await hall.member(), b=book,
    )  # fmt: skip
    await hall.sql(
        "UPDATE book_registrations SET check_marks = 1, re_sign_deadline = now() + interval '9 days'"
        " WHERE book_id = :b",
        b=book,
    )
    assert await spans(hall) == {(book, 5000): 1}


async def test_the_counts_equal_a_recount_after_many_random_changes(hall: HallKit) -> None:
    chooser = random.Random(20261203)  # noqa: S311  (a fixed, repeatable sequence)
    books = [await hall.book("IW1"), await hall.book("TS1", classification="tradeshow")]
    registrations = [
        await imported(hall, chooser.choice(books), f"{40000 + chooser.randrange(40)}.{chooser.randrange(1, 100):02d}")
        for _ in range(30)
    ]
    statuses = ["registered", "dispatched", "exempt", "resigned"]
    for _ in range(60):
        target = chooser.choice(registrations)
        change = chooser.randrange(3)
        if change == 0:
            await hall.sql(
                "UPDATE book_registrations SET status = CAST(:s AS text),"
                " exempt_reason = CASE WHEN CAST(:s AS text) = 'exempt' THEN 'other' END,"
                " exempt_start = CASE WHEN CAST(:s AS text) = 'exempt' THEN current_date END,"
                " exempt_end = CASE WHEN CAST(:s AS text) = 'exempt' THEN current_date END WHERE id = :r",
                s=chooser.choice(statuses), r=target,
            )  # fmt: skip
        elif change == 1:
            apn = f"{40000 + chooser.randrange(40)}.{chooser.randrange(1, 100):02d}"
            await hall.sql(f"UPDATE book_registrations SET applicant_priority_number = {apn} WHERE id = :r", r=target)  # noqa: S608
        else:
            await hall.sql("UPDATE book_registrations SET check_marks = check_marks + 1 WHERE id = :r", r=target)
        assert await spans(hall) == await recount(hall)


async def test_concurrent_changes_in_one_span_keep_the_count(hall: HallKit) -> None:
    book = await hall.book()
    registrations = [await imported(hall, book, f"40000.{k:02d}") for k in range(1, 21)]

    async def roll_off(registration: UUID) -> None:
        await hall.call("roll_off", registration, note="left", now=NOW)

    await asyncio.gather(*(roll_off(registration) for registration in registrations[:15]))
    assert await spans(hall) == {(book, 5000): 5} == await recount(hall)


# -- places and pages, against a plain recount ---------------------------------------------------------


async def many_spans(hall: HallKit, count: int = 60) -> tuple[UUID, list[UUID]]:
    """``count`` registrants on one book, their APNs spread over 80 days (ten spans) with ties, a few of them
    dispatched or exempt; the naive queue order of the waiting ones."""
    chooser = random.Random(7)  # noqa: S311  (a fixed, repeatable sequence)
    book = await hall.book()
    made = []
    for _ in range(count):
        apn = f"{40000 + chooser.randrange(80)}.{chooser.randrange(1, 4):02d}"
        at = NOW - timedelta(minutes=chooser.randrange(3))
        made.append(await imported(hall, book, apn, at=at))
    for registration in made[::9]:
        await hall.sql("UPDATE book_registrations SET status = 'dispatched' WHERE id = :r", r=registration)
    order = [row.id for row in await hall.sql(NAIVE_ORDER, b=book)]
    return book, order


async def test_every_page_is_the_plain_ordered_list_sliced(hall: HallKit) -> None:
    book, order = await many_spans(hall)
    assert len({key[1] for key in await spans(hall)}) >= 8  # the list crosses many spans
    for limit in (1, 7, 50):
        for offset in range(0, len(order) + 2, limit):
            items, total = await out_of_work_page(hall.engine, hall.tenant_id, book, limit=limit, offset=offset)
            assert total == len(order)
            assert [item.registration_id for item in items] == order[offset : offset + limit], (limit, offset)
            assert [item.position for item in items] == list(range(offset + 1, offset + 1 + len(items)))


async def test_an_empty_book_has_an_empty_list_and_another_tenants_book_is_not_found(hall: HallKit) -> None:
    book = await hall.book()
    assert await out_of_work_page(hall.engine, hall.tenant_id, book, limit=50, offset=0) == ([], 0)
    assert await out_of_work_page(hall.engine, hall.tenant_id, book, limit=50, offset=500) == ([], 0)
    stranger = (
        await hall.sql("INSERT INTO tenants (slug, name, kind) VALUES ('elsewhere', 'E', 'hall') RETURNING id")
    )[0].id
    with pytest.raises(ResourceNotFoundError):
        await out_of_work_page(hall.engine, stranger, book, limit=50, offset=0)


async def test_queue_position_is_the_count_of_those_ahead_plus_one(hall: HallKit) -> None:
    book, order = await many_spans(hall)
    rows = await hall.sql(
        "SELECT id, queue_position(book_id, applicant_priority_number, registered_at, id) AS place"
        " FROM book_registrations WHERE book_id = :b AND status = 'registered'",
        b=book,
    )
    assert {row.id: row.place for row in rows} == {registration: index + 1 for index, registration in enumerate(order)}


def test_a_page_size_outside_1_to_200_has_no_statement() -> None:
    from app.hall.registrations.queue import _page_statement

    for limit in (0, 201):
        with pytest.raises(ValueError, match="1 to 200"):
            _page_statement(limit)
    assert "LIMIT 200)" in _page_statement(200)


# -- registration in one call --------------------------------------------------------------------------


async def test_parallel_registrations_get_the_places_in_the_order_of_their_numbers(hall: HallKit) -> None:
    book = await hall.book()
    await imported(hall, book, "40000.01")
    members = [await hall.member() for _ in range(10)]
    placed = await asyncio.gather(*(registered_with_place(hall, book, member) for member in members))
    by_apn = sorted(placed)
    assert [place for _, place in by_apn] == list(range(2, 12))  # each saw every registration before its own


async def registered_with_place(hall: HallKit, book: UUID, member: UUID) -> tuple[Decimal, int | None]:
    from app.hall.registrations.rules import RegistrationRules

    async with hall.session_maker() as session:
        placed = await RegistrationRules(session).register(hall.actor(), book, member, now=NOW)
    return placed.registration.applicant_priority_number, placed.position


@pytest.mark.parametrize(
    "registered_at",
    [
        NOW,
        datetime(2026, 10, 2, 8, 30, tzinfo=UTC),  # 01:30 PDT, 30 days before 01:30 happens twice (Nov 1)
        datetime(2026, 2, 6, 10, 30, tzinfo=UTC),  # 02:30 PST, 30 days before 02:30 never happens (Mar 8)
    ],
    ids=["ordinary", "wall-time-twice", "wall-time-skipped"],
)
async def test_the_deadline_the_database_computes_is_the_clocks(hall: HallKit, registered_at: datetime) -> None:
    book, member = await hall.book(), await hall.member()
    registration = await hall.register(book, member, registered_at)
    clock = HallClock(hall.timezone)
    assert registration.re_sign_deadline == clock.days_later(registered_at, 30)
    stored = await hall.sql("SELECT re_sign_deadline FROM book_registrations WHERE id = :r", r=registration.id)
    assert stored[0].re_sign_deadline == registration.re_sign_deadline
    assert registration.applicant_priority_number == Decimal(excel_serial(clock.day_of(registered_at))) + Decimal(
        "0.01"
    )


def test_a_wall_time_that_happens_twice_or_never_is_read_as_postgresql_reads_it() -> None:
    clock = HallClock("America/Los_Angeles")
    twice = clock.days_later(datetime(2026, 10, 2, 8, 30, tzinfo=UTC), 30)
    assert twice == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)  # the later 01:30, in PST
    never = clock.days_later(datetime(2026, 2, 6, 10, 30, tzinfo=UTC), 30)
    assert never == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)  # 03:30 PDT, an hour on
    assert clock.days_later(datetime(2026, 12, 4, 1, 0, tzinfo=UTC), 1) == datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


# -- the migration ---------------------------------------------------------------------------------------


async def test_0011_counts_the_registrations_already_there_and_downgrades_to_exactly_0010(
    empty_database: str,  # noqa: F811
) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    dsn = _dsn(empty_database)
    await asyncio.to_thread(commands.upgrade, "0010")
    connection = await asyncpg.connect(dsn)
    try:
        book = await seed_0010(connection)
        before = await snapshot(dsn)
        await asyncio.to_thread(commands.upgrade, "0011")
        counted = {row["span"]: row["waiting"] for row in await connection.fetch("SELECT * FROM book_queue_spans")}
        at_0011 = await snapshot(dsn)
        await asyncio.to_thread(commands.downgrade, "0010")
        undone = await snapshot(dsn)
        await asyncio.to_thread(commands.upgrade, "0011")
        again = await snapshot(dsn)
        waiting = await connection.fetchval("SELECT sum(waiting) FROM book_queue_spans WHERE book_id = $1", book)
    finally:
        await connection.close()

    assert counted == {5000: 2, 5012: 1}  # the registered ones only, each in its span
    assert at_0011["tables"] - before["tables"] == {"book_queue_spans"}
    assert at_0011["functions"] - before["functions"] == {"book_queue_spans_follow", "queue_position", "hall_register"}
    assert {key[1] for key in at_0011["triggers"]} - {key[1] for key in before["triggers"]} == {
        "book_queue_spans_on_insert",
        "book_queue_spans_on_update",
        "book_queue_spans_on_delete",
    }
    assert {key: value for key, value in undone.items() if key != "version"} == {
        key: value for key, value in before.items() if key != "version"
    }
    assert again == at_0011
    assert waiting == 3


async def seed_0010(connection: asyncpg.Connection[Any]) -> UUID:
    """A hall at 0010 with a book, three registered members and a dispatched one."""
    tenant = await connection.fetchval(
        "INSERT INTO tenants (slug, name, kind) VALUES ('older-hall', 'Older', 'hall') RETURNING id"
    )
    book = await connection.fetchval(
        "INSERT INTO referral_books (tenant_id, name, code, classification, region, book_number)"
        " VALUES ($1, 'Book 1', 'IW1', 'inside_wireperson', 'Bay', 1) RETURNING id",
        tenant,
    )
    for index, (apn, status) in enumerate(
        [("40000.01", "registered"), ("40001.02", "registered"), ("40100.01", "registered"), ("40002.01", "dispatched")]
    ):
        member = await connection.fetchval(
            "INSERT INTO members (tenant_id, member_number, first_name, last_name, classification)"
            " VALUES ($1, $2, 'A', 'B', 'journeyman') RETURNING id",
            tenant,
            f"M{index}",
        )
        await connection.execute(
            "INSERT INTO book_registrations (tenant_id, member_id, book_id, applicant_priority_number, status,"
            " re_sign_deadline) VALUES ($1, $2, $3, $4::numeric, $5, now())",
            tenant, member, book, apn, status,
        )  # fmt: skip
    return UUID(str(book))
