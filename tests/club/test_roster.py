"""Roster admin API: teams, parents, players; tenant scoping, uniqueness, references, filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.club.conftest import API, ClubAdmin

Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.usefixtures("tenants")


async def test_a_team_is_created_read_changed_and_deleted(club: ClubAdmin) -> None:
    team = await club.team(program="kings", tier="elite", monthly_fee=12500)
    assert (team["name"], team["program"], team["tier"], team["monthly_fee"]) == (
        "U12 Kings Elite",
        "kings",
        "elite",
        12500,
    )
    assert await club.call("GET", f"/teams/{team['id']}", expect=200) == team
    changed = await club.call(
        "PATCH", f"/teams/{team['id']}", {"tier": None, "groupme_share_url": "https://groupme.com/join_group/1/x"}, 200
    )
    assert (changed["tier"], changed["program"]) == (None, "kings")
    assert changed["groupme_share_url"] == "https://groupme.com/join_group/1/x"
    await club.call("DELETE", f"/teams/{team['id']}", expect=204)
    await club.call("GET", f"/teams/{team['id']}", expect=404)


async def test_a_change_through_the_api_bumps_updated_at(club: ClubAdmin) -> None:
    team = await club.team()
    changed = await club.call("PATCH", f"/teams/{team['id']}", {"monthly_fee": 100}, 200)
    assert changed["created_at"] == team["created_at"]
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(team["updated_at"])


async def test_team_names_are_unique_per_season_and_club(club: ClubAdmin, rival: ClubAdmin) -> None:
    await club.team()
    duplicate = await club.call("POST", "/teams", {"name": "U12 Kings Elite", "season": "2026-27"}, 409)
    assert duplicate["detail"] == "a team with this name already exists in this season"
    await club.team(season="2027-28")
    await rival.team()
    other = await club.team(name="U12 Queens")
    renamed = await club.call("PATCH", f"/teams/{other['id']}", {"name": "U12 Kings Elite"}, 409)
    assert renamed["status"] == 409


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "season": "2026-27"},
        {"name": "A", "season": "2026-27", "monthly_fee": -1},
        {"name": "A", "season": "2026-27", "program": "kingdoms"},
        {"name": "A", "season": "2026-27", "tier": "gold"},
        {"name": "A", "season": "2026-27", "colour": "red"},
        {"season": "2026-27"},
    ],
)
async def test_a_bad_team_is_400_and_nothing_is_created(club: ClubAdmin, body: dict[str, Any]) -> None:
    problem = await club.call("POST", "/teams", body, 400)
    assert problem["errors"]
    assert (await club.call("GET", "/teams", expect=200))["total"] == 0


async def test_teams_filter_and_paginate(club: ClubAdmin) -> None:
    await club.team("B Kings", program="kings", tier="select")
    await club.team("A Queens", program="queens", tier="elite")
    await club.team("C Kings", season="2025-26", program="kings")
    page = await club.call("GET", "/teams?season=2026-27", expect=200)
    assert [t["name"] for t in page["items"]] == ["A Queens", "B Kings"]
    assert [t["name"] for t in (await club.call("GET", "/teams?program=kings"))["items"]] == ["B Kings", "C Kings"]
    assert [t["name"] for t in (await club.call("GET", "/teams?tier=elite"))["items"]] == ["A Queens"]
    second = await club.call("GET", "/teams?limit=1&offset=1")
    assert (second["total"], second["limit"], second["offset"], second["items"][0]["name"]) == (3, 1, 1, "B Kings")


async def test_parent_emails_are_unique_in_a_club_ignoring_case(club: ClubAdmin, rival: ClubAdmin) -> None:
    await club.parent("Dana@Example.org")
    problem = await club.call("POST", "/parents", {"name": "Other", "email": "dana@example.ORG"}, 409)
    assert problem["detail"] == "a parent with this email already exists"
    await rival.parent("dana@example.org")
    found = await club.call("GET", "/parents?email=DANA@EXAMPLE.ORG", expect=200)
    assert [p["email"] for p in found["items"]] == ["Dana@Example.org"]


async def test_a_parent_is_changed_and_a_bad_email_refused(club: ClubAdmin) -> None:
    parent = await club.parent()
    changed = await club.call("PATCH", f"/parents/{parent['id']}", {"phone": "+1 555 0199"}, 200)
    assert (changed["phone"], changed["email"]) == ("+1 555 0199", "dana@example.org")
    await club.call("POST", "/parents", {"name": "X", "email": "not-an-email"}, 400)


async def test_deleting_a_parent_keeps_their_players(club: ClubAdmin) -> None:
    parent = await club.parent()
    player = await club.player(parent_id=parent["id"])
    await club.call("DELETE", f"/parents/{parent['id']}", expect=204)
    kept = await club.call("GET", f"/players/{player['id']}", expect=200)
    assert kept["parent_id"] is None


async def test_a_player_has_teams_a_parent_and_no_contract_yet(club: ClubAdmin) -> None:
    kings, queens = await club.team("Kings"), await club.team("Queens")
    parent = await club.parent()
    player = await club.player(
        birth_year=2014, parent_id=parent["id"], team_ids=[kings["id"], queens["id"], kings["id"]]
    )
    assert sorted(player["team_ids"]) == sorted([kings["id"], queens["id"]])
    assert (player["contract_status"], player["parent_id"], player["birth_year"]) == ("none", parent["id"], 2014)
    moved = await club.call("PATCH", f"/players/{player['id']}", {"team_ids": [queens["id"]], "parent_id": None}, 200)
    assert (moved["team_ids"], moved["parent_id"], moved["birth_year"]) == ([queens["id"]], None, 2014)


async def test_a_player_cannot_point_at_another_clubs_team_or_parent(club: ClubAdmin, rival: ClubAdmin) -> None:
    foreign_team, foreign_parent = await rival.team(), await rival.parent()
    problem = await club.call("POST", "/players", {"name": "Sam", "team_ids": [foreign_team["id"]]}, 422)
    assert "are not teams of this club" in problem["detail"]
    await club.call("POST", "/players", {"name": "Sam", "parent_id": foreign_parent["id"]}, 422)
    assert (await club.call("GET", "/players"))["total"] == 0
    player = await club.player()
    await club.call("PATCH", f"/players/{player['id']}", {"team_ids": [foreign_team["id"]]}, 422)
    assert (await club.call("GET", f"/players/{player['id']}"))["team_ids"] == []


async def test_players_filter_by_team_parent_status_and_name(club: ClubAdmin) -> None:
    kings = await club.team("Kings")
    parent = await club.parent()
    sam = await club.player("Sam Rivera", team_ids=[kings["id"]], parent_id=parent["id"])
    await club.player("Alex 100% Kim")
    await club.player("Jo Rivera")

    async def names(query: str) -> list[str]:
        return [p["name"] for p in (await club.call("GET", f"/players?{query}", expect=200))["items"]]

    assert await names(f"team_id={kings['id']}") == ["Sam Rivera"]
    assert await names(f"parent_id={parent['id']}") == [sam["name"]]
    assert await names("name=rivera") == ["Jo Rivera", "Sam Rivera"]
    assert await names("name=100%25") == ["Alex 100% Kim"]
    assert await names("contract_status=none") == ["Alex 100% Kim", "Jo Rivera", "Sam Rivera"]
    assert await names("contract_status=signed") == []
    await club.call("GET", "/players?contract_status=maybe", expect=400)


@pytest.mark.parametrize("resource", ["teams", "parents", "players"])
async def test_another_clubs_ids_are_404_on_every_route(club: ClubAdmin, rival: ClubAdmin, resource: str) -> None:
    made = {"teams": rival.team, "parents": rival.parent, "players": rival.player}[resource]
    foreign = await made()
    await club.call("GET", f"/{resource}/{foreign['id']}", expect=404)
    await club.call("PATCH", f"/{resource}/{foreign['id']}", {"name": "Mine now"}, 404)
    await club.call("DELETE", f"/{resource}/{foreign['id']}", expect=404)
    assert (await club.call("GET", f"/{resource}", expect=200))["total"] == 0
    assert (await rival.call("GET", f"/{resource}/{foreign['id']}", expect=200))["name"] == foreign["name"]


async def test_the_roster_needs_the_admin_role(client: Client, mint: Callable[..., str]) -> None:
    headers = {"Authorization": f"Bearer {mint(roles=['dispatcher'])}"}
    for path in ("/teams", "/parents", "/players"):
        assert (await client.get(f"{API}{path}", headers=headers)).status_code == 403
