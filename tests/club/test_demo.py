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
