"""The outbox admin API: tenant-scoped listing, stats, replay, discard and ping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
BASE = "/api/v1/admin/outbox"

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def as_admin(mint: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    def headers(tenant: str = "demo-club") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint(tenant=tenant, roles=['admin'])}"}

    return headers


async def tenant_id(kit: Kit, slug: str) -> UUID:
    rows = await kit.sql("SELECT id FROM tenants WHERE slug = :slug", slug=slug)
    return UUID(str(rows[0].id))


async def seed(kit: Kit) -> dict[str, Any]:
    """Three events for demo-club (one dead), one for other-club."""
    club, other = await tenant_id(kit, "demo-club"), await tenant_id(kit, "other-club")
    ids = [(await kit.emit(f"player-{i}", text=f"n{i}"))[0] for i in range(4)]
    await kit.sql("UPDATE outbox_events SET tenant_id = :t", t=club)
    await kit.sql("UPDATE outbox_events SET tenant_id = :t WHERE id = :id", t=other, id=ids[3])
    await kit.sql(
        "UPDATE outbox_events SET status = 'dead', attempts = 10, last_error = 'SMTPError: 550' WHERE id = :id",
        id=ids[0],
    )
    await kit.sql("UPDATE outbox_events SET status = 'delivered', delivered_at = now() WHERE id = :id", id=ids[1])
    await kit.sql(
        "INSERT INTO outbox_deliveries (event_id, handler, outcome) VALUES (:id, 'welcome_email', 'done')", id=ids[1]
    )
    return {"dead": ids[0], "delivered": ids[1], "pending": ids[2], "foreign": ids[3]}


async def test_the_list_shows_only_the_callers_tenant_newest_first(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    response = await client.get(f"{BASE}/events", headers=as_admin())
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 3
    assert (page["limit"], page["offset"]) == (50, 0)
    assert [item["id"] for item in page["items"]] == [str(events[k]) for k in ("pending", "delivered", "dead")]
    dead = page["items"][2]
    assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 10, "SMTPError: 550")
    delivered = page["items"][1]
    assert [d["handler"] for d in delivered["deliveries"]] == ["welcome_email"]
    assert delivered["payload"] == {"text": "n1", "size": 1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=dead", ["dead"]),
        ("status=pending", ["pending"]),
        ("aggregate_id=player-1", ["delivered"]),
        ("aggregate_type=thing&event_type=test.note", ["pending", "delivered", "dead"]),
        ("event_type=contract.signed", []),
        ("limit=1&offset=1", ["delivered"]),
        ("created_after=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z", ["pending", "delivered", "dead"]),
        ("created_after=2999-01-01T00:00:00Z", []),
    ],
)
async def test_the_list_filters(client: Client, kit: Kit, as_admin: Any, query: str, expected: list[str]) -> None:
    events = await seed(kit)
    page = (await client.get(f"{BASE}/events?{query}", headers=as_admin())).json()
    assert [item["id"] for item in page["items"]] == [str(events[k]) for k in expected]


@pytest.mark.parametrize("query", ["status=lost", "limit=0", "limit=500", "offset=-1", "created_after=yesterday"])
async def test_bad_filters_are_400(client: Client, as_admin: Any, query: str) -> None:
    response = await client.get(f"{BASE}/events?{query}", headers=as_admin())
    assert response.status_code == 400
    assert response.json()["errors"]


async def test_stats_count_the_callers_tenant(client: Client, kit: Kit, as_admin: Any) -> None:
    await seed(kit)
    stats = (await client.get(f"{BASE}/stats", headers=as_admin())).json()
    assert (stats["pending"], stats["in_flight"], stats["dead"]) == (1, 0, 1)
    assert stats["oldest_pending_age_seconds"] >= 0
    other = (await client.get(f"{BASE}/stats", headers=as_admin("demo-hall"))).json()
    assert other == {"pending": 0, "in_flight": 0, "dead": 0, "oldest_pending_age_seconds": None}


async def test_replay_puts_a_dead_event_back(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    response = await client.post(f"{BASE}/events/{events['dead']}/replay", headers=as_admin())
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"]) == ("pending", 0)


async def test_replaying_an_event_that_is_not_dead_is_409(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    response = await client.post(f"{BASE}/events/{events['delivered']}/replay", headers=as_admin())
    assert response.status_code == 409
    assert response.json()["detail"] == "only dead events can be replayed; this one is delivered"


async def test_discard_records_who_and_why(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    response = await client.post(
        f"{BASE}/events/{events['dead']}/discard", json={"note": "address bounces"}, headers=as_admin()
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "delivered"
    [record] = body["deliveries"]
    assert (record["handler"], record["outcome"]) == ("discarded", "skipped")
    assert record["note"] == "discarded by staff@demo-club.test: address bounces"


async def test_discard_needs_a_note_and_a_dead_event(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    empty = await client.post(f"{BASE}/events/{events['dead']}/discard", json={"note": ""}, headers=as_admin())
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "note"
    pending = await client.post(f"{BASE}/events/{events['pending']}/discard", json={"note": "x"}, headers=as_admin())
    assert pending.status_code == 409
    assert (await kit.event(events["dead"])).status.value == "dead"


@pytest.mark.parametrize("action", ["replay", "discard"])
async def test_another_tenants_event_is_404(client: Client, kit: Kit, as_admin: Any, action: str) -> None:
    events = await seed(kit)
    await kit.sql("UPDATE outbox_events SET status = 'dead' WHERE id = :id", id=events["foreign"])
    response = await client.post(f"{BASE}/events/{events['foreign']}/{action}", json={"note": "x"}, headers=as_admin())
    assert response.status_code == 404
    assert (await client.get(f"{BASE}/events/{events['foreign']}", headers=as_admin())).status_code == 404
    assert (await kit.event(events["foreign"])).status.value == "dead"


async def test_one_event_can_be_fetched(client: Client, kit: Kit, as_admin: Any) -> None:
    events = await seed(kit)
    response = await client.get(f"{BASE}/events/{events['pending']}", headers=as_admin())
    assert response.status_code == 200
    assert response.json()["status"] == "pending"


async def test_ping_commits_a_system_ping_for_the_tenant(client: Client, kit: Kit, as_admin: Any) -> None:
    response = await client.post(f"{BASE}/ping", headers=as_admin())
    assert response.status_code == 202
    event_id = UUID(response.json()["event_id"])
    row = await kit.event(event_id)
    assert (row.event_type, row.aggregate_type, row.status.value) == ("system.ping", "system", "pending")
    assert row.tenant_id == await tenant_id(kit, "demo-club")
    assert row.payload["requested_by"] == "staff@demo-club.test"


async def test_the_outbox_api_needs_the_admin_role(client: Client, mint: Callable[..., str]) -> None:
    headers = {"Authorization": f"Bearer {mint(roles=['dispatcher'])}"}
    assert (await client.get(f"{BASE}/events", headers=headers)).status_code == 403
    assert (await client.post(f"{BASE}/ping", headers=headers)).status_code == 403
