"""The dispatch API: who may dispatch, skip, check in, end a job and read the fairness record; problems name rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tests.hall.conftest import HallStaff
from tests.hall.kit import HallKit

Caller = Callable[..., HallStaff]
REFERRAL = {"method": "morning_referral"}


async def waiting(hall: HallKit, size: int, *, subs: tuple[str, ...] = ()) -> tuple[UUID, list[UUID], Any]:
    """A book of ``size`` registrants (the first ``len(subs)`` with logins) and a request taken yesterday
    morning (so it is fillable now, whatever the hour), starting in a week."""
    book = await hall.book()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    taken = datetime(yesterday.year, yesterday.month, yesterday.day, 17, 0, tzinfo=UTC)  # 09:00 or 10:00 in LA
    registrations = []
    for index in range(size):
        member = await hall.member(sub=subs[index] if index < len(subs) else None)
        registrations.append((await hall.register(book, member, taken - timedelta(hours=1, seconds=-index))).id)
    request = await hall.request(book, taken, start_date=(datetime.now(UTC) + timedelta(days=7)).date())
    return book, registrations, request


async def test_a_dispatcher_skips_dispatches_and_explains(dispatcher: HallStaff, hall: HallKit) -> None:
    _, (first, second), request = await waiting(hall, 2)
    skip = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/skips", {"registration_id": str(first), "reason": "declined"}, 201
    )
    assert (skip["position"], skip["check_mark"], skip["check_marks"]) == (1, True, 1)
    sent = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/dispatches", {"method": "morning_referral"}, 201
    )
    assert (sent["registration_id"], sent["method"], sent["status"]) == (str(second), "morning_referral", "dispatched")

    why = await dispatcher.call("GET", f"/dispatches/{sent['id']}/explain", expect=200)
    assert (why["position"], why["ahead_count"], why["findings"]) == (2, 1, [])
    assert why["ahead"][0]["passed_over"] == f"passed over for {request.request_number}: declined (rule 10)"
    assert why["applicant_priority_number"].count(".") == 1  # a decimal string, never a float
    listed = await dispatcher.call("GET", f"/labor-requests/{request.id}/dispatches", expect=200)
    assert [row["id"] for row in listed] == [sent["id"]]
    read = await dispatcher.call("GET", f"/labor-requests/{request.id}", expect=200)
    assert (read["workers_dispatched"], read["status"]) == (1, "filled")


async def test_refusals_name_their_rule_and_change_nothing(dispatcher: HallStaff, hall: HallKit) -> None:
    _, (first,), request = await waiting(hall, 1)
    no_reason = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/dispatches", {"method": "by_name", "registration_id": str(first)}, 422
    )
    assert no_reason["detail"].startswith("rule 10: a by_name dispatch names the registrant and gives a reason")
    await dispatcher.call("POST", f"/labor-requests/{request.id}/dispatches", {"method": "lottery"}, 400)
    await dispatcher.call("POST", f"/labor-requests/{request.id}/dispatches", REFERRAL, 201)
    full = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/dispatches", {"method": "morning_referral"}, 409
    )
    assert full["detail"].startswith(f"rule 10: {request.request_number} is filled")
    assert (await hall.sql("SELECT count(*) AS n FROM dispatches"))[0].n == 1


async def test_a_member_checks_in_and_quits_only_their_own_dispatch(
    dispatcher: HallStaff, caller: Caller, hall: HallKit
) -> None:
    _, (first, _), request = await waiting(hall, 2, subs=("worker-a", "worker-b"))
    sent = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/dispatches", {"method": "morning_referral"}, 201
    )
    mine, theirs = caller("demo-hall", "member", sub="worker-a"), caller("demo-hall", "member", sub="worker-b")
    await theirs.call("GET", f"/dispatches/{sent['id']}", expect=404)
    await theirs.call("POST", f"/dispatches/{sent['id']}/check-in", {}, 404)
    checked = await mine.call("POST", f"/dispatches/{sent['id']}/check-in", {"note": "at the gate"}, 200)
    assert checked["status"] == "checked_in"
    await mine.call("POST", f"/dispatches/{sent['id']}/terminate", {"reason": "rif"}, 403)
    await mine.call("GET", f"/dispatches/{sent['id']}/explain", expect=403)
    await mine.call("POST", f"/labor-requests/{request.id}/dispatches", REFERRAL, 403)
    quit_ = await mine.call("POST", f"/dispatches/{sent['id']}/terminate", {"reason": "quit", "note": "moving"}, 200)
    assert (quit_["status"], quit_["term_reason"]) == ("terminated", "quit")
    assert (await hall.registration(first)).roll_off_reason == "quit"


async def test_another_tenant_sees_none_of_it(
    dispatcher: HallStaff, rival_hall: HallStaff, club_admin: HallStaff, hall: HallKit
) -> None:
    _, _, request = await waiting(hall, 1)
    sent = await dispatcher.call(
        "POST", f"/labor-requests/{request.id}/dispatches", {"method": "morning_referral"}, 201
    )
    await rival_hall.call("GET", f"/labor-requests/{request.id}", expect=404)
    await rival_hall.call("GET", f"/dispatches/{sent['id']}/explain", expect=404)
    await rival_hall.call("POST", f"/labor-requests/{request.id}/dispatches", REFERRAL, 404)
    await club_admin.call("GET", "/labor-requests", expect=404)
