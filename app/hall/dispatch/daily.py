"""The dispatch side of the hall's daily run (rules 7 and 10), in each hall's own timezone.

Run every quarter of an hour with the registrations' steps (:func:`app.hall.registrations.daily.run_daily`):
an open or partially filled request whose start date has passed expires (its pending bids with it, as do bids
left pending on a request filled without them), and an
internet dispatch not checked in by 15:00 on its start date becomes a no-show, treated as a quit. Running it
again changes nothing; several workers may run it at once (rows are claimed with ``SKIP LOCKED``, and a
no-show is decided again under its locks).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.dispatch.requests import FILLABLE, expire_pending_bids
from app.hall.dispatch.rules import DispatchRules
from app.hall.models import BidStatus, Dispatch, DispatchStatus, JobBid, LaborRequest, LaborRequestStatus
from app.hall.registrations.rules import Actor

__all__ = ["BATCH", "expire_requests", "mark_no_shows"]

BATCH = 200


async def expire_requests(session_maker: Callable[[], AsyncSession], actor: Actor, today: date) -> int:
    """Rule 7: requests still open or partially filled after their start date expire; so do their pending bids."""
    total = 0
    while True:
        async with session_maker() as session:
            due = list(
                await session.scalars(
                    select(LaborRequest)
                    .where(
                        LaborRequest.tenant_id == actor.tenant_id,
                        LaborRequest.status.in_(FILLABLE),
                        LaborRequest.start_date < today,
                    )
                    .order_by(LaborRequest.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for request in due:
                request.status = LaborRequestStatus.EXPIRED
                request.updated_by = actor.sub
            await expire_pending_bids(session, [request.id for request in due], actor.sub, "the request expired")
            await session.commit()
        total += len(due)
        if len(due) < BATCH:
            break
    # Bids left pending on a request that was filled without them (and never processed) expire with its day.
    async with session_maker() as session:
        past = select(LaborRequest.id).where(LaborRequest.tenant_id == actor.tenant_id, LaborRequest.start_date < today)
        stranded = list(
            await session.scalars(
                select(JobBid.labor_request_id)
                .where(JobBid.status == BidStatus.PENDING, JobBid.labor_request_id.in_(past))
                .distinct()
            )
        )
        await expire_pending_bids(session, stranded, actor.sub, "the request's start date has passed")
        await session.commit()
    return total


async def mark_no_shows(session_maker: Callable[[], AsyncSession], actor: Actor, now: datetime) -> int:
    """Rule 10: every internet dispatch past its check-in deadline without a check-in, one transaction each."""
    async with session_maker() as session:
        due: list[UUID] = list(
            await session.scalars(
                select(Dispatch.id)
                .where(
                    Dispatch.tenant_id == actor.tenant_id,
                    Dispatch.status == DispatchStatus.DISPATCHED,
                    Dispatch.check_in_deadline < now,
                )
                .order_by(Dispatch.check_in_deadline, Dispatch.id)
            )
        )
    marked = 0
    for dispatch_id in due:
        async with session_maker() as session:
            if await DispatchRules(session).no_show(actor, dispatch_id, now=now):
                await session.commit()
                marked += 1
    return marked
