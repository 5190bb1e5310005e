"""Reconciliation links an order to the roster: the parent by login first, else by email (any case); then the
player by name among that parent's players. Whatever is ambiguous stays unlinked, with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.club.jerseys.services import normalised_name
from tests.club.conftest import ClubAdmin
from tests.club.test_jersey_orders import ORDERS, Member, order_body
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def dana(client: Client, mint: Callable[..., str]) -> Member:
    return Member(client, mint, sub="kc-dana", email="DANA@example.org")


async def submit(member: Member, **changes: Any) -> dict[str, Any]:
    response = await member.call("POST", ORDERS, order_body(**changes))
    assert response.status_code == 201, response.text
    submitted: dict[str, Any] = response.json()
    return submitted


async def parent_with(club: ClubAdmin, kit: Kit, *, sub: str | None = None, **fields: Any) -> dict[str, Any]:
    parent = await club.parent(**fields)
    if sub is not None:  # logins are linked by the identity system, not through the API
        await kit.sql("UPDATE parents SET keycloak_sub = :sub WHERE id = :id", sub=sub, id=parent["id"])
    return parent


async def test_the_parent_is_found_by_login_first_and_nothing_on_it_changes(
    dana: Member, club: ClubAdmin, kit: Kit
) -> None:
    by_login = await parent_with(club, kit, sub="kc-dana", email="dana.work@example.org", name="Dana Okafor")
    await parent_with(club, kit, email="dana@example.org", name="Someone Else")  # the order's email: not used
    avery = await club.player("Avery Okafor", parent_id=by_login["id"])
    before = (await kit.sql("SELECT * FROM parents WHERE id = :id", id=by_login["id"]))[0]
    result = await submit(dana)
    assert result["reconciliation"]["parent"]["outcome"] == "linked_by_sub"
    assert result["reconciliation"]["player"]["outcome"] == "linked_by_name"
    assert (result["order"]["parent_id"], result["order"]["player_id"]) == (by_login["id"], avery["id"])
    after = (await kit.sql("SELECT * FROM parents WHERE id = :id", id=by_login["id"]))[0]
    assert after == before


async def test_else_by_email_in_any_case(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    parent = await parent_with(club, kit, email="dana@EXAMPLE.org")
    result = await submit(dana)
    assert result["reconciliation"]["parent"] == {"outcome": "linked_by_email", "detail": "the email is Dana Rivera's"}
    assert result["order"]["parent_id"] == parent["id"]
    after = (await kit.sql("SELECT keycloak_sub FROM parents WHERE id = :id", id=parent["id"]))[0]
    assert after.keycloak_sub is None  # linking learns nothing onto the parent


async def test_an_email_whose_parent_signs_in_as_someone_else_is_ambiguous(
    dana: Member, club: ClubAdmin, kit: Kit
) -> None:
    await parent_with(club, kit, sub="kc-lee", email="dana@example.org")
    result = await submit(dana)
    assert result["reconciliation"]["parent"]["outcome"] == "ambiguous"
    assert "signs in as another user" in result["reconciliation"]["parent"]["detail"]
    assert result["order"]["parent_id"] is None


async def test_two_parents_with_the_login_are_ambiguous(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    await parent_with(club, kit, sub="kc-dana", email="one@example.org")
    await parent_with(club, kit, sub="kc-dana", email="two@example.org")
    await parent_with(club, kit, email="dana@example.org")  # no falling back to the email after an ambiguity
    result = await submit(dana)
    assert result["reconciliation"]["parent"]["outcome"] == "ambiguous"
    assert result["order"]["parent_id"] is None


async def test_no_parent_no_player(dana: Member, club: ClubAdmin, rival: ClubAdmin) -> None:
    await rival.parent(email="dana@example.org")  # another club's parent is never a match
    result = await submit(dana)
    assert result["reconciliation"] == {
        "parent": {"outcome": "not_found", "detail": "no parent of the club has this login or email"},
        "player": {"outcome": "not_found", "detail": "no parent is linked, so no player can be matched"},
    }
    assert (result["order"]["parent_id"], result["order"]["player_id"]) == (None, None)


@pytest.mark.parametrize("typed", ["avery okafor", "  AVERY   Okafor ", "Avéry Okafor", "ÁVERY  OKÁFOR"])
async def test_the_player_name_is_matched_ignoring_case_spaces_and_accents(
    dana: Member, club: ClubAdmin, kit: Kit, typed: str
) -> None:
    parent = await parent_with(club, kit, sub="kc-dana")
    avery = await club.player("Avery Okafor", parent_id=parent["id"])
    await club.player("Avery Okafor")  # same name, another parent's child: not a candidate
    result = await submit(dana, player_name=typed)
    assert result["reconciliation"]["player"]["outcome"] == "linked_by_name"
    assert result["order"]["player_id"] == avery["id"]


async def test_two_players_of_the_same_name_are_ambiguous(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    parent = await parent_with(club, kit, sub="kc-dana")
    await club.player("Sam Okafor", parent_id=parent["id"])
    await club.player("Sám  okafor", parent_id=parent["id"])
    result = await submit(dana, player_name="Sam Okafor")
    assert result["reconciliation"]["player"] == {
        "outcome": "ambiguous",
        "detail": "2 of the parent's players have this name",
    }
    assert (result["order"]["parent_id"], result["order"]["player_id"]) == (parent["id"], None)


async def test_no_player_of_that_name(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    parent = await parent_with(club, kit, sub="kc-dana")
    await club.player("Jo Okafor", parent_id=parent["id"])
    result = await submit(dana, player_name="Avery Okafor")
    assert result["reconciliation"]["player"]["outcome"] == "not_found"


def test_names_are_normalised_as_people_mean_them() -> None:
    assert normalised_name("  José\tDÍAZ  ") == normalised_name("jose diaz") == "jose diaz"
    assert normalised_name("Zoë Ångström") == "zoe angstrom"
    assert normalised_name("Jo-Ann") != normalised_name("Jo Ann")  # punctuation is part of a name


async def test_reconcile_on_demand_links_what_the_roster_now_allows(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    early = await submit(dana)
    cancelled = await submit(dana, player_name="Gone")
    await club.call("PATCH", f"/jersey-orders/{cancelled['order']['id']}", {"status": "cancelled"}, 200)
    parent = await parent_with(club, kit, email="dana@example.org")  # the roster catches up
    avery = await club.player("Avery Okafor", parent_id=parent["id"])

    result = await club.call("POST", "/jersey-orders/reconcile", expect=200)
    assert (result["examined"], result["linked"], result["remaining"]) == (1, 1, 0)
    [done] = result["orders"]
    assert done["order"]["id"] == early["order"]["id"]
    assert (done["order"]["parent_id"], done["order"]["player_id"]) == (parent["id"], avery["id"])
    assert done["reconciliation"]["parent"]["outcome"] == "linked_by_email"
    row = (await kit.sql("SELECT parent_id FROM jersey_public_orders WHERE id = :id", id=cancelled["order"]["id"]))[0]
    assert row.parent_id is None  # a cancelled order is left as it is

    again = await club.call("POST", "/jersey-orders/reconcile", expect=200)
    assert (again["examined"], again["linked"], again["remaining"]) == (0, 0, 0)


async def test_reconcile_keeps_a_link_staff_made_by_hand(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    order = (await submit(dana))["order"]
    chosen = await parent_with(club, kit, email="chosen@example.org")
    await parent_with(club, kit, email="dana@example.org")
    await club.call("PATCH", f"/jersey-orders/{order['id']}", {"parent_id": chosen["id"]}, 200)
    result = await club.call("POST", "/jersey-orders/reconcile", expect=200)
    [done] = result["orders"]
    assert done["reconciliation"]["parent"]["outcome"] == "kept"
    assert done["order"]["parent_id"] == chosen["id"]
