"""contract.signed → welcome_email: one branded email (HTML + text) with the GroupMe link, exactly once."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.dev.mail_sink import MailSink
from app.outbox.relay import Relay
from tests.club.conftest import ClubAdmin
from tests.club.test_public_link import LINKS, signing
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]
SHARE_URL = "https://groupme.com/join_group/4242/KiNgS"

pytestmark = pytest.mark.usefixtures("tenants", "notifier")


async def sign_up(client: Client, club: ClubAdmin, kit: Kit, *, parent: bool = True, **player: Any) -> str:
    """Offer and sign a contract for a new player on a team with a GroupMe link; returns the player id."""
    team = await club.team(groupme_share_url=SHARE_URL)
    extra: dict[str, Any] = {"team_ids": [team["id"]], **player}
    if parent:
        extra["parent_id"] = (await club.parent(email="Dana@Example.org"))["id"]
    made = await club.player(**extra)
    await club.call("POST", "/contracts/offer", {"player_id": made["id"], "monthly_fee": 12500}, 200)
    token = (await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=made["id"]))[0].contract_token
    assert (await client.post(f"{LINKS}/{token}/sign", json=signing())).status_code == 200
    return str(made["id"])


class Worker:
    """The outbox relay over the process-wide registry (where the club's handlers are), driven by hand."""

    def __init__(self, kit: Kit, **outbox: Any) -> None:
        self.relay = Relay(
            kit.session_maker, msgspec.structs.replace(kit.settings.outbox, **outbox), resources=kit.resources
        )

    async def deliver_batch(self) -> int:
        """Deliver until nothing is claimable (contract.offered goes first: one aggregate, in order)."""
        total = 0
        while delivered := await self.relay.deliver_batch():
            total += delivered
        return total

    async def once(self) -> int:
        """One claim-and-deliver round."""
        return await self.relay.deliver_batch()


def relay(kit: Kit, **outbox: Any) -> Worker:
    return Worker(kit, **outbox)


async def signed_event(kit: Kit, player_id: str) -> Any:
    return (await kit.sql("SELECT * FROM outbox_events WHERE event_type = 'contract.signed' AND aggregate_id = :id",
                          id=player_id))[0]  # fmt: skip


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


async def test_the_parent_gets_one_welcome_with_the_groupme_link(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    player_id = await sign_up(client, club, kit, name="<b>Jo</b> & Co")
    await relay(kit).deliver_batch()

    [message] = mail_sink.received()
    assert message["To"] == "Dana@Example.org"
    assert message["From"] == "Demo Club <club@demo-club.example>"
    assert message["Subject"] == "Welcome to U12 Kings Elite, Demo Youth Soccer Club"
    text, html = parts(message)
    assert SHARE_URL in text
    assert f'href="{SHARE_URL}"' in html
    assert "&lt;b&gt;Jo&lt;/b&gt; &amp; Co" in html
    assert "<b>Jo</b>" not in html
    assert "<b>Jo</b> & Co" in text

    event = await signed_event(kit, player_id)
    assert event.status == "delivered"
    assert await kit.deliveries(event.id) == {"welcome_email": ("done", None)}
    [log] = await kit.sql("SELECT * FROM email_log WHERE event_id = :id", id=event.id)
    assert (log.recipient, log.type, log.status, log.handler) == (
        "dana@example.org",
        "welcome",
        "sent",
        "welcome_email",
    )
    assert log.provider_message_id == "sink-1"
    assert log.sent_at is not None
    assert message["Message-ID"].startswith(f"<{event.id}.welcome_email.")


async def test_without_a_groupme_link_the_email_says_the_coach_will_share_it(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    team = await club.team(name="U10 Queens")
    parent = await club.parent()
    made = await club.player(team_ids=[team["id"]], parent_id=parent["id"])
    await club.call("POST", "/contracts/offer", {"player_id": made["id"], "monthly_fee": 9000}, 200)
    token = (await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=made["id"]))[0].contract_token
    await client.post(f"{LINKS}/{token}/sign", json=signing())
    await relay(kit).deliver_batch()
    [message] = mail_sink.received()
    text, _ = parts(message)
    assert "groupme" not in text.lower()
    assert "Your coach will share" in text


async def test_the_tenants_brand_colours_the_email(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    await kit.sql("UPDATE tenants SET brand_color = '#aa1133', logo_url = 'https://cdn.example/logo.png'")
    await sign_up(client, club, kit)
    await relay(kit).deliver_batch()
    [message] = mail_sink.received()
    _, html = parts(message)
    assert "background:#aa1133" in html
    assert '<img src="https://cdn.example/logo.png"' in html


async def test_a_player_without_a_parent_is_skipped_with_the_reason_and_not_retried(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    player_id = await sign_up(client, club, kit, parent=False)
    await relay(kit).deliver_batch()
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("delivered", 1)
    assert await kit.deliveries(event.id) == {"welcome_email": ("skipped", "the player has no parent to email")}
    [log] = await kit.sql("SELECT * FROM email_log WHERE event_id = :id", id=event.id)
    assert (log.status, log.error, log.recipient) == ("skipped", "the player has no parent to email", "")
    assert mail_sink.received() == []


async def test_a_parent_without_an_address_is_skipped_with_the_reason(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    player_id = await sign_up(client, club, kit)
    await kit.sql("UPDATE parents SET email = ''")
    await relay(kit).deliver_batch()
    event = await signed_event(kit, player_id)
    outcome, note = (await kit.deliveries(event.id))["welcome_email"]
    assert outcome == "skipped"
    assert note is not None
    assert note.endswith("has no email address")
    assert mail_sink.received() == []


async def test_smtp_down_is_retried_with_backoff_and_sent_once_it_is_back(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    mail_sink.stop()
    player_id = await sign_up(client, club, kit)
    quick = relay(kit, backoff_base_seconds=0.0, backoff_cap_seconds=0.0)
    await quick.once()  # contract.offered
    await quick.once()  # contract.signed: SMTP is down
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("pending", 1)
    assert "EmailDeliveryError" in event.last_error
    [log] = await kit.sql("SELECT * FROM email_log WHERE event_id = :id", id=event.id)
    assert log.status == "failed"
    assert "SMTPConnect" in log.error

    backing_off = relay(kit, backoff_base_seconds=60.0, backoff_cap_seconds=60.0)
    await backing_off.once()  # fails again, and now waits up to a minute
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("pending", 2)
    assert await kit.sql("SELECT 1 FROM outbox_events WHERE id = :id AND available_at > now()", id=event.id)

    mail_sink.start()
    await kit.sql("UPDATE outbox_events SET available_at = now() WHERE id = :id", id=event.id)
    await quick.deliver_batch()
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("delivered", 3)
    assert len(mail_sink.received()) == 1
    [log] = await kit.sql("SELECT * FROM email_log WHERE event_id = :id", id=event.id)
    assert (log.status, log.error) == ("sent", None)


async def test_a_retry_of_an_event_already_logged_as_sent_sends_nothing(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    player_id = await sign_up(client, club, kit)
    await relay(kit).deliver_batch()
    assert len(mail_sink.received()) == 1
    event = await signed_event(kit, player_id)
    # As if the worker died after sending and logging but before the outbox learnt of it: the event is
    # pending again and its delivery record is gone; only the email log remembers.
    await kit.sql("DELETE FROM outbox_deliveries WHERE event_id = :id", id=event.id)
    await kit.sql("UPDATE outbox_events SET status = 'pending', delivered_at = NULL WHERE id = :id", id=event.id)
    await relay(kit).deliver_batch()
    assert len(mail_sink.received()) == 1
    event = await signed_event(kit, player_id)
    assert event.status == "delivered"
    assert await kit.deliveries(event.id) == {"welcome_email": ("done", None)}


async def test_a_recipient_the_server_refuses_for_good_is_logged_and_not_retried(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    mail_sink.refused_recipients["dana@example.org"] = "550 5.1.1 no such mailbox"
    player_id = await sign_up(client, club, kit)
    await relay(kit).deliver_batch()
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("delivered", 1)
    outcome, note = (await kit.deliveries(event.id))["welcome_email"]
    assert outcome == "skipped"
    assert note is not None
    assert "550" in note
    [log] = await kit.sql("SELECT * FROM email_log WHERE event_id = :id", id=event.id)
    assert log.status == "failed"
    assert mail_sink.received() == []


async def test_a_recipient_deferred_with_4xx_is_retried(
    client: Client, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    mail_sink.refused_recipients["dana@example.org"] = "451 4.7.1 greylisted, try again later"
    player_id = await sign_up(client, club, kit)
    worker = relay(kit, backoff_base_seconds=0.0, backoff_cap_seconds=0.0)
    await worker.once()  # contract.offered
    await worker.once()  # contract.signed: deferred
    event = await signed_event(kit, player_id)
    assert (event.status, event.attempts) == ("pending", 1)
    assert "451" in event.last_error
    del mail_sink.refused_recipients["dana@example.org"]
    await worker.deliver_batch()
    assert len(mail_sink.received()) == 1
    assert (await signed_event(kit, player_id)).status == "delivered"
