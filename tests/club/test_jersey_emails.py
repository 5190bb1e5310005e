"""Jersey order emails reach a real SMTP server exactly once: the confirmation of each order, and news when an
order is paid and when it is fulfilled (no other move mails anyone)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.club.jerseys import notifications  # noqa: F401  (registers the email handlers, as a worker does)
from app.dev.mail_sink import MailSink
from tests.club.conftest import ClubAdmin
from tests.club.test_jersey_orders import Member, link_by_hand
from tests.club.test_welcome_email import parts, relay
from tests.outbox.conftest import Kit

Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.usefixtures("tenants", "notifier")


@pytest.fixture
def dana(client: Client, mint: Callable[..., str]) -> Member:
    return Member(client, mint, sub="kc-dana", email="dana@example.org")


async def test_a_submitted_order_is_confirmed_once_in_the_clubs_brand(
    dana: Member, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    await club.call("PATCH", "/tenants/current", {"brand_color": "#0b6e4f"}, 200)
    order = await dana.order(player_name="<b>Avery</b>", email="grandma@example.org", notes="Name: OKAFOR")
    worker = relay(kit)
    await worker.deliver_batch()
    # Delivered a second time, as after a lost lease: the email log keeps it at one.
    await kit.sql("DELETE FROM outbox_deliveries")
    await kit.sql("UPDATE outbox_events SET status = 'pending', delivered_at = NULL")
    await worker.deliver_batch()
    assert [row.outcome for row in await kit.sql("SELECT outcome FROM outbox_deliveries")] == ["done"]

    [message] = mail_sink.received()
    assert message["To"] == "grandma@example.org"
    assert message["Subject"] == "Your jersey order for <b>Avery</b>, Demo Youth Soccer Club"
    text, html = parts(message)
    for line in (
        "Size:    Youth M",
        "Number:  7",
        "Program: Kings",
        "Tier:    Elite",
        "Notes:   Name: OKAFOR",
        order["id"],
    ):
        assert line in text
    assert "&lt;b&gt;Avery&lt;/b&gt;" in html
    assert "<b>Avery</b>" not in html
    assert "#0b6e4f" in html
    [log] = await kit.sql("SELECT * FROM email_log WHERE handler = 'jersey_order_confirmation'")
    assert (log.status, log.recipient) == ("sent", "grandma@example.org")


async def test_paid_and_fulfilled_are_mailed_other_moves_are_not(
    dana: Member, club: ClubAdmin, kit: Kit, mail_sink: MailSink
) -> None:
    order = await dana.order()
    other = await dana.order(player_name="Jo")
    await link_by_hand(club, kit, order["id"])
    for status in ("reconciled", "paid", "fulfilled"):
        await club.call("PATCH", f"/jersey-orders/{order['id']}", {"status": status}, 200)
    await club.call("PATCH", f"/jersey-orders/{other['id']}", {"status": "cancelled"}, 200)
    await relay(kit).deliver_batch()
    subjects = sorted(message["Subject"] for message in mail_sink.received())
    assert subjects == [
        "Avery Okafor's jersey is ready, Demo Youth Soccer Club",
        "Payment received for Avery Okafor's jersey, Demo Youth Soccer Club",
        "Your jersey order for Avery Okafor, Demo Youth Soccer Club",
        "Your jersey order for Jo, Demo Youth Soccer Club",
    ]
    paid = next(m for m in mail_sink.received() if m["Subject"].startswith("Payment"))
    assert "Status:  paid" in parts(paid)[0]  # the move it announces, even if the order moved on since
    skipped = await kit.sql("SELECT d.outcome FROM outbox_deliveries AS d JOIN outbox_events AS e ON e.id = d.event_id "
                            "WHERE e.payload->>'status' IN ('reconciled', 'cancelled')")  # fmt: skip
    assert [row.outcome for row in skipped] == ["skipped", "skipped"]
