"""POST /admin/email/blast: the parents of players with an open offer, one email each, exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.notify.sink import MailSink
from tests.club.conftest import ClubAdmin
from tests.club.test_public_link import LINKS, signing
from tests.club.test_welcome_email import parts, relay
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
BLAST = "/email/blast"

pytestmark = pytest.mark.usefixtures("tenants", "notifier")


async def offer(club: ClubAdmin, player_id: str) -> None:
    await club.call("POST", "/contracts/offer", {"player_id": player_id, "monthly_fee": 10000}, 200)


async def roster(club: ClubAdmin) -> dict[str, Any]:
    """Two teams; Dana has two offered players (one per team), Lee one offered, Kim one signed-later, Max none;
    one offered player has no parent."""
    kings = await club.team("Kings")
    queens = await club.team("Queens")
    dana = await club.parent("dana@example.org", "Dana Rivera")
    lee = await club.parent("lee@example.org", "Lee Chen")
    kim = await club.parent("kim@example.org", "Kim Park")
    players = {
        "sam": await club.player("Sam Rivera", team_ids=[kings["id"]], parent_id=dana["id"]),
        "ana": await club.player("Ana Rivera", team_ids=[queens["id"]], parent_id=dana["id"]),
        "tom": await club.player("Tom Chen", team_ids=[kings["id"]], parent_id=lee["id"]),
        "joy": await club.player("Joy Park", team_ids=[kings["id"]], parent_id=kim["id"]),
        "solo": await club.player("Solo Player", team_ids=[kings["id"]]),
        "max": await club.player("Max None", team_ids=[kings["id"]], parent_id=kim["id"]),
    }
    for name in ("sam", "ana", "tom", "joy", "solo"):
        await offer(club, players[name]["id"])
    return {"kings": kings, "queens": queens, "dana": dana, "lee": lee, "kim": kim, **players}


async def test_a_dry_run_lists_exactly_the_parents_of_open_offers_and_writes_nothing(club: ClubAdmin, kit: Kit) -> None:
    made = await roster(club)
    before = await kit.sql("SELECT count(*) AS n FROM outbox_events")
    result = await club.call("POST", BLAST, {"audience": "unsigned_contracts", "dry_run": True}, 200)
    assert (result["dry_run"], result["blast_id"], result["recipient_count"]) == (True, None, 3)
    assert result["players_without_parent"] == 1
    by_email = {r["email"]: r for r in result["recipients"]}
    assert set(by_email) == {"dana@example.org", "lee@example.org", "kim@example.org"}
    assert sorted(by_email["dana@example.org"]["player_names"]) == ["Ana Rivera", "Sam Rivera"]
    assert by_email["kim@example.org"]["player_ids"] == [made["joy"]["id"]]  # Max has no offer
    assert await kit.sql("SELECT count(*) AS n FROM outbox_events") == before


async def test_one_team_narrows_the_audience(club: ClubAdmin) -> None:
    made = await roster(club)
    body = {"audience": "unsigned_contracts", "team_id": made["queens"]["id"], "dry_run": True}
    result = await club.call("POST", BLAST, body, 200)
    assert [(r["email"], r["player_names"]) for r in result["recipients"]] == [("dana@example.org", ["Ana Rivera"])]


async def test_the_blast_queues_one_event_per_parent_in_one_go(club: ClubAdmin, kit: Kit) -> None:
    await roster(club)
    result = await club.call("POST", BLAST, {"audience": "unsigned_contracts"}, 200)
    assert (result["recipient_count"], result["recipients"], result["dry_run"]) == (3, None, False)
    events = await kit.sql("SELECT * FROM outbox_events WHERE event_type = 'email.blast_requested' ORDER BY seq")
    assert len(events) == 3
    assert {event.payload["blast_id"] for event in events} == {result["blast_id"]}
    assert {event.aggregate_type for event in events} == {"parent"}


async def test_each_parent_gets_one_email_with_their_links_even_when_delivered_twice(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    made = await roster(club)
    worker = relay(kit)
    await worker.deliver_batch()  # the offers' events
    body = {"audience": "unsigned_contracts", "subject_template": "{{ club_name }}: sign for {{ player_names }}"}
    await club.call("POST", BLAST, body, 200)
    await worker.deliver_batch()
    # Deliver the blast's events a second time, as a worker that lost its lease would.
    await kit.sql("DELETE FROM outbox_deliveries WHERE event_id IN "
                  "(SELECT id FROM outbox_events WHERE event_type = 'email.blast_requested')")  # fmt: skip
    await kit.sql("UPDATE outbox_events SET status = 'pending', delivered_at = NULL "
                  "WHERE event_type = 'email.blast_requested'")  # fmt: skip
    await worker.deliver_batch()
    redelivered = await kit.sql("SELECT d.outcome FROM outbox_deliveries AS d JOIN outbox_events AS e "
                                "ON e.id = d.event_id WHERE e.event_type = 'email.blast_requested'")  # fmt: skip
    assert [row.outcome for row in redelivered] == ["done"] * 3  # the handler did run a second time

    messages = {message["To"]: message for message in mail_sink.received()}
    assert len(mail_sink.received()) == 3
    assert set(messages) == {"dana@example.org", "lee@example.org", "kim@example.org"}
    dana = messages["dana@example.org"]
    assert dana["Subject"] == "Demo Youth Soccer Club: sign for Ana Rivera, Sam Rivera"
    text, html = parts(dana)
    tokens = await kit.sql(
        "SELECT name, contract_token FROM players WHERE id IN (:a, :b)", a=made["sam"]["id"], b=made["ana"]["id"]
    )
    for row in tokens:
        assert f"https://rollcall.test{LINKS}/{row.contract_token}" in text
        assert f"https://rollcall.test{LINKS}/{row.contract_token}" in html
    logs = await kit.sql("SELECT status FROM email_log WHERE handler = 'blast_email'")
    assert [log.status for log in logs] == ["sent"] * 3


async def test_a_contract_signed_after_the_blast_is_not_in_its_email(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    made = await roster(club)
    await club.call("POST", BLAST, {"audience": "unsigned_contracts"}, 200)
    token = (await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=made["tom"]["id"]))[0]
    assert (await client.post(f"{LINKS}/{token.contract_token}/sign", json=signing())).status_code == 200
    await relay(kit).deliver_batch()
    blasts = [m for m in mail_sink.received() if "waiting" in parts(m)[0]]
    assert {m["To"] for m in blasts} == {"dana@example.org", "kim@example.org"}
    [lee_log] = await kit.sql("SELECT * FROM email_log WHERE handler = 'blast_email' AND recipient = 'lee@example.org'")
    assert (lee_log.status, lee_log.error) == ("skipped", "no open offer left: every contract was answered meanwhile")


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"audience": "everyone"}, 400, None),
        ({"audience": "unsigned_contracts", "subject_template": "{{ secret_key }}"}, 422, "does not render"),
        ({"audience": "unsigned_contracts", "subject_template": "{% for %}"}, 422, "does not render"),
        ({"audience": "unsigned_contracts", "subject_template": "{{ ''.__class__.__mro__ }}"}, 422, "does not render"),
        ({"audience": "unsigned_contracts", "team_id": "00000000-0000-0000-0000-000000000000"}, 422, "not one of"),
    ],
)
async def test_bad_requests_are_refused_and_queue_nothing(
    club: ClubAdmin, kit: Kit, body: dict[str, Any], status: int, detail: str | None
) -> None:
    await roster(club)
    problem = await club.call("POST", BLAST, body, status)
    if detail is not None:
        assert detail in problem["detail"]
    assert await kit.sql("SELECT 1 FROM outbox_events WHERE event_type = 'email.blast_requested'") == []


async def test_another_clubs_team_is_refused(club: ClubAdmin, rival: ClubAdmin, kit: Kit) -> None:
    theirs = await rival.team("Rival Kings")
    await roster(club)
    problem = await club.call("POST", BLAST, {"team_id": theirs["id"]}, 422)
    assert "not one of this club's teams" in problem["detail"]


async def test_nobody_to_email_queues_nothing(club: ClubAdmin, kit: Kit) -> None:
    result = await club.call("POST", BLAST, {"audience": "unsigned_contracts"}, 200)
    assert (result["recipient_count"], result["blast_id"]) == (0, None)
    assert await kit.sql("SELECT 1 FROM outbox_events") == []


async def test_the_blast_needs_the_admin_role(client: Client, mint: Any) -> None:
    headers = {"Authorization": f"Bearer {mint(tenant='demo-club', roles=['coach'])}"}
    response = await client.post(f"/api/v1/admin{BLAST}", json={"dry_run": True}, headers=headers)
    assert response.status_code == 403
