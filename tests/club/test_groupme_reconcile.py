"""``rollcall groupme reconcile``: one GroupMe group per team, matched by name, created when missing, staffed.

The GroupMe side is a real HTTP stand-in on loopback (tests/notify/groupme_server.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.club.groupme import GroupMeReconciler, ReconcileError, ReconcileReport, TeamAction, normalise_name
from app.notify.groupme import GroupMeClient
from tests.club.conftest import ClubAdmin
from tests.notify.groupme_server import OWNER_USER_ID, TOKEN, GroupMeServer
from tests.outbox.conftest import Kit
from tests.processes import rollcall

pytestmark = pytest.mark.usefixtures("tenants")

STAFF = ("2001", "2002")
SEASON = "2026-27"


@pytest.fixture
def groupme() -> Iterator[GroupMeServer]:
    with GroupMeServer().running() as server:
        yield server


async def reconcile(
    kit: Kit, groupme: GroupMeServer, *, dry_run: bool = False, tenant: str = "demo-club"
) -> ReconcileReport:
    """One run in a session of its own, as the command does."""
    async with (
        GroupMeClient(api_url=groupme.url, access_token=TOKEN, backoff_base_seconds=0.001) as client,
        kit.session_maker() as session,
    ):
        return await GroupMeReconciler(session, client, STAFF).reconcile(tenant, dry_run=dry_run)


async def stored(kit: Kit) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Every team's stored (group id, share URL), by (name, season)."""
    rows = await kit.sql("SELECT name, season, groupme_group_id, groupme_share_url FROM teams")
    return {(row.name, row.season): (row.groupme_group_id, row.groupme_share_url) for row in rows}


def actions(report: ReconcileReport) -> dict[str, TeamAction]:
    return {f"{outcome.team} {outcome.season}": outcome.action for outcome in report.teams}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("U12 Kings-Elite!", "u12 kings elite"),
        ("u12  kings elite", "u12 kings elite"),
        ("  U12_KINGS / Elite  ", "u12 kings elite"),
        ("St. Mary\u2019s U10", "st marys u10"),
        ("U12 Kings 2026-27", "u12 kings 2026 27"),
    ],
)
def test_names_compare_without_case_spacing_or_punctuation(typed: str, expected: str) -> None:
    assert normalise_name(typed) == expected


async def test_existing_groups_are_linked_by_normalised_name_and_their_ids_and_urls_stored(
    club: ClubAdmin, rival: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)
    await club.team("U12 Queens Select", SEASON)
    await rival.team("U12 Kings Elite", SEASON)
    kings = groupme.add_group("u12 KINGS-elite!")
    queens = groupme.add_group("U12  Queens Select (2026/27)")
    groupme.add_group("Parents BBQ")

    report = await reconcile(kit, groupme)

    assert actions(report) == {
        "U12 Kings Elite 2026-27": TeamAction.LINKED,
        "U12 Queens Select 2026-27": TeamAction.LINKED,
    }
    teams = await stored(kit)
    assert teams[("U12 Kings Elite", SEASON)] == (kings["id"], kings["share_url"])
    assert teams[("U12 Queens Select", SEASON)] == (queens["id"], queens["share_url"])
    rival_team = (
        await kit.sql(
            "SELECT groupme_group_id FROM teams t JOIN tenants n ON n.id = t.tenant_id WHERE n.slug = 'other-club'"
        )
    )[0]
    assert rival_team.groupme_group_id is None
    assert [request.path for request in groupme.writes() if request.path == "/v3/groups"] == []
    assert len(groupme.groups) == 3


async def test_a_name_two_seasons_share_matches_only_a_group_that_names_the_season(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings", "2025-26")
    await club.team("U12 Kings", SEASON)
    plain = groupme.add_group("U12 Kings")
    this_season = groupme.add_group("U12 Kings 2026-27")

    report = await reconcile(kit, groupme)

    assert actions(report) == {"U12 Kings 2025-26": TeamAction.CREATED, "U12 Kings 2026-27": TeamAction.LINKED}
    teams = await stored(kit)
    assert teams[("U12 Kings", SEASON)][0] == this_season["id"]
    [created] = [group for group in groupme.groups.values() if group["name"] == "U12 Kings 2025-26"]
    assert teams[("U12 Kings", "2025-26")] == (created["id"], created["share_url"])
    assert plain["id"] not in {group_id for group_id, _ in teams.values()}


async def test_a_team_without_a_group_gets_a_new_shared_group_with_the_staff(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U10 Queens", SEASON)

    report = await reconcile(kit, groupme)

    [outcome] = report.teams
    assert outcome.action is TeamAction.CREATED
    group = groupme.groups[outcome.group_id]
    assert group["name"] == "U10 Queens 2026-27"
    assert group["share_url"] is not None
    assert await stored(kit) == {("U10 Queens", SEASON): (group["id"], group["share_url"])}
    assert groupme.member_ids(group["id"]) == [OWNER_USER_ID, *STAFF]
    assert outcome.staff_added == STAFF
    assert report.summary() == "0 linked, 1 created, 0 updated, 0 unchanged; 2 staff memberships added"


async def test_staff_already_in_a_group_are_not_added_again(club: ClubAdmin, kit: Kit, groupme: GroupMeServer) -> None:
    await club.team("U14 Kings", SEASON)
    group = groupme.add_group("U14 Kings", members=(OWNER_USER_ID, "2001", "3005"))

    report = await reconcile(kit, groupme)

    assert report.teams[0].staff_added == ("2002",)
    [add] = [request for request in groupme.writes() if request.path.endswith("/members/add")]
    assert add.body == {"members": [{"user_id": "2002", "nickname": "Club staff"}]}
    assert groupme.member_ids(group["id"]) == [OWNER_USER_ID, "2001", "3005", "2002"]


async def test_a_matched_group_without_a_share_link_gets_one(club: ClubAdmin, kit: Kit, groupme: GroupMeServer) -> None:
    await club.team("U16 Queens", SEASON)
    group = groupme.add_group("U16 Queens", shared=False, members=(OWNER_USER_ID, *STAFF))

    report = await reconcile(kit, groupme)

    assert report.teams[0].action is TeamAction.LINKED
    share_url = groupme.groups[group["id"]]["share_url"]
    assert share_url is not None
    assert await stored(kit) == {("U16 Queens", SEASON): (group["id"], share_url)}
    assert [request.path for request in groupme.writes()] == [f"/v3/groups/{group['id']}/update"]


async def test_a_linked_team_keeps_its_group_whatever_the_groups_are_called(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    mine = groupme.add_group("Kings parents chat", members=(OWNER_USER_ID, *STAFF))
    groupme.add_group("U12 Kings 2026-27")
    await club.team("U12 Kings", SEASON, groupme_group_id=mine["id"], groupme_share_url=mine["share_url"])

    report = await reconcile(kit, groupme)

    assert actions(report) == {"U12 Kings 2026-27": TeamAction.UNCHANGED}
    assert await stored(kit) == {("U12 Kings", SEASON): (mine["id"], mine["share_url"])}
    assert groupme.writes() == []


async def test_a_stale_share_url_is_updated_on_the_same_group(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    group = groupme.add_group("U12 Kings", members=(OWNER_USER_ID, *STAFF))
    await club.team("U12 Kings", SEASON, groupme_group_id=group["id"], groupme_share_url="https://groupme.com/old")

    report = await reconcile(kit, groupme)

    assert report.teams[0].action is TeamAction.UPDATED
    assert await stored(kit) == {("U12 Kings", SEASON): (group["id"], group["share_url"])}


async def test_a_team_whose_group_is_gone_from_the_account_is_matched_again(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings", SEASON, groupme_group_id="555", groupme_share_url="https://groupme.com/gone")

    report = await reconcile(kit, groupme)

    [outcome] = report.teams
    assert outcome.action is TeamAction.CREATED
    assert outcome.group_id in groupme.groups
    assert (await stored(kit))[("U12 Kings", SEASON)] == (outcome.group_id, outcome.share_url)


async def test_a_second_run_changes_nothing_and_says_so(club: ClubAdmin, kit: Kit, groupme: GroupMeServer) -> None:
    await club.team("U12 Kings Elite", SEASON)
    await club.team("U12 Queens Select", SEASON)
    groupme.add_group("U12 Kings Elite", shared=False)
    first = await reconcile(kit, groupme)
    after_first = await stored(kit)
    writes_before = len(groupme.writes())

    second = await reconcile(kit, groupme)

    assert first.changed
    assert set(actions(second).values()) == {TeamAction.UNCHANGED}
    assert second.staff_added == 0
    assert second.summary() == "nothing to change: every team already matches its group"
    assert len(groupme.writes()) == writes_before
    assert await stored(kit) == after_first


async def test_a_dry_run_plans_the_same_changes_but_writes_nothing(
    club: ClubAdmin, kit: Kit, groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)
    await club.team("U12 Queens Select", SEASON)
    groupme.add_group("U12 Kings Elite", shared=False)
    before = await stored(kit)

    dry = await reconcile(kit, groupme, dry_run=True)

    assert groupme.writes() == []
    assert await stored(kit) == before
    assert len(groupme.groups) == 1
    queens = next(outcome for outcome in dry.teams if outcome.team == "U12 Queens Select")
    assert (queens.action, queens.group_id, queens.staff_added) == (TeamAction.CREATED, "(new)", STAFF)
    assert dry.summary() == "dry run: 1 linked, 1 created, 0 updated, 0 unchanged; 4 staff memberships added"
    real = await reconcile(kit, groupme)
    assert actions(real) == actions(dry)
    assert [outcome.staff_added for outcome in real.teams] == [outcome.staff_added for outcome in dry.teams]


async def test_429_and_5xx_during_a_run_are_retried(club: ClubAdmin, kit: Kit, groupme: GroupMeServer) -> None:
    await club.team("U12 Kings Elite", SEASON)
    groupme.fail_next(429, retry_after="0")
    groupme.fail_next(500, 503)

    report = await reconcile(kit, groupme)

    assert report.teams[0].action is TeamAction.CREATED
    assert [request.status for request in groupme.requests[:4]] == [429, 500, 503, 200]
    assert len(groupme.groups) == 1


async def test_an_unknown_tenant_is_a_clear_error_before_any_call(kit: Kit, groupme: GroupMeServer) -> None:
    with pytest.raises(ReconcileError, match=r"^unknown tenant 'no-such-club'"):
        await reconcile(kit, groupme, tenant="no-such-club")
    assert groupme.requests == []


async def test_a_hiring_hall_has_no_teams_to_reconcile(kit: Kit, groupme: GroupMeServer) -> None:
    with pytest.raises(ReconcileError, match=r"^tenant 'demo-hall' is a hall, not a club"):
        await reconcile(kit, groupme, tenant="demo-hall")


# The command, run as a process the way operators run it.


def command_env(env: dict[str, str], groupme: GroupMeServer, **overrides: str) -> dict[str, str]:
    return {
        **env,
        "GROUPME_API_URL": groupme.url,
        "GROUPME_ACCESS_TOKEN": TOKEN,
        "GROUPME_STAFF_USER_IDS": ",".join(STAFF),
        **overrides,
    }


def run(environment: dict[str, str], *arguments: str) -> Any:
    return rollcall("groupme", "reconcile", "--tenant", "demo-club", *arguments, env=environment)


async def test_the_command_prints_a_table_then_says_a_second_run_changed_nothing(
    club: ClubAdmin, kit: Kit, env: dict[str, str], groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)
    await club.team("U12 Queens Select", SEASON)
    kings = groupme.add_group("U12 Kings-Elite")
    groupme.fail_next(429, retry_after="0")
    environment = command_env(env, groupme)

    first = run(environment)

    assert first.returncode == 0, first.stderr
    header, *rows, summary = first.stdout.splitlines()
    assert header.split() == ["TEAM", "SEASON", "ACTION", "GROUP", "ID", "SHARE", "URL", "STAFF", "ADDED"]
    assert rows[0].split() == ["U12", "Kings", "Elite", SEASON, "linked", kings["id"], kings["share_url"], "2001,2002"]
    assert rows[1].split()[3:5] == [SEASON, "created"]
    assert summary == "1 linked, 1 created, 0 updated, 0 unchanged; 4 staff memberships added"
    assert "groupme request retried" in first.stderr
    assert TOKEN not in first.stderr + first.stdout
    assert all(group_id for group_id, _ in (await stored(kit)).values())

    second = run(environment)

    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "nothing to change: every team already matches its group"
    assert [line.split()[3:5] for line in second.stdout.splitlines()[1:-1]] == [[SEASON, "unchanged"]] * 2


async def test_the_command_dry_run_writes_nothing(
    club: ClubAdmin, kit: Kit, env: dict[str, str], groupme: GroupMeServer
) -> None:
    await club.team("U12 Kings Elite", SEASON)

    result = run(command_env(env, groupme), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[3:6] == [SEASON, "created", "(new)"]
    assert result.stdout.splitlines()[-1].startswith("dry run: 0 linked, 1 created")
    assert groupme.writes() == []
    assert await stored(kit) == {("U12 Kings Elite", SEASON): (None, None)}


def test_the_command_without_an_access_token_names_the_variable(env: dict[str, str], groupme: GroupMeServer) -> None:
    result = run(command_env(env, groupme, GROUPME_ACCESS_TOKEN=""))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: GROUPME_ACCESS_TOKEN is not set: the GroupMe account's access token is required"
    )
    assert groupme.requests == []


def test_the_command_with_an_unknown_tenant_fails_in_one_line(env: dict[str, str], groupme: GroupMeServer) -> None:
    result = rollcall("groupme", "reconcile", "--tenant", "nope", env=command_env(env, groupme))
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: unknown tenant 'nope' (see `rollcall tenants list`)"


def test_the_command_reports_groupme_giving_up(env: dict[str, str], groupme: GroupMeServer) -> None:
    groupme.fail_next(503, 503, retry_after="0")
    result = run(command_env(env, groupme, GROUPME_MAX_ATTEMPTS="2"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: GroupMe GET /groups answered 503 after 2 attempts: try again later"
    )
    assert result.stdout == ""
