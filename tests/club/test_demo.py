"""The demo data that ``make dev`` loads: a small club with one open offer; loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.club.demo import load_demo_data
from tests.outbox.conftest import Kit


async def test_demo_data_is_a_small_club_with_one_open_offer(session: AsyncSession, kit: Kit) -> None:
    token = await load_demo_data(session)
    assert token is not None
    again = await load_demo_data(session)
    assert again == token
    counts = (
        await kit.sql(
            "SELECT (SELECT count(*) FROM teams) AS teams, (SELECT count(*) FROM parents) AS parents,"
            " (SELECT count(*) FROM players) AS players,"
            " (SELECT count(*) FROM players WHERE contract_status = 'offered') AS offered,"
            " (SELECT count(*) FROM tenants) AS tenants"
        )
    )[0]
    assert (counts.teams, counts.parents, counts.players, counts.offered, counts.tenants) == (2, 3, 4, 1, 2)
    offer = (await kit.sql("SELECT name, contract_token FROM players WHERE contract_status = 'offered'"))[0]
    assert (offer.name, offer.contract_token) == ("Avery Okafor", token)


async def test_demo_data_has_jersey_orders_at_every_stage_and_one_unlinked(session: AsyncSession, kit: Kit) -> None:
    await load_demo_data(session)
    await load_demo_data(session)
    orders = await kit.sql(
        "SELECT o.status, o.parent_id, o.player_id, p.name AS player FROM jersey_public_orders AS o "
        "JOIN tenants AS t ON t.id = o.tenant_id AND t.slug = 'demo-club' "
        "LEFT JOIN players AS p ON p.id = o.player_id ORDER BY o.status, p.name"
    )
    assert len(orders) == 4
    assert {order.status for order in orders} == {"submitted", "reconciled", "paid"}
    unlinked = [order for order in orders if order.parent_id is None]
    assert len(unlinked) == 1
    assert unlinked[0].player_id is None
    assert {order.player for order in orders if order.player} == {"Avery Okafor", "Jordan Martins", "Sofia Martins"}
