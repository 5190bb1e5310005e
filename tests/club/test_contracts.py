"""Contract offers: every transition and error branch of docs/club.md "Contract offers", and the audit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.club.conftest import ClubAdmin
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
OFFER = "/contracts/offer"

pytestmark = pytest.mark.usefixtures("tenants")


async def player_row(kit: Kit, player_id: str) -> Any:
    return (await kit.sql("SELECT * FROM players WHERE id = :id", id=player_id))[0]


async def audit(club: ClubAdmin, player_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await club.call("GET", f"/players/{player_id}/contract-audit", expect=200)
    return rows


async def events(kit: Kit) -> list[Any]:
    return await kit.sql("SELECT event_type, aggregate_type, aggregate_id, payload FROM outbox_events ORDER BY seq")


async def sign_by_sql(kit: Kit, player_id: str) -> None:
    await kit.sql(
        "UPDATE players SET contract_status = 'signed', contract_signed_at = now(), contract_signed_by = 'Dana',"
        " contract_signed_ip = '203.0.113.9', contract_signature = 'signatures/x.png', contract_version = '2026-1'"
        " WHERE id = :id",
        id=player_id,
    )


async def test_a_first_offer_mints_a_link_audits_and_emits(club: ClubAdmin, kit: Kit) -> None:
    team = await club.team()
    player = await club.player(team_ids=[team["id"]])
    result = await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 12500}, 200)
    row = await player_row(kit, player["id"])
    assert result == {
        "player_id": player["id"],
        "previous_status": "none",
        "new_status": "offered",
        "contract_url": f"https://rollcall.test/sign/{row.contract_token}",
        "moved_teams": None,
        "previous_signed_state_archived": False,
        "actor": "staff@demo-club.test",
    }
    assert len(row.contract_token) == 43
    assert (row.contract_status, row.monthly_fee) == ("offered", 12500)
    assert row.contract_offered_at is not None
    [entry] = await audit(club, player["id"])
    assert (entry["event_type"], entry["old_state"], entry["source"]) == ("offer", None, "api")
    assert entry["new_state"]["token"] == row.contract_token
    [event] = await events(kit)
    assert (event.event_type, event.aggregate_type, event.aggregate_id) == ("contract.offered", "player", player["id"])
    assert event.payload["team_id"] == team["id"]


async def test_a_declined_contract_can_be_offered_again(club: ClubAdmin, kit: Kit) -> None:
    player = await club.player()
    await kit.sql("UPDATE players SET contract_status = 'declined' WHERE id = :id", id=player["id"])
    result = await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 9000}, 200)
    assert (result["previous_status"], result["new_status"]) == ("declined", "offered")
    [entry] = await audit(club, player["id"])
    assert (entry["event_type"], entry["old_state"]["status"]) == ("offer", "declined")


async def test_an_open_offer_is_409_without_force_and_nothing_changes(club: ClubAdmin, kit: Kit) -> None:
    player = await club.player()
    await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100}, 200)
    before = await player_row(kit, player["id"])
    problem = await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 200}, 409)
    assert "force=true" in problem["detail"]
    after = await player_row(kit, player["id"])
    assert (after.contract_token, after.monthly_fee) == (before.contract_token, 100)
    assert len(await audit(club, player["id"])) == 1
    assert len(await events(kit)) == 1


async def test_force_re_offers_with_a_new_link_and_audits_the_old_one(club: ClubAdmin, kit: Kit) -> None:
    player = await club.player()
    await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100}, 200)
    old_token = (await player_row(kit, player["id"])).contract_token
    result = await club.call("POST", f"{OFFER}?force=true", {"player_id": player["id"], "monthly_fee": 150}, 200)
    new_token = (await player_row(kit, player["id"])).contract_token
    assert new_token != old_token
    assert result["contract_url"].endswith(new_token)
    assert await kit.sql("SELECT id FROM players WHERE contract_token = :t", t=old_token) == []
    latest = (await audit(club, player["id"]))[0]
    assert (latest["event_type"], latest["old_state"]["token"], latest["new_state"]["token"]) == (
        "re_offer",
        old_token,
        new_token,
    )


async def test_a_signed_contract_needs_a_new_target_team(club: ClubAdmin, kit: Kit) -> None:
    team = await club.team()
    player = await club.player(team_ids=[team["id"]])
    await sign_by_sql(kit, player["id"])
    missing = await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100}, 422)
    assert "target_team_id" in missing["detail"]
    same = {"player_id": player["id"], "monthly_fee": 100, "target_team_id": team["id"]}
    await club.call("POST", OFFER, same, 422)
    row = await player_row(kit, player["id"])
    assert (row.contract_status, row.contract_signed_by) == ("signed", "Dana")
    assert await audit(club, player["id"]) == []


async def test_a_tier_change_archives_the_signed_contract_and_moves_the_player(club: ClubAdmin, kit: Kit) -> None:
    select_team, elite_team = await club.team("U12 Select"), await club.team("U12 Elite")
    player = await club.player(team_ids=[select_team["id"]])
    await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 9000}, 200)
    signed_token = (await player_row(kit, player["id"])).contract_token
    await sign_by_sql(kit, player["id"])
    body = {"player_id": player["id"], "monthly_fee": 15000, "target_team_id": elite_team["id"]}
    result = await club.call("POST", OFFER, body, 200)
    assert (result["previous_status"], result["previous_signed_state_archived"]) == ("signed", True)
    assert result["moved_teams"] == {"from_team_ids": [select_team["id"]], "to_team_ids": [elite_team["id"]]}
    row = await player_row(kit, player["id"])
    assert (row.contract_status, row.monthly_fee, row.contract_signed_at, row.contract_signed_by) == (
        "offered",
        15000,
        None,
        None,
    )
    assert (row.contract_signature, row.contract_version, row.contract_signed_ip) == (None, None, None)
    assert row.contract_token != signed_token
    assert (await club.call("GET", f"/players/{player['id']}"))["team_ids"] == [elite_team["id"]]
    latest = (await audit(club, player["id"]))[0]
    archived = latest["old_state"]
    assert latest["event_type"] == "tier_change"
    assert (archived["status"], archived["token"], archived["signed_by"], archived["signed_ip"]) == (
        "signed",
        signed_token,
        "Dana",
        "203.0.113.9",
    )
    assert (archived["signature"], archived["version"], archived["monthly_fee"]) == ("signatures/x.png", "2026-1", 9000)
    assert archived["team_ids"] == [select_team["id"]]
    assert archived["signed_at"] is not None


async def test_a_target_team_moves_an_unsigned_player_too(club: ClubAdmin) -> None:
    a, b = await club.team("A"), await club.team("B")
    player = await club.player(team_ids=[a["id"]])
    result = await club.call(
        "POST", OFFER, {"player_id": player["id"], "monthly_fee": 100, "target_team_id": b["id"]}, 200
    )
    assert result["moved_teams"] == {"from_team_ids": [a["id"]], "to_team_ids": [b["id"]]}


@pytest.mark.parametrize("whose", ["unknown", "rival"])
async def test_a_target_team_outside_the_club_is_422_and_nothing_changes(
    club: ClubAdmin, rival: ClubAdmin, kit: Kit, whose: str
) -> None:
    player = await club.player()
    team_id = "00000000-0000-4000-8000-000000000000" if whose == "unknown" else (await rival.team())["id"]
    await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100, "target_team_id": team_id}, 422)
    row = await player_row(kit, player["id"])
    assert (row.contract_status, row.contract_token) == ("none", None)
    assert await audit(club, player["id"]) == []
    assert await events(kit) == []


@pytest.mark.parametrize("whose", ["unknown", "rival"])
async def test_a_player_outside_the_club_is_404(club: ClubAdmin, rival: ClubAdmin, whose: str) -> None:
    player_id = "00000000-0000-4000-8000-000000000000" if whose == "unknown" else (await rival.player())["id"]
    await club.call("POST", OFFER, {"player_id": player_id, "monthly_fee": 100}, 404)
    await club.call("GET", f"/players/{player_id}/contract-audit", expect=404)


@pytest.mark.parametrize("fee", [0, -5, 1.5])
async def test_the_fee_must_be_positive_cents(club: ClubAdmin, fee: object) -> None:
    player = await club.player()
    problem = await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": fee}, 400)
    assert problem["errors"][0]["field"] == "monthly_fee"


async def test_a_failure_mid_transaction_leaves_everything_as_before(
    club: ClubAdmin, kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = await club.team()
    player = await club.player(team_ids=[team["id"]])

    def broken_emit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the outbox insert failed")

    monkeypatch.setattr("app.club.contracts.emit", broken_emit)
    body = {"player_id": player["id"], "monthly_fee": 100, "target_team_id": (await club.team("Other"))["id"]}
    await club.call("POST", OFFER, body, 500)
    row = await player_row(kit, player["id"])
    assert (row.contract_status, row.contract_token, row.monthly_fee) == ("none", None, None)
    assert (await club.call("GET", f"/players/{player['id']}"))["team_ids"] == [team["id"]]
    assert await audit(club, player["id"]) == []
    assert await events(kit) == []


async def test_concurrent_offers_serialise_and_the_second_sees_the_first(club: ClubAdmin, kit: Kit) -> None:
    player = await club.player()
    body = {"player_id": player["id"], "monthly_fee": 100}
    responses = await asyncio.gather(*(club.client.post(f"/api/v1/admin{OFFER}", json=body, headers=club.headers)
                                       for _ in range(2)))  # fmt: skip
    assert sorted(response.status_code for response in responses) == [200, 409]
    assert len(await audit(club, player["id"])) == 1
    assert len(await events(kit)) == 1


async def test_the_actor_is_the_email_else_the_subject(client: Client, mint: Callable[..., str]) -> None:
    headers = {"Authorization": f"Bearer {mint(roles=['admin'], email=None, sub='kc-42')}"}
    admin = ClubAdmin(client, headers)
    player = await admin.player()
    result = await admin.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100}, 200)
    assert result["actor"] == "kc-42"


async def test_the_audit_is_newest_first(club: ClubAdmin, kit: Kit) -> None:
    player = await club.player()
    await club.call("POST", OFFER, {"player_id": player["id"], "monthly_fee": 100}, 200)
    await club.call("POST", f"{OFFER}?force=true", {"player_id": player["id"], "monthly_fee": 200}, 200)
    await club.call("POST", f"{OFFER}?force=true", {"player_id": player["id"], "monthly_fee": 300}, 200)
    entries = await audit(club, player["id"])
    assert [e["event_type"] for e in entries] == ["re_offer", "re_offer", "offer"]
    assert [e["new_state"]["monthly_fee"] for e in entries] == [300, 200, 100]
