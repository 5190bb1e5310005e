"""dispatch.created → dispatch_email: the member learns where, when and to whom to report (HTML and text, in the
hall's local time), exactly once, from a real SMTP server's point of view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.dev.mail_sink import MailSink
from app.hall import notifications  # noqa: F401  (registers the email handler, as a worker does)
from app.hall.models import Dispatch, DispatchMethod, TermReason
from tests.club.test_welcome_email import parts, relay
from tests.hall.kit import HallKit
from tests.outbox.conftest import Kit

pytestmark = pytest.mark.usefixtures("notifier")

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
"""Thursday 10:00 in Los Angeles, demo-hall's zone: the request is received and filled the same day."""
SITE: dict[str, Any] = {"worksite_name": "Pier 27 Terminal", "worksite_address": "27 The Embarcadero, San Francisco",
        "report_to": "Lee Park, general foreman"}  # fmt: skip


async def dispatched(hall: HallKit, **values: Any) -> Dispatch:
    """A member on a new book, sent by morning referral to a request starting 07:00 on Monday 2026-12-07."""
    book_id = await hall.book()
    await hall.register(book_id, await hall.member(), NOW)
    request = await hall.request(book_id, NOW, **{**SITE, **values})
    dispatch: Dispatch = await hall.dispatching("morning_referral", request.id, expected=None, now=NOW)
    return dispatch


async def test_the_member_is_told_where_when_and_to_whom_to_report(
    hall: HallKit, kit: Kit, mail_sink: MailSink
) -> None:
    dispatch = await dispatched(hall, worksite_name="<b>Pier 27</b> & Co")
    await relay(kit).deliver_batch()

    [message] = mail_sink.received()
    assert message["To"] == "member1@example.org"
    assert message["Subject"] == "Dispatch REQ20261203-0001: Bright Electric, start 2026-12-07 07:00"
    text, html = parts(message)
    for line in (
        "Hi First1,",
        "Employer:  Bright Electric",
        "Request:   REQ20261203-0001",
        "Worksite:  <b>Pier 27</b> & Co",
        "Address:   27 The Embarcadero, San Francisco",
        "Report to: Lee Park, general foreman",
        "Start:     2026-12-07 at 07:00",
        f"Dispatch:  {dispatch.id}",
        "Report at 07:00 on 2026-12-07.",  # a morning referral has no check-in deadline
    ):
        assert line in text
    assert "Check in by" not in text
    for part in (
        "Bright Electric",
        "27 The Embarcadero, San Francisco",
        "Lee Park, general foreman",
        "2026-12-07 at 07:00",
        "Report at 07:00 on 2026-12-07",
    ):
        assert part in html
    assert "&lt;b&gt;Pier 27&lt;/b&gt; &amp; Co" in html
    assert "<b>Pier 27</b>" not in html
    assert "on the hall's behalf" in html
    [log] = await kit.sql("SELECT * FROM email_log WHERE handler = 'dispatch_email'")
    assert (log.status, log.recipient, log.type) == ("sent", "member1@example.org", "dispatch")


async def test_an_internet_bid_dispatch_says_to_check_in_by_15_00_hall_time(
    hall: HallKit, kit: Kit, mail_sink: MailSink
) -> None:
    book_id = await hall.book(internet_bidding_enabled=True)
    member_id = await hall.member()
    await hall.register(book_id, member_id, NOW)
    request = await hall.request(book_id, NOW, allows_online_bidding=True, **SITE)
    await hall.dispatching("bid", request.id, member_id, now=datetime(2026, 12, 7, 2, 0, tzinfo=UTC))  # Sun 18:00
    await hall.dispatching("process_bids", request.id, reason=None, now=datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    [event] = await hall.events("dispatch.created")
    assert (event["method"], event["check_in_deadline"]) == (DispatchMethod.INTERNET_BID, "2026-12-07T23:00:00Z")
    await relay(kit).deliver_batch()

    [message] = mail_sink.received()
    text, html = parts(message)
    assert "Check in by 15:00 on 2026-12-07." in text  # 23:00 UTC, read in Los Angeles
    assert "Check in by 15:00 on 2026-12-07." in html
    assert "Report at" not in text


async def test_an_event_delivered_twice_mails_once(hall: HallKit, kit: Kit, mail_sink: MailSink) -> None:
    await dispatched(hall)
    worker = relay(kit)
    await worker.deliver_batch()
    # Delivered a second time, as after a lost lease: the email log keeps it at one.
    await kit.sql("DELETE FROM outbox_deliveries")
    await kit.sql("UPDATE outbox_events SET status = 'pending', delivered_at = NULL")
    await worker.deliver_batch()

    assert len(mail_sink.received()) == 1
    deliveries = await kit.sql("SELECT outcome FROM outbox_deliveries WHERE handler = 'dispatch_email'")
    assert [row.outcome for row in deliveries] == ["done"]
    assert len(await kit.sql("SELECT 1 FROM email_log WHERE handler = 'dispatch_email'")) == 1


async def test_a_member_without_an_email_address_is_skipped_and_logged(
    hall: HallKit, kit: Kit, mail_sink: MailSink
) -> None:
    await dispatched(hall)
    await kit.sql("UPDATE members SET email = NULL")
    await relay(kit).deliver_batch()

    assert mail_sink.received() == []
    [log] = await kit.sql("SELECT * FROM email_log WHERE handler = 'dispatch_email'")
    assert (log.status, log.error) == ("skipped", "member M00001 has no email address")
    assert log.subject == "Dispatch REQ20261203-0001: Bright Electric, start 2026-12-07 07:00"
    [delivery] = await kit.sql("SELECT outcome, note FROM outbox_deliveries WHERE handler = 'dispatch_email'")
    assert (delivery.outcome, delivery.note) == ("skipped", "member M00001 has no email address")


async def test_a_dispatch_ended_before_its_email_went_is_not_mailed(
    hall: HallKit, kit: Kit, mail_sink: MailSink
) -> None:
    dispatch = await dispatched(hall)
    await hall.dispatching(
        "terminate", dispatch.id, reason=TermReason.QUIT, end_date=None, days_worked=None, note="changed my mind",
        member_id=None, now=NOW,
    )  # fmt: skip
    await relay(kit).deliver_batch()

    assert mail_sink.received() == []
    [log] = await kit.sql("SELECT status, error FROM email_log WHERE handler = 'dispatch_email'")
    assert (log.status, log.error) == ("skipped", "the dispatch ended (terminated) before it was mailed")
