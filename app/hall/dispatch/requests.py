"""Rule 7 as service methods: an employer's labor request, its number, its derived flags, its life.

A request is numbered ``REQyyyymmdd-NNNN`` by the hall's day it was received and that day's count, per
hall. Numbers of one day are taken one at a time (a transaction-scoped advisory lock on the hall and day),
and the unique constraint backs that up. What the request's values imply is derived here and nowhere else
(:func:`derive`): whether it is a short call, whether it gives check marks and why not, and its online
bidding window. Only open requests are editable; open and partially filled ones may be cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError, found
from app.hall.clock import HallClock
from app.hall.events import LABOR_REQUEST_CREATED, LaborRequestCreated
from app.hall.models import (
    BidStatus,
    Employer,
    JobBid,
    LaborRequest,
    LaborRequestStatus,
    NoCheckMarkReason,
    ReferralBook,
)
from app.hall.registrations.rules import Actor
from app.outbox import emit

__all__ = [
    "BIDDING_CLOSES",
    "BIDDING_OPENS",
    "EARLY_START",
    "FILLABLE",
    "MAX_DAILY_REQUESTS",
    "SHORT_CALL_DAYS",
    "Derived",
    "LaborRequestRules",
    "appended",
    "derive",
    "expire_pending_bids",
]

SHORT_CALL_DAYS = 10
"""Rule 7: a request of at most this many working days is a short call."""
EARLY_START = time(6, 0)
"""Rule 5: a request starting before this gives no check marks."""
BIDDING_OPENS = time(17, 30)
"""Rule 8: online bids open at this time on the day before the start date..."""
BIDDING_CLOSES = time(7, 0)
"""... and close at this time on the start date (the hall's wall times)."""
MAX_DAILY_REQUESTS = 9999
FILLABLE = (LaborRequestStatus.OPEN, LaborRequestStatus.PARTIALLY_FILLED)
AGGREGATE = "labor_request"
EDITABLE = frozenset(
    {
        "workers_requested", "start_date", "start_time", "estimated_duration_days", "is_specialty", "is_mou_jobsite",
        "is_under_scale", "allows_online_bidding", "worksite_name", "worksite_address", "report_to", "wage_rate",
        "contract_code", "notes",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Derived:
    """What a request's values imply (rules 5, 7 and 8)."""

    is_short_call: bool
    generates_check_mark: bool
    no_check_mark_reason: NoCheckMarkReason | None
    bidding_opens_at: datetime | None
    bidding_closes_at: datetime | None


def derive(request: LaborRequest, clock: HallClock) -> Derived:
    """Rule 7's short call (at most 10 working days), rule 5's check marks (none for a short call, a start
    before 06:00, a specialty, MOU-jobsite or under-scale request; the first of these that applies is the
    stored reason) and rule 8's window (17:30 the day before the start date to 07:00 on it)."""
    short_call = request.estimated_duration_days <= SHORT_CALL_DAYS
    reasons = (
        (short_call, NoCheckMarkReason.SHORT_CALL),
        (request.start_time < EARLY_START, NoCheckMarkReason.EARLY_START),
        (request.is_specialty, NoCheckMarkReason.SPECIALTY),
        (request.is_mou_jobsite, NoCheckMarkReason.MOU_JOBSITE),
        (request.is_under_scale, NoCheckMarkReason.UNDER_SCALE),
    )
    reason = next((why for applies, why in reasons if applies), None)
    bidding = request.allows_online_bidding
    return Derived(
        is_short_call=short_call,
        generates_check_mark=reason is None,
        no_check_mark_reason=reason,
        bidding_opens_at=clock.at(request.start_date - timedelta(days=1), BIDDING_OPENS) if bidding else None,
        bidding_closes_at=clock.at(request.start_date, BIDDING_CLOSES) if bidding else None,
    )


class LaborRequestRules:
    """Rule 7 over one session (one transaction per method)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, actor: Actor, values: dict[str, Any], *, now: datetime) -> LaborRequest:
        """A new open request, numbered by the hall's day of receipt; ``labor_request.created`` with it."""
        clock = HallClock(actor.timezone)
        employer = await self.session.get(Employer, values["employer_id"])
        if employer is None or employer.tenant_id != actor.tenant_id:
            raise ResourceNotFoundError(f"no employer {values['employer_id']}")
        book = await self.session.get(ReferralBook, values["book_id"])
        if book is None or book.tenant_id != actor.tenant_id:
            raise ResourceNotFoundError(f"no book {values['book_id']}")
        if not book.is_active:
            raise StateConflictError(f"rule 7: book {book.code} is closed")
        request = LaborRequest(
            tenant_id=actor.tenant_id,
            received_at=now,
            workers_dispatched=0,
            status=LaborRequestStatus.OPEN,
            created_by=actor.sub,
            updated_by=actor.sub,
            is_specialty=False,
            is_mou_jobsite=False,
            is_under_scale=False,
            allows_online_bidding=False,
        )
        for name, value in values.items():
            setattr(request, name, value)
        if request.contract_code is None:
            request.contract_code = book.contract_code
        self._settle(request, book, clock)
        request.request_number = await self._number(actor, clock.day_of(now))
        self.session.add(request)
        await self.session.flush()
        emit(
            self.session,
            aggregate_type=AGGREGATE,
            aggregate_id=request.id,
            event_type=LABOR_REQUEST_CREATED,
            payload=LaborRequestCreated(
                labor_request_id=request.id,
                tenant_id=actor.tenant_id,
                request_number=request.request_number,
                employer_id=request.employer_id,
                book_id=request.book_id,
                workers_requested=request.workers_requested,
                start_date=request.start_date,
                start_time=request.start_time,
                is_short_call=request.is_short_call,
                generates_check_mark=request.generates_check_mark,
                allows_online_bidding=request.allows_online_bidding,
            ),
            tenant_id=actor.tenant_id,
        )
        await self.session.commit()
        return request

    async def edit(self, actor: Actor, request_id: UUID, changes: dict[str, Any], *, now: datetime) -> LaborRequest:
        """Rule 7: only an open request is editable; what its values imply is derived again."""
        request = await self.locked(actor, request_id)
        if request.status != LaborRequestStatus.OPEN:
            raise StateConflictError(
                f"rule 7: only open requests are editable; {request.request_number} is {request.status.value}"
            )
        unknown = set(changes) - EDITABLE
        if unknown:  # pragma: no cover  (the body's schema admits only these)
            raise RuleViolationError(f"rule 7: {', '.join(sorted(unknown))} cannot be changed")
        for name, value in changes.items():
            setattr(request, name, value)
        book = found(await self.session.get(ReferralBook, request.book_id), "book")
        self._settle(request, book, HallClock(actor.timezone))
        request.updated_by = actor.sub
        request.updated_at = now
        await self.session.commit()
        return request

    async def cancel(self, actor: Actor, request_id: UUID, *, reason: str, now: datetime) -> LaborRequest:
        """Rule 7: staff cancel an open or partially filled request; its pending bids expire. Dispatches
        already made stand."""
        request = await self.locked(actor, request_id)
        if request.status not in FILLABLE:
            raise StateConflictError(
                f"rule 7: only open or partially filled requests are cancelled; {request.request_number} is "
                f"{request.status.value}"
            )
        request.status = LaborRequestStatus.CANCELLED
        request.notes = appended(request.notes, f"cancelled by {actor.sub}: {reason}")
        request.updated_by = actor.sub
        request.updated_at = now
        await expire_pending_bids(self.session, [request.id], actor.sub, "the request was cancelled")
        await self.session.commit()
        return request

    async def locked(self, actor: Actor, request_id: UUID) -> LaborRequest:
        request = await self.session.scalar(
            select(LaborRequest)
            .where(LaborRequest.id == request_id, LaborRequest.tenant_id == actor.tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if request is None:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        return request

    def _settle(self, request: LaborRequest, book: ReferralBook, clock: HallClock) -> None:
        """Check the values against rules 7 and 8 and set what they imply."""
        counts_from = clock.counts_from(request.received_at)
        if request.start_date < counts_from:
            raise RuleViolationError(
                f"rule 7: a request received {_received(clock, request.received_at)} counts from "
                f"{counts_from.isoformat()}; it cannot start on {request.start_date.isoformat()}"
            )
        if request.workers_requested < request.workers_dispatched:  # pragma: no cover  (only open ones change)
            raise RuleViolationError("rule 7: fewer workers than already dispatched")
        if request.allows_online_bidding and not book.internet_bidding_enabled:
            raise RuleViolationError(f"rule 8: book {book.code} does not take online bids")
        if isinstance(request.wage_rate, str):
            request.wage_rate = Decimal(request.wage_rate)
        derived = derive(request, clock)
        request.is_short_call = derived.is_short_call
        request.generates_check_mark = derived.generates_check_mark
        request.no_check_mark_reason = derived.no_check_mark_reason
        request.bidding_opens_at = derived.bidding_opens_at
        request.bidding_closes_at = derived.bidding_closes_at

    async def _number(self, actor: Actor, day: date) -> str:
        """The next ``REQyyyymmdd-NNNN`` of the hall's ``day``: the day's numbers are taken one transaction at
        a time (an advisory lock on the hall and day, held to the commit)."""
        prefix = f"REQ{day:%Y%m%d}-"
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"labor_request_number:{actor.tenant_id}:{prefix}"},
        )
        last = await self.session.scalar(
            select(func.max(LaborRequest.request_number)).where(
                LaborRequest.tenant_id == actor.tenant_id, LaborRequest.request_number.startswith(prefix)
            )
        )
        count = int(last[len(prefix) :]) + 1 if last else 1
        if count > MAX_DAILY_REQUESTS:
            raise StateConflictError(f"rule 7: {MAX_DAILY_REQUESTS} requests were received on {day.isoformat()}")
        return f"{prefix}{count:04d}"


async def expire_pending_bids(session: AsyncSession, request_ids: list[UUID], actor: str, why: str) -> int:
    """Pending bids on ``request_ids`` expire (their request closed); how many."""
    if not request_ids:
        return 0
    result = await session.execute(
        update(JobBid)
        .where(JobBid.labor_request_id.in_(request_ids), JobBid.status == BidStatus.PENDING)
        .values(status=BidStatus.EXPIRED, rejection_reason=why, updated_by=actor, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _received(clock: HallClock, received_at: datetime) -> str:
    local = received_at.astimezone(clock.zone)
    return f"{local:%Y-%m-%d} at {local:%H:%M}"


def appended(notes: str | None, line: str) -> str:
    return f"{notes}\n{line}" if notes else line
