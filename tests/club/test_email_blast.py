"""POST /admin/email/blast: the parents of players with an open offer, one email each, exactly once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.dev.mail_sink import MailSink
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
        assert f"https://rollcall.test/sign/{row.contract_token}" in text
        assert f'href="https://rollcall.test/sign/{row.contract_token}"' in html
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
        ({"audience": "unsigned_contracts", "subject_template": "{{ secret_key }}"}, 422, "unknown placeholder"),
        ({"audience": "unsigned_contracts", "subject_template": "{% for %}"}, 422, "not supported"),
        ({"audience": "unsigned_contracts", "subject_template": "{{ ''.__class__.__mro__ }}"}, 422, "placeholder"),
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


@pytest.mark.parametrize(
    "subject",
    [
        "{{ (7 ** 10000000) > 1 }}",
        "{{ 'x' * 3000000000 }}",
        "{% if parent_name != 'Parent' %}{{ (parent_name|length) ** 10000000 > 1 }}{% endif %}",
        "{{ 10 ** 5000 }}",  # past Python's int-to-str digit limit: a ValueError, never a 500
        "{{ club_name }} {{ player_names",
        "{# a note #}{{ club_name }}",
        "{{ club_name|upper }}",
    ],
    ids=["power", "repeat", "guarded", "digit-limit", "unclosed", "comment", "filter"],
)
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "for-real"])
async def test_a_subject_that_is_more_than_placeholders_is_refused_at_once_and_queues_nothing(
    club: ClubAdmin, kit: Kit, subject: str, dry_run: bool
) -> None:
    await roster(club)
    started = time.monotonic()
    problem = await club.call(
        "POST", BLAST, {"audience": "unsigned_contracts", "subject_template": subject, "dry_run": dry_run}, 422
    )
    assert time.monotonic() - started < 1.0
    assert "{{ club_name }}, {{ parent_name }}, {{ player_names }}" in problem["detail"]
    assert await kit.sql("SELECT 1 FROM outbox_events WHERE event_type = 'email.blast_requested'") == []


async def test_placeholders_may_be_written_with_or_without_spaces_and_the_subject_is_one_capped_line(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    await roster(club)
    await relay(kit).deliver_batch()
    subject = "{{club_name}} | {{  parent_name  }} | {{ player_names }} | { not a placeholder } " + "ab " * 60
    await club.call("POST", BLAST, {"audience": "unsigned_contracts", "subject_template": subject}, 200)
    await relay(kit).deliver_batch()
    dana = next(message for message in mail_sink.received() if message["To"] == "dana@example.org")
    expected = "Demo Youth Soccer Club | Dana Rivera | Ana Rivera, Sam Rivera | { not a placeholder }" + " ab" * 60
    assert dana["Subject"] == expected[:199] + "…"


DEFAULT_SUBJECT = "Demo Youth Soccer Club: Ana Rivera, Sam Rivera — contract waiting for your signature"


@pytest.mark.parametrize(
    ("queued", "expected", "replaced"),
    [
        (
            "{{club_name}}: sign for {{ player_names }}",
            "Demo Youth Soccer Club: sign for Ana Rivera, Sam Rivera",
            False,
        ),
        (
            "{% if parent_name != 'Parent' %}{{ (parent_name|length) ** 10000000 > 1 }}{% endif %}",
            DEFAULT_SUBJECT,
            True,
        ),
        ("{{ parent_name|upper }}", DEFAULT_SUBJECT, True),
    ],
    ids=["placeholders-only", "guarded", "filter"],
)
async def test_a_queued_jinja_subject_renders_the_same_or_falls_back_to_the_default_without_stalling_the_worker(
    club: ClubAdmin,
    kit: Kit,
    mail_sink: MailSink,
    capsys: pytest.CaptureFixture[str],
    queued: str,
    expected: str,
    replaced: bool,
) -> None:
    """Events queued before subjects became placeholders only may carry any Jinja the sandbox accepted."""
    await roster(club)
    worker = relay(kit)
    await worker.deliver_batch()
    await club.call("POST", BLAST, {"audience": "unsigned_contracts"}, 200)
    await kit.sql("UPDATE outbox_events SET payload = jsonb_set(payload, '{subject_template}', "
                  "to_jsonb(CAST(:subject AS text))) WHERE event_type = 'email.blast_requested'",
                  subject=queued)  # fmt: skip
    started = time.monotonic()
    await worker.deliver_batch()
    assert time.monotonic() - started < 3.0
    dana = next(message for message in mail_sink.received() if message["To"] == "dana@example.org")
    assert dana["Subject"] == expected
    assert ("blast_subject_replaced" in capsys.readouterr().err) is replaced


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
