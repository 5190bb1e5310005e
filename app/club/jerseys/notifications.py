"""Jersey order emails: the confirmation of a submitted order, and news when it is paid and when it is fulfilled.

Outbox handlers: they read the order fresh (the event only names it) and send through
:meth:`app.notify.delivery.Notifier.send_once` (the injected notifier), so an event delivered twice mails once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.club.jerseys.events import (
    JERSEY_ORDER_STATUS_CHANGED,
    JERSEY_ORDER_SUBMITTED,
    OrderStatusChanged,
    OrderSubmitted,
)
from app.club.jerseys.models import JerseyOrder, OrderStatus
from app.notify.delivery import EmailJob, Notifier, skip_email
from app.notify.templates import brand_of, render
from app.outbox import handler
from app.outbox.registry import Event, Skipped
from app.tenants.models import Tenant

__all__ = ["jersey_order_confirmation", "jersey_order_news"]

CONFIRMATION = "jersey_order_confirmation"
NEWS = "jersey_order_news"
SIZES = {"YS": "Youth S", "YM": "Youth M", "YL": "Youth L", "YXL": "Youth XL", "AS": "Adult S", "AM": "Adult M",
         "AL": "Adult L", "AXL": "Adult XL", "A2XL": "Adult 2XL"}  # fmt: skip
NEWS_BY_STATUS = {
    OrderStatus.PAID: (
        "Payment received for {player}'s jersey",
        "We have received the payment for this jersey order:",
        "We will let you know when the jersey is ready.",
    ),
    OrderStatus.FULFILLED: (
        "{player}'s jersey is ready",
        "This jersey order is fulfilled: the jersey is ready.",
        "Your coach or the club office will hand it over.",
    ),
}
"""The statuses that mail the submitter: (subject, intro, outro)."""


@dataclass(frozen=True, slots=True)
class OrderLines:
    """An order as the email shows it."""

    player_name: str
    size: str
    number: str
    program: str
    tier: str
    notes: str | None
    status: str
    reference: str


def lines_of(order: JerseyOrder) -> OrderLines:
    return OrderLines(
        player_name=order.player_name,
        size=SIZES.get(order.size.value, order.size.value),
        number=str(order.jersey_number) if order.jersey_number is not None else "none",
        program=order.kq.value.capitalize(),
        tier=order.tier.value.capitalize(),
        notes=order.notes,
        status=order.status.value,
        reference=str(order.id),
    )


@handler(JERSEY_ORDER_SUBMITTED, name=CONFIRMATION)
async def jersey_order_confirmation(
    event: Event[OrderSubmitted], session: AsyncSession, notifier: Notifier
) -> Skipped | None:
    """Confirm the order to the address it was submitted with."""
    return await _mail_about_order(
        notifier,
        session,
        EmailJob(event.id, CONFIRMATION, event.payload.tenant_id, "jersey_order", recipient=""),
        event.payload.order_id,
        subject="Your jersey order for {player}",
        intro="Thank you for your jersey order. Here is what we received:",
        outro="The club will check the order and email you again when it is paid and when the jersey is ready.",
    )


@handler(JERSEY_ORDER_STATUS_CHANGED, name=NEWS)
async def jersey_order_news(
    event: Event[OrderStatusChanged], session: AsyncSession, notifier: Notifier
) -> Skipped | None:
    """Mail the submitter when their order is paid and when it is fulfilled; other moves mail nobody."""
    payload = event.payload
    news = NEWS_BY_STATUS.get(payload.status)
    if news is None:
        return Skipped(f"no email when an order becomes {payload.status.value}")
    subject, intro, outro = news
    return await _mail_about_order(
        notifier,
        session,
        EmailJob(event.id, NEWS, payload.tenant_id, "jersey_order_status", recipient=""),
        payload.order_id,
        subject=subject,
        intro=intro,
        outro=outro,
        status=payload.status,  # the move this email is about, even if the order moved on since
    )


async def _mail_about_order(
    notifier: Notifier,
    session: AsyncSession,
    job: EmailJob,
    order_id: UUID,
    *,
    subject: str,
    intro: str,
    outro: str,
    status: OrderStatus | None = None,
) -> Skipped | None:
    """Read the order fresh and mail its submitter once (per the email log); skip if it is gone."""
    order = await session.get(JerseyOrder, order_id)
    brand = brand_of(await session.get(Tenant, job.tenant_id))
    if order is None or order.tenant_id != job.tenant_id:
        return await skip_email(session, job, "Jersey order", "the order no longer exists")
    lines = lines_of(order)
    rendered = await render(
        "jersey_order",
        subject=f"{subject.format(player=order.player_name)}, {brand.name}",
        brand=brand,
        order=replace(lines, status=status.value) if status is not None else lines,
        intro=intro,
        outro=outro,
    )
    return await notifier.send_once(session, replace(job, recipient=order.email), rendered)
