"""demo-hall's demo data: two employers, two books (one without a contract code), thirty members on them."""

from __future__ import annotations

from datetime import UTC, datetime

from app.hall.demo import load_hall_demo
from tests.hall.kit import HallKit


async def test_the_demo_hall_has_two_books_thirty_registered_members_and_two_employers(hall: HallKit) -> None:
    now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    for _ in range(2):  # a second load changes nothing
        async with hall.session_maker() as session:
            await load_hall_demo(session, now=now)
    books = await hall.sql("SELECT code, contract_code FROM referral_books ORDER BY code")
    assert [(row.code, row.contract_code) for row in books] == [("IW-1", "INSIDE"), ("TS-1", None)]
    assert (await hall.sql("SELECT count(*) AS n FROM employers"))[0].n == 2
    registered = await hall.sql(
        "SELECT count(DISTINCT member_id) AS members, count(*) AS registrations FROM book_registrations"
        " WHERE status = 'registered'"
    )
    assert (registered[0].members, registered[0].registrations) == (30, 36)
    traced = await hall.sql("SELECT count(*) AS n FROM registration_activities WHERE action = 'imported'")
    assert traced[0].n == 36
    ana = await hall.sql("SELECT first_name FROM members WHERE keycloak_sub = 'demo-member'")
    assert [row.first_name for row in ana] == ["Ana"]
    deadlines = await hall.sql("SELECT min(re_sign_deadline) AS first FROM book_registrations")
    assert deadlines[0].first > now  # nobody's registration lapses the moment the demo starts
