"""A GroupMe group belongs to at most one tenant: reconcile, the team API and the welcome email keep clubs apart.

The GroupMe side is the loopback stand-in (tests/notify/groupme_server.py); each
access token is an account of its own there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.club.groupme import GroupMeReconciler, ReconcileError, ReconcileReport, TeamAction, claim_groups
from app.dev.mail_sink import MailSink
from app.notify.groupme import GroupMeClient
from tests.club.conftest import ClubAdmin
from tests.club.test_public_link import LINKS, signing
from tests.club.test_welcome_email import parts, relay
from tests.notify.groupme_server import TOKEN, GroupMeServer
from tests.outbox.conftest import Kit
from tests.processes import rollcall
from tests.waiting import wait_for

Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.usefixtures("tenants")

SEASON = "2026-27"
STAFF = ("2001",)
CLUB_TOKEN = "club-own-gm-token-7d2e"


@pytest.fixture
def groupme() -> Iterator[GroupMeServer]:
    with GroupMeServer().running() as server:
        yield server


async def reconcile(kit: Kit, groupme: GroupMeServer, tenant: str, *, dry_run: bool = False) -> ReconcileReport:
    async with (
        GroupMeClient(api_url=groupme.url, access_token=TOKEN, backoff_base_seconds=0.001) as client,
        kit.session_maker() as session,
    ):
        return await GroupMeReconciler(session, client, STAFF).reconcile(tenant, dry_run=dry_run)


async def owners(kit: Kit) -> dict[str, str]:
    """Every recorded GroupMe group and the slug of the tenant that owns it."""
    rows = await kit.sql("SELECT g.group_id, t.slug FROM groupme_groups g JOIN tenants t ON t.id = g.tenant_id")
    return {row.group_id: row.slug for row in rows}


async def team_link(kit: Kit, tenant: str) -> tuple[str | None, str | None]:
    [row] = await kit.sql(
        "SELECT groupme_group_id, groupme_share_url FROM teams t JOIN tenants n ON n.id = t.tenant_id"
        " WHERE n.slug = :slug",
        slug=tenant,
    )
    return row.groupme_group_id, row.groupme_share_url


async def sign_for(client: Client, admin: ClubAdmin, kit: Kit, team_id: str, email: str) -> None:
    """A parent of the club signs a contract for a player of the team."""
    parent = await admin.parent(email=email)
    player = await admin.player(team_ids=[team_id], parent_id=parent["id"])
    await admin.call("POST", "/contracts/offer", {"player_id": player["id"], "monthly_fee": 9900}, 200)
    [row] = await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=player["id"])
    assert (await client.post(f"{LINKS}/{row.contract_token}/sign", json=signing())).status_code == 200


@pytest.mark.usefixtures("notifier")
async def test_two_clubs_with_the_same_team_each_get_their_own_group_and_their_parents_only_their_link(
    client: Client, club: ClubAdmin, rival: ClubAdmin, kit: Kit, groupme: GroupMeServer, mail_sink: MailSink
) -> None:
    kings = await club.team("U12 Kings Elite", SEASON)
    rival_kings = await rival.team("U12 Kings Elite", SEASON)
    hand_made = groupme.add_group("U12 Kings Elite 2026-27")

    first = await reconcile(kit, groupme, "demo-club")
    planned = await reconcile(kit, groupme, "other-club", dry_run=True)
    second = await reconcile(kit, groupme, "other-club")

    assert [outcome.action for outcome in first.teams] == [TeamAction.LINKED]
    assert [outcome.action for outcome in planned.teams] == [TeamAction.CREATED]
    assert [outcome.action for outcome in second.teams] == [TeamAction.CREATED]
    club_group, club_url = await team_link(kit, "demo-club")
    rival_group, rival_url = await team_link(kit, "other-club")
    assert club_group == hand_made["id"]
    assert rival_group not in (None, club_group)
    assert groupme.groups[rival_group or ""]["name"] == "U12 Kings Elite 2026-27"
    assert rival_url not in (None, club_url)
    assert await owners(kit) == {club_group: "demo-club", rival_group: "other-club"}
    again = await reconcile(kit, groupme, "other-club")
    assert [outcome.action for outcome in again.teams] == [TeamAction.UNCHANGED]

    await sign_for(client, club, kit, kings["id"], "dana@club.example")
    await sign_for(client, rival, kit, rival_kings["id"], "robin@rival.example")
    await relay(kit).deliver_batch()

    mails = {message["To"]: parts(message)[0] for message in mail_sink.received()}
    assert set(mails) == {"dana@club.example", "robin@rival.example"}
    assert club_url in mails["dana@club.example"]
    assert rival_url in mails["robin@rival.example"]
    assert str(club_url) not in mails["robin@rival.example"]
    assert str(rival_url) not in mails["dana@club.example"]


@pytest.mark.usefixtures("notifier")
async def test_the_welcome_email_never_names_or_links_a_team_of_another_club(
    client: Client, club: ClubAdmin, rival: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    theirs = await rival.team("U12 Rival Elite", SEASON, groupme_share_url="https://groupme.com/join_group/9/theirs")
    parent = await club.parent(email="dana@club.example")
    player = await club.player(parent_id=parent["id"])
    # Only plain SQL can put a player on another club's team; the email must not follow that link.
    await kit.sql("INSERT INTO player_teams (player_id, team_id) VALUES (:p, :t)", p=player["id"], t=theirs["id"])
    await club.call("POST", "/contracts/offer", {"player_id": player["id"], "monthly_fee": 9900}, 200)
    [row] = await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=player["id"])
    assert (await client.post(f"{LINKS}/{row.contract_token}/sign", json=signing())).status_code == 200
    await relay(kit).deliver_batch()

    [message] = mail_sink.received()
    text, html = parts(message)
    assert "join_group/9/theirs" not in text + html
    assert "Rival" not in text + html + message["Subject"]


async def test_another_clubs_group_cannot_be_set_on_a_team_and_nothing_changes(
    club: ClubAdmin, rival: ClubAdmin, kit: Kit
) -> None:
    await club.team("U12 Kings Elite", SEASON, groupme_group_id="4242")
    team = await rival.team("U12 Kings Elite", SEASON, groupme_share_url="https://groupme.com/join_group/1/mine")

    refused = await rival.call(
        "PATCH",
        f"/teams/{team['id']}",
        {
            "groupme_group_id": "4242",
            "groupme_share_url": "https://groupme.com/join_group/4242/theirs",
            "tier": "elite",
        },
        409,
    )
    created = await rival.call("POST", "/teams", {"name": "U14", "season": SEASON, "groupme_group_id": "4242"}, 409)

    assert refused["detail"] == "GroupMe group 4242 belongs to another club"
    assert created["detail"] == refused["detail"]
    assert await rival.call("GET", f"/teams/{team['id']}", expect=200) == team
    assert (await rival.call("GET", "/teams", expect=200))["total"] == 1
    assert await owners(kit) == {"4242": "demo-club"}


async def test_an_unowned_group_set_on_a_team_becomes_the_clubs(club: ClubAdmin, rival: ClubAdmin, kit: Kit) -> None:
    team = await club.team("U12 Kings Elite", SEASON)

    changed = await club.call("PATCH", f"/teams/{team['id']}", {"groupme_group_id": "777"}, 200)
    unlinked = await club.call("PATCH", f"/teams/{team['id']}", {"groupme_group_id": None}, 200)
    other = await club.team("U14 Kings", SEASON, groupme_group_id="777")

    assert changed["groupme_group_id"] == "777"
    assert unlinked["groupme_group_id"] is None
    assert other["groupme_group_id"] == "777"  # the club's group: any of its teams may use it
    assert await owners(kit) == {"777": "demo-club"}  # unlinking a team does not give the group away
    rival_team = await rival.team("U12 Kings Elite", SEASON)
    await rival.call("PATCH", f"/teams/{rival_team['id']}", {"groupme_group_id": "777"}, 409)


async def test_the_database_refuses_a_team_linked_to_another_tenants_group(club: ClubAdmin, kit: Kit) -> None:
    await club.team("U12 Kings Elite", SEASON, groupme_group_id="4242")
    with pytest.raises(Exception, match="fk_teams_groupme_group_owned"):
        await kit.sql(
            "INSERT INTO teams (tenant_id, name, season, groupme_group_id)"
            " SELECT id, 'U12', '2026-27', '4242' FROM tenants WHERE slug = 'other-club'"
        )


async def test_two_tenants_claiming_one_group_at_once_leave_it_to_the_first_to_commit(kit: Kit) -> None:
    [club, other] = await kit.sql("SELECT id FROM tenants WHERE slug IN ('demo-club', 'other-club') ORDER BY slug")
    async with kit.session_maker() as first, kit.session_maker() as second:
        assert await claim_groups(first, club.id, ["5150", "5151"]) == {"5150", "5151"}
        racing = asyncio.create_task(claim_groups(second, other.id, ["5151", "5152"]))
        await wait_until_blocked(kit)
        await first.commit()
        assert await racing == {"5152"}
        await second.commit()
    assert await owners(kit) == {"5150": "demo-club", "5151": "demo-club", "5152": "other-club"}


async def test_a_group_another_club_claims_during_a_run_is_given_up_and_the_team_gets_its_own(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)
    contested = groupme.add_group("U12 Kings Elite 2026-27")
    [other] = await kit.sql("SELECT id FROM tenants WHERE slug = 'other-club'")
    async with kit.session_maker() as rival_run:
        assert await claim_groups(rival_run, other.id, [contested["id"]]) == {contested["id"]}
        run = asyncio.create_task(reconcile(kit, groupme, "demo-club"))
        await wait_until_blocked(kit)  # this run matched the contested group and waits on the rival's claim
        await rival_run.commit()
        report = await run

    [outcome] = report.teams
    assert outcome.action is TeamAction.CREATED
    assert outcome.group_id != contested["id"]
    assert await owners(kit) == {contested["id"]: "other-club", outcome.group_id: "demo-club"}


async def test_a_new_group_someone_else_claimed_first_stops_the_run_and_saves_nothing(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)
    # The stand-in numbers groups from 90001: the group this run creates is already recorded as the rival's.
    await kit.sql(
        "INSERT INTO groupme_groups (group_id, tenant_id) SELECT '90001', id FROM tenants WHERE slug = 'other-club'"
    )

    with pytest.raises(ReconcileError, match=r"^the GroupMe group 90001 made for U12 Kings Elite 2026-27 was claimed"):
        await reconcile(kit, groupme, "demo-club")

    assert await team_link(kit, "demo-club") == (None, None)
    assert await owners(kit) == {"90001": "other-club"}


async def wait_until_blocked(kit: Kit) -> None:
    """Until a session of this database waits for a lock (the second claim waits for the first to commit)."""
    await wait_for(kit.someone_waits_for_a_lock)


# Per-tenant GroupMe tokens.


async def test_a_clubs_own_groupme_token_is_write_only(club: ClubAdmin) -> None:
    assert (await club.call("GET", "/tenants/current", expect=200))["groupme_token_set"] is False

    changed = await club.call("PATCH", "/tenants/current", {"groupme_access_token": CLUB_TOKEN}, 200)
    read = await club.call("GET", "/tenants/current", expect=200)
    renamed = await club.call("PATCH", "/tenants/current", {"name": "Demo Kings"}, 200)

    for shown in (changed, read, renamed):
        assert shown["groupme_token_set"] is True
        assert CLUB_TOKEN not in str(shown)
        assert "groupme_access_token" not in shown
    cleared = await club.call("PATCH", "/tenants/current", {"groupme_access_token": None}, 200)
    assert cleared["groupme_token_set"] is False


@pytest.mark.parametrize("token", ["", "a b", "tok\r\nX-Evil: 1", "x" * 201])
async def test_a_malformed_groupme_token_is_400_and_not_echoed(club: ClubAdmin, token: str) -> None:
    refused = await club.call("PATCH", "/tenants/current", {"groupme_access_token": token}, 400)
    assert token not in str(refused) or token == ""
    assert (await club.call("GET", "/tenants/current", expect=200))["groupme_token_set"] is False


async def test_reconcile_uses_the_clubs_own_token_and_the_shared_one_for_the_others(
    club: ClubAdmin, rival: ClubAdmin, kit: Kit, env: dict[str, str], groupme: GroupMeServer
) -> None:
    own_account = groupme.add_account(CLUB_TOKEN)
    groupme.add_group("U12 Kings Elite 2026-27", token=CLUB_TOKEN)
    shared_decoy = groupme.add_group("U12 Kings Elite 2026-27")
    await club.team("U12 Kings Elite", SEASON)
    await club.team("U14 Queens", SEASON)
    await rival.team("U12 Kings Elite", SEASON)
    await club.call("PATCH", "/tenants/current", {"groupme_access_token": CLUB_TOKEN}, 200)
    environment = {**env, "GROUPME_API_URL": groupme.url, "GROUPME_ACCESS_TOKEN": TOKEN}

    result = rollcall("groupme", "reconcile", "--tenant", "demo-club", env=environment)

    assert result.returncode == 0, result.stderr
    assert {request.token for request in groupme.requests} == {CLUB_TOKEN}
    assert CLUB_TOKEN not in result.stdout + result.stderr
    assert set(own_account) == set(await owners(kit))
    assert len(own_account) == 2  # the hand-made group, linked, and a new one for U14 Queens
    assert shared_decoy["id"] not in await owners(kit)

    groupme.requests.clear()
    other = rollcall("groupme", "reconcile", "--tenant", "other-club", env=environment)

    assert other.returncode == 0, other.stderr
    assert {request.token for request in groupme.requests} == {TOKEN}
    assert (await team_link(kit, "other-club"))[0] == shared_decoy["id"]
