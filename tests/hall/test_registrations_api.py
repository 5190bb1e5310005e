"""The registrations API: who may do what, problems that name their rule, the member's view, CSV, concurrency."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from uuid import UUID

from app.hall.clock import HallClock, excel_serial
from tests.hall.conftest import HallStaff
from tests.hall.kit import HallKit

Caller = Callable[..., HallStaff]


async def test_a_dispatcher_registers_and_the_list_shows_the_places(
    dispatcher: HallStaff, caller: Caller, hall: HallKit
) -> None:
    staff = dispatcher
    book = await hall.book()
    members = [await hall.member() for _ in range(3)]
    made = [
        await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(m)}, expect=201) for m in members
    ]
    serial = excel_serial(
        HallClock(hall.timezone).day_of(__import__("datetime").datetime.now(__import__("datetime").UTC))
    )
    assert [entry["applicant_priority_number"] for entry in made] == [f"{serial}.0{k}" for k in (1, 2, 3)]
    assert [entry["position"] for entry in made] == [1, 2, 3]
    page = await staff.call("GET", f"/books/{book}/out-of-work?limit=2&offset=1", expect=200)
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [(row["position"], row["member_id"]) for row in page["items"]] == [
        (2, str(members[1])),
        (3, str(members[2])),
    ]
    trace = await staff.call("GET", f"/registrations/{made[0]['id']}/activities", expect=200)
    assert [(row["action"], row["new_position"], row["performed_by"]) for row in trace["items"]] == [
        ("registered", 1, "hall-dispatcher")
    ]
    events = await hall.events("registration.created")
    assert len(events) == 3


async def test_parallel_registration_requests_on_one_book_get_distinct_numbers(
    dispatcher: HallStaff, caller: Caller, hall: HallKit
) -> None:
    staff = dispatcher
    book = await hall.book()
    members = [await hall.member() for _ in range(10)]
    made = await asyncio.gather(
        *(staff.call("POST", f"/books/{book}/registrations", {"member_id": str(m)}, expect=201) for m in members)
    )
    numbers = sorted(entry["applicant_priority_number"] for entry in made)
    assert [number.split(".")[1] for number in numbers] == [f"{k:02d}" for k in range(1, 11)]


async def test_refusals_are_problems_that_name_their_rule_and_change_nothing(
    dispatcher: HallStaff, caller: Caller, hall: HallKit
) -> None:
    staff = dispatcher
    book, member = await hall.book(), await hall.member()
    registration = await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(member)}, expect=201)
    again = await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(member)}, expect=409)
    assert again["detail"].startswith("rule 1: member M00001 already has an active registration")
    path = f"/registrations/{registration['id']}"
    await staff.call("POST", f"{path}/check-marks", {"reason": "no answer"}, expect=200)
    twice = await staff.call("POST", f"{path}/check-marks", {"reason": "no answer"}, expect=409)
    assert twice["detail"].startswith("rule 4: the registration already has a check mark on")
    long = {"reason": "traveling", "end": "2035-01-01"}
    refused = await staff.call("POST", f"{path}/exemptions", long, expect=422)
    assert refused["detail"].startswith("rule 6: a traveling exemption lasts at most 180 days")
    for apn in ("40966.015", "-1", "100000000", "NaN", "Infinity", "", 40966.01):
        bad_apn = {"member_id": str(await hall.member()), "applicant_priority_number": apn}
        wrong = await staff.call("POST", f"/books/{book}/registrations/import", bad_apn, expect=400)
        assert [error["field"] for error in wrong["errors"]] == ["applicant_priority_number"], apn
    zero = {"member_id": str(await hall.member()), "applicant_priority_number": "0.00"}
    refused = await staff.call("POST", f"/books/{book}/registrations/import", zero, expect=422)
    assert refused["detail"].startswith("rule 1: an APN has at most two decimal places, from 0.01")
    assert len(await hall.activities(UUID(registration["id"]))) == 2  # registered, one check mark
    unknown = await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(book)}, expect=404)
    assert unknown["detail"].startswith("no member")
    await staff.call("POST", f"/books/{book}/registrations", {"member_id": "x"}, expect=400)


async def test_a_member_sees_and_re_signs_only_their_own(dispatcher: HallStaff, caller: Caller, hall: HallKit) -> None:
    staff = dispatcher
    book = await hall.book()
    mine_member, other_member = await hall.member(sub="kc-ana"), await hall.member(sub="kc-ben")
    other = await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(other_member)}, expect=201)
    mine = await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(mine_member)}, expect=201)
    ana = caller("demo-hall", "member", sub="kc-ana")
    listed = await ana.call("GET", f"/books/{book}/out-of-work", expect=200)
    assert [(row["member_id"], row["position"]) for row in listed["items"]] == [(str(mine_member), 2)]
    assert listed["total"] == 1
    assert (await ana.call("GET", "/me/registrations", expect=200))["items"][0]["id"] == mine["id"]
    await ana.call("GET", f"/registrations/{other['id']}", expect=404)
    await ana.call("GET", f"/registrations/{other['id']}/activities", expect=404)
    await ana.call("POST", f"/registrations/{other['id']}/re-sign", expect=404)
    signed = await ana.call("POST", f"/registrations/{mine['id']}/re-sign", expect=200)
    assert signed["applicant_priority_number"] == mine["applicant_priority_number"]
    await ana.call("POST", f"/registrations/{mine['id']}/check-marks", {"reason": "x"}, expect=403)
    await ana.call("POST", f"/books/{book}/registrations", {"member_id": str(mine_member)}, expect=403)
    stranger = caller("demo-hall", "member", sub="kc-nobody")
    refused = await stranger.call("GET", "/me/registrations", expect=403)
    assert refused["detail"] == "no member of this hall is linked to this login"


async def test_the_list_as_a_sheet(dispatcher: HallStaff, caller: Caller, hall: HallKit) -> None:
    staff = dispatcher
    book = await hall.book()
    for _ in range(3):
        await staff.call("POST", f"/books/{book}/registrations", {"member_id": str(await hall.member())}, expect=201)
    await hall.sql("UPDATE members SET last_name = '=HYPERLINK(\"x\")' WHERE member_number = 'M00002'")
    text = await staff.call("GET", f"/books/{book}/out-of-work", expect=200, accept="text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["position"] for row in rows] == ["1", "2", "3"]
    assert rows[1]["last_name"] == '\'=HYPERLINK("x")'  # shown as text, never run as a formula
    assert rows[0]["applicant_priority_number"].count(".") == 1


async def test_a_club_or_another_hall_reaches_none_of_it(dispatcher: HallStaff, caller: Caller, hall: HallKit) -> None:
    staff = dispatcher
    book = await hall.book()
    registration = await staff.call(
        "POST", f"/books/{book}/registrations", {"member_id": str(await hall.member())}, expect=201
    )
    club = caller("demo-club", "admin", "dispatcher", sub="club-admin")
    for method, path in (
        ("GET", f"/books/{book}/out-of-work"),
        ("POST", f"/registrations/{registration['id']}/re-sign"),
    ):
        await club.call(method, path, expect=404)
    other = caller("other-hall", "dispatcher", sub="other-dispatcher")
    await other.call("GET", f"/books/{book}/out-of-work", expect=404)
    await other.call("GET", f"/registrations/{registration['id']}", expect=404)
    await other.call("POST", f"/registrations/{registration['id']}/roll-off", {"reason": "x"}, expect=404)
    assert (await hall.registration(UUID(registration["id"]))).status == "registered"
