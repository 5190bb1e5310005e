"""The dispatch email: where and when the member reports, sent when a dispatch is created (rule 10).

An outbox handler: it reads the dispatch, its labor request, employer and member fresh (the event only names
them) and sends through :meth:`app.notify.delivery.Notifier.send_once` (the injected notifier), so an event
delivered twice mails once. Times are the hall's wall times: a request's start time is stored as one, and an
internet dispatch's check-in deadline (an instant) is shown in ``tenants.timezone``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.core.errors import found
from app.hall.clock import HallClock
from app.hall.events import DISPATCH_CREATED, DispatchCreated
from app.hall.models import Dispatch, DispatchStatus
from app.notify.delivery import EmailJob, Notifier, skip_email
from app.notify.templates import brand_of, render
from app.outbox import handler
from app.outbox.registry import Event, Skipped
from app.tenants.models import Tenant

__all__ = ["DispatchLines", "dispatch_email", "lines_of"]

DISPATCH_EMAIL = "dispatch_email"


@dataclass(frozen=True, slots=True)
class DispatchLines:
    """A dispatch as the email shows it: dates ``YYYY-MM-DD`` and times ``HH:MM``, all the hall's."""

    member_name: str
    member_number: str
    employer: str
    request_number: str
    worksite_name: str | None
    worksite_address: str | None
    report_to: str | None
    start_date: str
    start_time: str
    check_in_time: str | None
    """When an internet dispatch must check in by (rule 10), on ``check_in_date``; none for other methods."""
    check_in_date: str | None
    reference: str


def lines_of(dispatch: Dispatch, timezone: str) -> DispatchLines:
    """``dispatch`` with its request, employer and member loaded, its deadline read in the hall's ``timezone``."""
    request = dispatch.labor_request
    deadline = _local(dispatch.check_in_deadline, timezone)
    return DispatchLines(
        member_name=dispatch.member.first_name,
        member_number=dispatch.member.member_number,
        employer=dispatch.employer.name,
        request_number=request.request_number,
        worksite_name=request.worksite_name,
        worksite_address=request.worksite_address,
        report_to=request.report_to,
        start_date=dispatch.start_date.isoformat(),
        start_time=f"{request.start_time:%H:%M}",
        check_in_time=f"{deadline:%H:%M}" if deadline is not None else None,
        check_in_date=deadline.date().isoformat() if deadline is not None else None,
        reference=str(dispatch.id),
    )


def _local(instant: datetime | None, timezone: str) -> datetime | None:
    return instant.astimezone(HallClock(timezone).zone) if instant is not None else None


@handler(DISPATCH_CREATED, name=DISPATCH_EMAIL)
async def dispatch_email(event: Event[DispatchCreated], session: AsyncSession, notifier: Notifier) -> Skipped | None:
    """Mail the dispatched member the employer, the worksite, whom to report to and when; skip (with the reason)
    when the dispatch is gone or already ended (a rejected bid, a quit before the mail went) or the member has
    no email address."""
    payload = event.payload
    job = EmailJob(event.id, DISPATCH_EMAIL, payload.tenant_id, "dispatch", recipient="")
    dispatch = await session.scalar(
        select(Dispatch)
        .where(Dispatch.id == payload.dispatch_id, Dispatch.tenant_id == payload.tenant_id)
        .options(joinedload(Dispatch.labor_request), joinedload(Dispatch.employer), joinedload(Dispatch.member))
    )
    if dispatch is None:
        return await skip_email(session, job, "Dispatch", "the dispatch no longer exists")
    tenant = found(await session.get(Tenant, payload.tenant_id), "tenant")
    lines = lines_of(dispatch, tenant.timezone)
    subject = f"Dispatch {lines.request_number}: {lines.employer}, start {lines.start_date} {lines.start_time}"
    if dispatch.status in (DispatchStatus.TERMINATED, DispatchStatus.NO_SHOW):
        return await skip_email(
            session, job, subject, f"the dispatch ended ({dispatch.status.value}) before it was mailed"
        )
    email = dispatch.member.email
    if not email or "@" not in email:
        return await skip_email(session, job, subject, f"member {lines.member_number} has no email address")
    rendered = await render("dispatch", subject=subject, brand=brand_of(tenant), dispatch=lines)
    return await notifier.send_once(session, replace(job, recipient=email), rendered)
