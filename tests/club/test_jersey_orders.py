"""Jersey orders: a club's users order and follow their own; staff list, export, move and reconcile them."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from itertools import product
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.club.jerseys.models import OrderStatus
from app.club.jerseys.services import MOVES
from tests.club.conftest import ClubAdmin
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
ORDERS = "/api/v1/jersey-orders"
ADMIN = "/api/v1/admin/jersey-orders"

pytestmark = pytest.mark.usefixtures("tenants")


class Member:
    """A signed-in user of a tenant (any role)."""

    def __init__(self, client: Client, mint: Callable[..., str], **claims: Any) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {mint(**{'tenant': 'demo-club', **claims})}"}

    async def call(self, method: str, path: str, json: Any = None) -> Any:
        return await self.client.request(method, path, json=json, headers=self.headers)

    async def order(self, **changes: Any) -> dict[str, Any]:
        response = await self.call("POST", ORDERS, order_body(**changes))
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()["order"]
        return order


def order_body(**changes: Any) -> dict[str, Any]:
    body = {"player_name": "Avery Okafor", "size": "YM", "kq": "kings", "tier": "elite", "jersey_number": 7}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def dana(client: Client, mint: Callable[..., str]) -> Member:
    return Member(client, mint, sub="kc-dana", email="Dana@Example.org", roles=[])


@pytest.fixture
def lee(client: Client, mint: Callable[..., str]) -> Member:
    return Member(client, mint, sub="kc-lee", email="lee@example.org", roles=["parent"])


# ---- a user's own orders -----------------------------------------------------------------------------------


async def test_an_order_is_the_callers_with_the_tokens_email_by_default(dana: Member, kit: Kit) -> None:
    response = await dana.call("POST", ORDERS, order_body(notes="Name on the back: OKAFOR"))
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert order["submitter_keycloak_sub"] == "kc-dana"
    assert order["email"] == "Dana@Example.org"
    assert (order["status"], order["size"], order["kq"], order["tier"], order["jersey_number"]) == (
        "submitted", "YM", "kings", "elite", 7,
    )  # fmt: skip
    [row] = await kit.sql("SELECT * FROM jersey_public_orders")
    assert (str(row.id), row.submitter_keycloak_sub, row.notes) == (order["id"], "kc-dana", "Name on the back: OKAFOR")
    [event] = await kit.sql("SELECT * FROM outbox_events WHERE event_type = 'jersey_order.submitted'")
    assert (event.aggregate_type, event.aggregate_id, event.payload["order_id"]) == (
        "jersey_order", order["id"], order["id"],
    )  # fmt: skip


async def test_the_email_may_be_edited(dana: Member) -> None:
    order = await dana.order(email="grandma@example.org", player_name="Jo Okafor")
    assert (order["email"], order["player_name"]) == ("grandma@example.org", "Jo Okafor")


async def test_without_an_email_anywhere_the_order_is_refused(
    client: Client, mint: Callable[..., str], kit: Kit
) -> None:
    nameless = Member(client, mint, sub="kc-x", email=None)
    response = await nameless.call("POST", ORDERS, order_body())
    assert response.status_code == 422
    assert "email is required" in response.json()["detail"]
    assert await kit.sql("SELECT * FROM jersey_public_orders") == []


async def test_a_submitter_sub_in_the_body_is_refused_not_ignored(dana: Member, kit: Kit) -> None:
    response = await dana.call("POST", ORDERS, order_body(submitter_keycloak_sub="kc-someone-else"))
    assert response.status_code == 400
    assert "submitter_keycloak_sub" in response.text  # the problem's errors name it
    assert await kit.sql("SELECT * FROM jersey_public_orders") == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kq", "kingdoms"),
        ("tier", "gold"),
        ("size", "XXL"),
        ("jersey_number", 100),
        ("jersey_number", -1),
        ("email", "not-an-email"),
        ("player_name", ""),
        ("notes", "a\x00b"),
    ],
)
async def test_bad_values_are_a_400_naming_the_field(dana: Member, kit: Kit, field: str, value: Any) -> None:
    response = await dana.call("POST", ORDERS, order_body(**{field: value}))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text
    assert await kit.sql("SELECT * FROM jersey_public_orders") == []


async def test_mine_lists_only_my_orders_newest_first_in_pages(dana: Member, lee: Member) -> None:
    first = await dana.order(player_name="First")
    second = await dana.order(player_name="Second")
    await lee.order(player_name="Lee's")
    page = (await dana.call("GET", f"{ORDERS}/mine?limit=1")).json()
    assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
    assert [order["id"] for order in page["items"]] == [second["id"]]
    page = (await dana.call("GET", f"{ORDERS}/mine?limit=1&offset=1")).json()
    assert [order["id"] for order in page["items"]] == [first["id"]]


async def test_a_user_cancels_their_own_submitted_order_once(dana: Member, kit: Kit) -> None:
    order = await dana.order()
    cancelled = await dana.call("POST", f"{ORDERS}/{order['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await dana.call("POST", f"{ORDERS}/{order['id']}/cancel")
    assert again.status_code == 409
    [event] = await kit.sql("SELECT * FROM outbox_events WHERE event_type = 'jersey_order.status_changed'")
    assert (event.payload["previous_status"], event.payload["status"]) == ("submitted", "cancelled")


async def test_an_order_past_submitted_cannot_be_cancelled_by_its_user(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    order = await dana.order()
    await link_by_hand(club, kit, order["id"])
    await club.client.patch(f"{ADMIN}/{order['id']}", json={"status": "reconciled"}, headers=club.headers)
    response = await dana.call("POST", f"{ORDERS}/{order['id']}/cancel")
    assert response.status_code == 409
    assert (await kit.sql("SELECT status FROM jersey_public_orders"))[0].status == "reconciled"


async def test_another_users_order_is_404(dana: Member, lee: Member, kit: Kit) -> None:
    order = await dana.order()
    assert (await lee.call("POST", f"{ORDERS}/{order['id']}/cancel")).status_code == 404
    assert (await kit.sql("SELECT status FROM jersey_public_orders"))[0].status == "submitted"


async def test_another_tenants_order_is_404(dana: Member, client: Client, mint: Callable[..., str]) -> None:
    order = await dana.order()
    same_user_elsewhere = Member(client, mint, tenant="other-club", sub="kc-dana", email="dana@example.org")
    assert (await same_user_elsewhere.call("POST", f"{ORDERS}/{order['id']}/cancel")).status_code == 404
    assert (await same_user_elsewhere.call("GET", f"{ORDERS}/mine")).json()["total"] == 0
    rival_admin = Member(client, mint, tenant="other-club", roles=["admin"])
    assert (await rival_admin.call("GET", f"{ADMIN}/{order['id']}")).status_code == 404
    assert (await rival_admin.call("PATCH", f"{ADMIN}/{order['id']}", {"status": "cancelled"})).status_code == 404
    assert (await rival_admin.call("GET", ADMIN)).json()["total"] == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", ORDERS, order_body()),
        ("GET", f"{ORDERS}/mine", None),
        ("GET", ADMIN, None),
        ("POST", f"{ADMIN}/reconcile", None),
        ("GET", f"{ADMIN}/00000000-0000-0000-0000-000000000000", None),
    ],
)
async def test_a_hall_tenant_has_no_jersey_orders(
    client: Client, mint: Callable[..., str], kit: Kit, method: str, path: str, body: Any
) -> None:
    hall_admin = Member(client, mint, tenant="demo-hall", roles=["admin"])
    response = await hall_admin.call(method, path, body)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert await kit.sql("SELECT * FROM jersey_public_orders") == []


async def test_staff_pages_need_the_admin_role(lee: Member) -> None:
    assert (await lee.call("GET", ADMIN)).status_code == 403


# ---- staff ---------------------------------------------------------------------------------------------


async def link_by_hand(club: ClubAdmin, kit: Kit, order_id: str) -> None:
    parent = await club.parent(email=f"p-{order_id[:8]}@example.org")
    player = await club.player(parent_id=parent["id"])
    await club.call("PATCH", f"/jersey-orders/{order_id}", {"parent_id": parent["id"], "player_id": player["id"]}, 200)


async def test_staff_filter_by_status_tier_program_link_and_text(
    dana: Member, lee: Member, club: ClubAdmin, kit: Kit
) -> None:
    elite = await dana.order(player_name="Avery Okafor", tier="elite", kq="kings")
    select_ = await dana.order(player_name="Maya 100%", tier="select", kq="queens")
    dev = await lee.order(player_name="Jo_Lee", tier="development", kq="kings")
    await link_by_hand(club, kit, dev["id"])
    await club.call("PATCH", f"/jersey-orders/{select_['id']}", {"status": "cancelled"}, 200)

    async def ids(query: str) -> list[str]:
        page = await club.call("GET", f"/jersey-orders?{query}", expect=200)
        return sorted(order["id"] for order in page["items"])

    assert await ids("tier=elite") == [elite["id"]]
    assert await ids("kq=queens") == [select_["id"]]
    assert await ids("status=cancelled") == [select_["id"]]
    assert await ids("linked=true") == [dev["id"]]
    assert await ids("linked=false") == sorted([elite["id"], select_["id"]])
    assert await ids("q=okafor") == [elite["id"]]
    assert await ids("q=LEE%40EXAMPLE") == [dev["id"]]  # the email, any case
    assert await ids("q=100%25") == [select_["id"]]  # % is a character, not a wildcard
    assert await ids("q=%25") == [select_["id"]]
    assert await ids("q=a_a") == []  # _ is a character too, not "any one character" ("Maya", "Dana")
    assert await ids("q=O_L") == [dev["id"]]
    assert await ids("tier=elite&kq=queens") == []
    page = await club.call("GET", "/jersey-orders?limit=2&offset=1", expect=200)
    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (3, 2, 2, 1)


@pytest.mark.parametrize("query", ["status=shipped", "tier=gold", "kq=kingdoms", "linked=maybe", "limit=0"])
async def test_bad_filters_are_a_400_naming_them(club: ClubAdmin, query: str) -> None:
    response = await club.client.get(f"{ADMIN}?{query}", headers=club.headers)
    assert response.status_code == 400
    assert query.split("=", maxsplit=1)[0] in response.text


async def test_the_supplier_sheet_is_csv_with_every_matching_order(dana: Member, club: ClubAdmin) -> None:
    for number in range(3):
        await dana.order(player_name=f"Player {number}", jersey_number=number)
    await dana.order(player_name='=HYPERLINK("http://evil")', tier="select", notes="+1 size up")
    response = await club.client.get(f"{ADMIN}?tier=elite&limit=1", headers={**club.headers, "Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["player_name"] for row in rows] == ["Player 0", "Player 1", "Player 2"]  # oldest first, no paging
    assert [row["jersey_number"] for row in rows] == ["0", "1", "2"]
    assert {row["tier"] for row in rows} == {"elite"}
    sheet = await club.client.get(f"{ADMIN}?tier=select", headers={**club.headers, "Accept": "text/csv"})
    [evil] = list(csv.DictReader(io.StringIO(sheet.text)))
    assert evil["player_name"].startswith("'=")  # a spreadsheet shows it as text, never runs it
    assert evil["notes"] == "'+1 size up"


async def test_staff_read_one_order(dana: Member, club: ClubAdmin) -> None:
    order = await dana.order()
    assert (await club.call("GET", f"/jersey-orders/{order['id']}", expect=200))["id"] == order["id"]
    await club.call("GET", "/jersey-orders/00000000-0000-0000-0000-000000000000", expect=404)


LEGAL = [(old, new) for old, targets in MOVES.items() for new in sorted(targets)]  # sorted: sets have no order
ILLEGAL = [(old, new) for old, new in product(OrderStatus, OrderStatus) if new not in MOVES[old]]


async def order_in(status: OrderStatus, dana: Member, club: ClubAdmin, kit: Kit) -> str:
    """An order brought to ``status`` by legal moves."""
    order = await dana.order()
    path = {
        OrderStatus.SUBMITTED: [],
        OrderStatus.RECONCILED: ["reconciled"],
        OrderStatus.PAID: ["reconciled", "paid"],
        OrderStatus.FULFILLED: ["reconciled", "paid", "fulfilled"],
        OrderStatus.CANCELLED: ["cancelled"],
    }[status]
    if path and path[0] == "reconciled":
        await link_by_hand(club, kit, order["id"])
    for step in path:
        await club.call("PATCH", f"/jersey-orders/{order['id']}", {"status": step}, 200)
    return str(order["id"])


@pytest.mark.parametrize(("old", "new"), LEGAL, ids=[f"{o.value}->{n.value}" for o, n in LEGAL])
async def test_every_legal_move_is_taken_and_announced(
    dana: Member, club: ClubAdmin, kit: Kit, old: OrderStatus, new: OrderStatus
) -> None:
    order_id = await order_in(old, dana, club, kit)
    if new is OrderStatus.RECONCILED:
        await link_by_hand(club, kit, order_id)
    moved = await club.call("PATCH", f"/jersey-orders/{order_id}", {"status": new.value}, 200)
    assert moved["status"] == new.value
    events = await kit.sql("SELECT payload FROM outbox_events WHERE event_type = 'jersey_order.status_changed' "
                           "ORDER BY seq DESC LIMIT 1")  # fmt: skip
    assert (events[0].payload["previous_status"], events[0].payload["status"]) == (old.value, new.value)
    assert events[0].payload["changed_by"] == "staff@demo-club.test"


@pytest.mark.parametrize(("old", "new"), ILLEGAL, ids=[f"{o.value}->{n.value}" for o, n in ILLEGAL])
async def test_every_illegal_move_is_a_409_and_changes_nothing(
    dana: Member, club: ClubAdmin, kit: Kit, old: OrderStatus, new: OrderStatus
) -> None:
    order_id = await order_in(old, dana, club, kit)
    before = await kit.sql("SELECT count(*) AS n FROM outbox_events")
    await club.call("PATCH", f"/jersey-orders/{order_id}", {"status": new.value, "notes": "x"}, 409)
    row = (await kit.sql("SELECT status, notes FROM jersey_public_orders WHERE id = :id", id=order_id))[0]
    assert (row.status, row.notes) == (old.value, None)
    assert await kit.sql("SELECT count(*) AS n FROM outbox_events") == before


async def test_reconciled_needs_a_parent_and_a_player(dana: Member, club: ClubAdmin) -> None:
    order = await dana.order()
    refused = await club.call("PATCH", f"/jersey-orders/{order['id']}", {"status": "reconciled"}, 409)
    assert "link the order" in refused["detail"]


async def test_links_must_be_the_clubs_own(dana: Member, club: ClubAdmin, rival: ClubAdmin) -> None:
    order = await dana.order()
    foreign = await rival.parent()
    await club.call("PATCH", f"/jersey-orders/{order['id']}", {"parent_id": foreign["id"]}, 422)
    await club.call("PATCH", f"/jersey-orders/{order['id']}", {"status": "reconciled", "bogus": 1}, 400)


async def test_of_two_concurrent_moves_one_wins_and_the_other_is_a_409(dana: Member, club: ClubAdmin, kit: Kit) -> None:
    order_id = await order_in(OrderStatus.PAID, dana, club, kit)
    path = f"{ADMIN}/{order_id}"
    answers = await asyncio.gather(
        club.client.patch(path, json={"status": "fulfilled"}, headers=club.headers),
        club.client.patch(path, json={"status": "cancelled"}, headers=club.headers),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner = next(answer for answer in answers if answer.status_code == 200).json()["status"]
    row = (await kit.sql("SELECT status FROM jersey_public_orders WHERE id = :id", id=order_id))[0]
    assert row.status == winner
    changes = await kit.sql("SELECT payload FROM outbox_events WHERE event_type = 'jersey_order.status_changed' "
                            "AND payload->>'previous_status' = 'paid'")  # fmt: skip
    assert [change.payload["status"] for change in changes] == [winner]
