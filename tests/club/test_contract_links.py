"""Every link a person receives is built from CONTRACT_LINK_URL (default: the signing page this API serves), and
the public link shows which club asks for the signature."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.config import Settings
from app.dev.mail_sink import MailSink
from app.notify.delivery import Notifier
from tests.club.conftest import ClubAdmin
from tests.club.test_public_link import LINKS, offered, signing
from tests.club.test_welcome_email import parts, relay
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
SPA_LINKS = "https://club.example.org/contracts/{token}"

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
async def spa_club(env: dict[str, str], mint: Callable[..., str]) -> AsyncIterator[ClubAdmin]:
    """demo-club's admin on an API whose links go to the club's own SPA."""
    app = create_app(Settings.from_env({**env, "CONTRACT_LINK_URL": SPA_LINKS}))
    async with AsyncTestClient(app=app) as client:
        yield ClubAdmin(client, {"Authorization": f"Bearer {mint(tenant='demo-club', roles=['admin'])}"})


async def test_the_offer_links_to_the_signing_page_by_default(club: ClubAdmin, kit: Kit) -> None:
    team = await club.team()
    player = await club.player(team_ids=[team["id"]])
    result = await club.call("POST", "/contracts/offer", {"player_id": player["id"], "monthly_fee": 100}, 200)
    [row] = await kit.sql("SELECT contract_token FROM players")
    assert result["contract_url"] == f"https://rollcall.test/sign/{row.contract_token}"


async def test_a_club_spa_receives_the_offer_links(spa_club: ClubAdmin, kit: Kit) -> None:
    team = await spa_club.team()
    player = await spa_club.player(team_ids=[team["id"]])
    result = await spa_club.call("POST", "/contracts/offer", {"player_id": player["id"], "monthly_fee": 100}, 200)
    [row] = await kit.sql("SELECT contract_token FROM players")
    assert result["contract_url"] == f"https://club.example.org/contracts/{row.contract_token}"


@pytest.mark.usefixtures("notifier")
async def test_the_blast_email_links_to_the_club_spa(
    club: ClubAdmin, kit: Kit, mail_settings: Settings, mail_sink: MailSink, env: dict[str, str]
) -> None:
    spa_links = Settings.from_env({**env, **smtp_of(mail_settings), "CONTRACT_LINK_URL": SPA_LINKS})
    kit.resources["notifier"] = Notifier.from_settings(spa_links)
    await club.parent()
    await offered(club, kit, parent_id=(await club.call("GET", "/parents"))["items"][0]["id"])
    await club.call("POST", "/email/blast", {"audience": "unsigned_contracts"}, 200)
    await relay(kit).deliver_batch()
    [row] = await kit.sql("SELECT contract_token FROM players")
    [blast] = [message for message in mail_sink.received() if message["To"] == "dana@example.org"]
    text, html = parts(blast)
    assert f"https://club.example.org/contracts/{row.contract_token}" in text
    assert f'href="https://club.example.org/contracts/{row.contract_token}"' in html
    assert "rollcall.test" not in text


async def test_the_link_and_the_signature_show_the_club_and_its_brand(
    client: Client, club: ClubAdmin, kit: Kit
) -> None:
    brand = {"brand_color": "#0b6e4f", "logo_url": "https://kings.example.org/logo.png"}
    await club.call("PATCH", "/tenants/current", brand, 200)
    _, token = await offered(club, kit)
    expected = {"name": "Demo Youth Soccer Club", **brand}
    assert (await client.get(f"{LINKS}/{token}")).json()["club"] == expected
    signed = await client.post(f"{LINKS}/{token}/sign", json=signing())
    assert signed.status_code == 200, signed.text
    assert signed.json()["club"] == expected


async def test_a_declined_link_still_names_its_club(client: Client, club: ClubAdmin, kit: Kit) -> None:
    _, token = await offered(club, kit)
    declined = await client.post(f"{LINKS}/{token}/decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["club"] == {"name": "Demo Youth Soccer Club", "brand_color": None, "logo_url": None}


def smtp_of(settings: Settings) -> dict[str, str]:
    return {
        "SMTP_HOST": settings.smtp.host,
        "SMTP_PORT": str(settings.smtp.port),
        "SMTP_FROM": settings.smtp.sender,
    }
