"""Rules 8 to 11 as service methods: bids, dispatches, check-in, bid rejection and termination.

Every method is one transaction. A change that can move a place on a book's list first locks the book
(:func:`~app.hall.registrations.rules.lock_books`), then the request, then the rows it changes: two
dispatchers filling requests from one book take turns, so nobody is dispatched twice and every place the
trace records is exact. Each change writes its ``registration_activities`` row and its events (rule 12) in
its transaction. Refusals name their rule: 409 when the state forbids the change, 422 when the rule refuses
a well-formed request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import engine_of, native_connection
from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError, found
from app.hall.clock import HallClock, working_days_between
from app.hall.dispatch.requests import FILLABLE, LaborRequestRules
from app.hall.dispatch.schemas import BidRead, DispatchRead
from app.hall.events import (
    BID_ACCEPTED,
    DISPATCH_CREATED,
    DISPATCH_TERMINATED,
    DispatchCreated,
    DispatchTerminated,
)
from app.hall.models import (
    ActivityAction,
    BiddingSuspension,
    BidStatus,
    BookRegistration,
    Dispatch,
    DispatchMethod,
    DispatchStatus,
    DispatchType,
    JobBid,
    LaborRequest,
    LaborRequestStatus,
    Member,
    MemberStatus,
    ReferralBook,
    RegistrationActivity,
    RegistrationStatus,
    RollOffReason,
    TermReason,
)
from app.hall.registrations.rules import Actor, RegistrationRules, lock_books, position_of
from app.outbox import emit
from app.outbox.emit import event_insert_sql, nudge_for

__all__ = [
    "BY_NAME_BLOCK_DAYS",
    "COUNTED_STINT_DAYS",
    "MAX_RESTORATIONS",
    "BidsOutcome",
    "DispatchRules",
    "SkipOutcome",
    "year_before",
]

BY_NAME_BLOCK_DAYS = 14
"""Rule 11: after a quit or a firing, no by-name request from that employer for this many days."""
MAX_RESTORATIONS = 2
"""Rule 11: at most this many short-call restorations per registration..."""
COUNTED_STINT_DAYS = 3
"""... and a stint of this many days worked or fewer does not count."""
SUSPENSION_REJECTIONS = 2
"""Rule 9: the rejection that makes this many within 12 months starts a one-year bidding suspension."""
CANDIDATES = 64
"""Registrants read per step of a morning referral's walk down the list."""
WORKING = (DispatchStatus.DISPATCHED, DispatchStatus.CHECKED_IN, DispatchStatus.WORKING)
"""A dispatch not yet ended."""
QUITS = {TermReason.QUIT: RollOffReason.QUIT, TermReason.FIRED: RollOffReason.DISCHARGED}
"""Rule 11: the endings that roll the member off every book, and the roll-off reason each gives."""
DISPATCH_AGGREGATE = "dispatch"
BID_AGGREGATE = "bid"


@dataclass(frozen=True, slots=True)
class SkipOutcome:
    registration: BookRegistration
    position: int
    check_mark: bool


@dataclass(slots=True)
class BidsOutcome:
    """What processing a request's bids did: the bids accepted (each with its dispatch) and rejected, in queue
    order, and the request's count and status after."""

    labor_request_id: UUID
    workers_dispatched: int
    status: LaborRequestStatus
    accepted: list[BidRead] = field(default_factory=list)
    rejected: list[BidRead] = field(default_factory=list)


def year_before(day: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


class DispatchRules:
    """Rules 8 to 11 over one session (one transaction per method)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.registrations = RegistrationRules(session)

    # -- rule 10: dispatch ------------------------------------------------------------------------------

    async def morning_referral(
        self, actor: Actor, request_id: UUID, *, expected: UUID | None, now: datetime
    ) -> DispatchRead:
        """Rule 10: the first eligible registrant of the book's out-of-work list (the dispatch as the API reads it).

        Walking the list from the top, a registrant is passed over only for a recorded reason: a skip recorded
        for this request (:meth:`skip`), or a member who is not active (suspended, …), which the walk records
        as a skip itself. Nobody is passed over silently. ``expected``: the registrant the dispatcher's screen
        shows as next; if the list has moved on, 409 and nothing changes.

        One statement, committed on its own, does the change: the database's ``hall_morning_referral``
        (migration 0012) locks the book and the request, walks the list and writes the dispatch, the statuses,
        the count and the trace; the statement adds ``dispatch.created``. The book's lock is held for the
        database's time only, so dispatches from one book take turns quickly."""
        dispatch_id = uuid4()
        async with native_connection(engine_of(self.session)) as connection:
            row = await connection.fetchrow(_MORNING_REFERRAL, request_id, actor.tenant_id, dispatch_id, now,
                                            actor.sub, expected, actor.timezone)  # fmt: skip
        if row is None:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        if row["outcome"] == "not_yet":
            raise RuleViolationError(
                f"rule 7: {row['request_number']} was received after 15:00; it is filled from "
                f"{row['counts_from'].isoformat()}"
            )
        if row["outcome"] == "not_fillable":
            raise StateConflictError(
                f"rule 10: {row['request_number']} is {row['request_status']}; only open or partially filled "
                "requests are filled"
            )
        if row["outcome"] == "nobody":
            raise StateConflictError(
                f"rule 10: nobody on book {row['book_code']}'s out-of-work list can be sent to {row['request_number']}"
            )
        if row["outcome"] == "moved":
            raise StateConflictError(
                f"rule 10: the next eligible registrant on book {row['book_code']} is at position {row['position']}, "
                "not the registration expected; reload the list"
            )
        nudge_for(self.session)  # the statement committed its event
        return DispatchRead(
            id=dispatch_id,
            labor_request_id=request_id,
            member_id=row["member_id"],
            registration_id=row["registration_id"],
            bid_id=None,
            employer_id=row["employer_id"],
            dispatched_at=now,
            method=DispatchMethod.MORNING_REFERRAL,
            type=DispatchType(row["dispatch_type"]),
            status=DispatchStatus.DISPATCHED,
            reason=None,
            check_in_deadline=None,
            checked_in_at=None,
            start_date=row["start_date"],
            end_date=None,
            term_reason=None,
            days_worked=None,
        )

    async def skip(
        self, actor: Actor, request_id: UUID, registration_id: UUID, *, reason: str, now: datetime
    ) -> SkipOutcome:
        """Rule 10: pass a registrant over for this request, with the reason (e.g. "declined by phone"). It
        gives rule 4's check mark when the request gives them (rule 5) and the registrant has none today."""
        request, book = await self._request_and_book(actor, request_id)
        self._check_fillable(request)
        registration = await self._registration_on(actor, request, book, registration_id)
        already = await self.session.scalar(
            select(RegistrationActivity.id).where(
                RegistrationActivity.registration_id == registration.id,
                RegistrationActivity.labor_request_id == request.id,
                RegistrationActivity.action == ActivityAction.REFERRAL_SKIPPED,
            )
        )
        if already is not None:
            raise StateConflictError(f"rule 10: the registrant was already passed over for {request.request_number}")
        position = found(await position_of(self.session, registration), "place on the list")
        self.registrations.trace(
            actor,
            registration,
            ActivityAction.REFERRAL_SKIPPED,
            previous_status=registration.status,
            previous_position=position,
            new_position=position,
            reason=reason,
            labor_request_id=request.id,
            now=now,
        )
        today = HallClock(actor.timezone).day_of(now)
        marked = request.generates_check_mark and registration.last_check_mark_on != today
        if marked:
            await self.registrations.check_mark_step(
                actor,
                registration,
                book,
                reason=f"passed over for {request.request_number}: {reason}",
                labor_request_id=request.id,
                today=today,
                now=now,
            )
        await self.session.commit()
        return SkipOutcome(registration, position, marked)

    async def named(
        self,
        actor: Actor,
        request_id: UUID,
        registration_id: UUID,
        *,
        method: DispatchMethod,
        reason: str,
        now: datetime,
    ) -> Dispatch:
        """Rule 10: a by-name or emergency dispatch of a registrant of the book, outside the queue's order, with
        the reason. By name, not a member who quit or was fired by that employer in the last 14 days (rule 11)."""
        request, book = await self._request_and_book(actor, request_id)
        self._check_fillable(request)
        registration = await self._registration_on(actor, request, book, registration_id)
        member = found(await self.session.get(Member, registration.member_id), "member")
        if member.status != MemberStatus.ACTIVE:
            raise StateConflictError(f"rule 10: member {member.member_number} is {member.status.value}, not active")
        if method is DispatchMethod.BY_NAME:
            clock = HallClock(actor.timezone)
            until = await self._blocked_until(registration.member_id, request.employer_id, clock.day_of(now))
            if until is not None:
                raise RuleViolationError(
                    f"rule 11: member {member.member_number} quit or was fired by this employer; no by-name request "
                    f"from it until {until.isoformat()}"
                )
        position = await position_of(self.session, registration)
        dispatch = await self._dispatch(
            actor, request, registration, method=method, position=position, reason=reason, now=now
        )
        await self.session.commit()
        return dispatch

    async def _blocked_until(self, member_id: UUID, employer_id: UUID, today: date) -> date | None:
        """Rule 11: the first day a by-name request from the employer may name the member again, if later than
        today: 14 days after the last day of a job there they quit, were fired from, or did not show up for."""
        rejected_bid = exists().where(JobBid.id == Dispatch.bid_id, JobBid.rejected_by_member)
        last: date | None = await self.session.scalar(
            select(func.max(Dispatch.end_date)).where(
                Dispatch.member_id == member_id,
                Dispatch.employer_id == employer_id,
                or_(Dispatch.term_reason.in_(tuple(QUITS)), Dispatch.status == DispatchStatus.NO_SHOW),
                ~rejected_bid,  # rule 9 deals with a rejected bid
            )
        )
        if last is None:
            return None
        until = last + timedelta(days=BY_NAME_BLOCK_DAYS)
        return until if today < until else None

    async def _dispatch(
        self,
        actor: Actor,
        request: LaborRequest,
        registration: BookRegistration,
        *,
        method: DispatchMethod,
        position: int | None,
        reason: str,
        now: datetime,
    ) -> Dispatch:
        """Rule 10's change for a by-name or emergency dispatch, in the caller's transaction: the database's
        ``hall_dispatch_write`` (migration 0012, the one write every kind of dispatch shares: the dispatch, the
        registration ``dispatched``, the trace row, the request's count and status), then ``dispatch.created``."""
        dispatch_id = uuid4()
        await self.session.execute(
            select(
                func.hall_dispatch_write(
                    actor.tenant_id, request.id, registration.book_id, dispatch_id, registration.id,
                    registration.member_id, None, method.value, reason, None, position, actor.sub, now,
                ).table_valued("request_status")
            )
        )  # fmt: skip
        dispatch = found(await self.session.get(Dispatch, dispatch_id), f"dispatch {dispatch_id}")
        emit(
            self.session,
            aggregate_type=DISPATCH_AGGREGATE,
            aggregate_id=dispatch.id,
            event_type=DISPATCH_CREATED,
            payload=DispatchCreated(
                dispatch_id=dispatch.id,
                tenant_id=actor.tenant_id,
                labor_request_id=request.id,
                member_id=registration.member_id,
                registration_id=registration.id,
                employer_id=dispatch.employer_id,
                method=method,
                type=dispatch.type,
                start_date=dispatch.start_date,
                check_in_deadline=None,
                position=position,
            ),
            tenant_id=actor.tenant_id,
        )
        return dispatch

    # -- rule 10: check-in ------------------------------------------------------------------------------

    async def check_in(
        self, actor: Actor, dispatch_id: UUID, *, member_id: UUID | None, note: str | None, now: datetime
    ) -> Dispatch:
        """Rule 10: the member reports; an internet dispatch must by 15:00 on the start date (a member may check
        in only their own)."""
        dispatch = await self._dispatch_row(actor, dispatch_id, member_id, lock=True)
        if dispatch.status != DispatchStatus.DISPATCHED:
            raise StateConflictError(f"rule 10: the dispatch is {dispatch.status.value}, not awaiting check-in")
        if dispatch.check_in_deadline is not None and now > dispatch.check_in_deadline:
            local = dispatch.check_in_deadline.astimezone(HallClock(actor.timezone).zone)
            raise StateConflictError(
                f"rule 10: check-in closed at {local:%H:%M} on {dispatch.start_date.isoformat()} (a no-show)"
            )
        dispatch.status = DispatchStatus.CHECKED_IN
        dispatch.checked_in_at = now
        dispatch.updated_by = actor.sub
        if note:
            dispatch.reason = f"{dispatch.reason}\ncheck-in: {note}" if dispatch.reason else f"check-in: {note}"
        await self.session.commit()
        return dispatch

    # -- rule 11: termination ---------------------------------------------------------------------------

    async def terminate(
        self,
        actor: Actor,
        dispatch_id: UUID,
        *,
        reason: TermReason,
        end_date: date | None,
        days_worked: int | None,
        note: str | None,
        member_id: UUID | None,
        now: datetime,
    ) -> Dispatch:
        """Rule 11: the job ends. ``quit``/``fired`` roll the member off every book (and block by-name requests
        from the employer for 14 days); ``short_call_end`` restores the registration with its APN (at most twice;
        stints of 3 days or fewer do not count); any other reason closes the registration."""
        reason = TermReason(reason)
        dispatch = await self._dispatch_row(actor, dispatch_id, member_id, lock=False)
        books = [await self._book_of(dispatch.registration_id)]
        if reason in QUITS:
            books += await self._active_books(dispatch.member_id)
        await lock_books(self.session, books)
        dispatch = await self._dispatch_row(actor, dispatch_id, member_id, lock=True)
        if dispatch.status not in WORKING:
            raise StateConflictError(f"rule 11: the dispatch is already {dispatch.status.value}")
        clock = HallClock(actor.timezone)
        today = clock.day_of(now)
        started = today >= dispatch.start_date
        # A job that ends before its first day (the member quits beforehand) ends on its start date, unworked.
        last_day = end_date or max(today, dispatch.start_date)
        if last_day < dispatch.start_date:
            raise RuleViolationError(
                f"rule 11: a dispatch ends on or after its start date ({dispatch.start_date.isoformat()})"
            )
        if last_day > max(today, dispatch.start_date):
            raise RuleViolationError(f"rule 11: the end date {last_day.isoformat()} is after today")
        if reason is TermReason.SHORT_CALL_END and dispatch.type != DispatchType.SHORT_CALL:
            raise RuleViolationError(
                f"rule 11: short_call_end ends a short call; this dispatch is {dispatch.type.value}"
            )
        if days_worked is not None:
            worked = days_worked
        else:
            worked = working_days_between(dispatch.start_date, last_day) if started else 0
        request = found(await self.session.get(LaborRequest, dispatch.labor_request_id), "labor request")
        registration = await self._registration_row(dispatch.registration_id)
        dispatch.status = DispatchStatus.TERMINATED
        dispatch.term_reason = reason
        dispatch.end_date = last_day
        dispatch.days_worked = worked
        dispatch.updated_by = actor.sub
        what = f"{reason.value} from {request.request_number} after {worked} days" + (f": {note}" if note else "")
        if reason in QUITS:
            await self.roll_off_everywhere(actor, dispatch, registration, QUITS[reason], what, now=now)
        elif reason is TermReason.SHORT_CALL_END:
            await self._after_short_call(actor, dispatch, registration, what, now=now)
        else:
            await self._close(actor, dispatch, registration, what, now=now)
        self._terminated_event(actor, dispatch, no_show=False)
        await self.session.commit()
        return dispatch

    async def roll_off_everywhere(
        self,
        actor: Actor,
        dispatch: Dispatch,
        registration: BookRegistration,
        why: RollOffReason,
        note: str,
        *,
        now: datetime,
    ) -> None:
        """Rule 11 (and a no-show, rule 10): the dispatched registration and the member's registrations on every
        other book roll off (their books are locked by the caller)."""
        links = {"labor_request_id": dispatch.labor_request_id, "dispatch_id": dispatch.id}
        await self.registrations.roll_off_step(actor, registration, why, note, now=now, **links)
        others = await self.session.scalars(
            select(BookRegistration)
            .where(
                BookRegistration.member_id == dispatch.member_id,
                BookRegistration.id != registration.id,
                BookRegistration.status.in_((RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT)),
            )
            .order_by(BookRegistration.book_id)
            .with_for_update()
        )
        for other in list(others):
            await self.registrations.roll_off_step(actor, other, why, note, now=now, **links)

    async def _after_short_call(
        self, actor: Actor, dispatch: Dispatch, registration: BookRegistration, what: str, *, now: datetime
    ) -> None:
        counted = (dispatch.days_worked or 0) > COUNTED_STINT_DAYS
        if counted and registration.short_call_restorations >= MAX_RESTORATIONS:
            await self._close(
                actor,
                dispatch,
                registration,
                f"{what}; the registration has had its {MAX_RESTORATIONS} short-call restorations",
                now=now,
            )
            return
        book = found(await self.session.get(ReferralBook, registration.book_id), "book")
        if counted:
            registration.short_call_restorations += 1
            tally = f"restoration {registration.short_call_restorations} of {MAX_RESTORATIONS}"
        else:
            tally = f"a stint of {COUNTED_STINT_DAYS} days or fewer does not count"
        registration.status = RegistrationStatus.REGISTERED
        registration.updated_by = actor.sub
        registration.re_sign_deadline = max(
            registration.re_sign_deadline, HallClock(actor.timezone).days_later(now, book.re_sign_days)
        )
        await self.session.flush()
        self.registrations.trace(
            actor,
            registration,
            ActivityAction.RESTORED,
            previous_status=RegistrationStatus.DISPATCHED,
            previous_position=None,
            new_position=await position_of(self.session, registration),
            reason=f"{what}; back with APN {registration.applicant_priority_number} ({tally})",
            labor_request_id=dispatch.labor_request_id,
            dispatch_id=dispatch.id,
            now=now,
        )

    async def _close(
        self, actor: Actor, dispatch: Dispatch, registration: BookRegistration, what: str, *, now: datetime
    ) -> None:
        """Rule 11: the registration ends with the job; the member re-registers for a new APN."""
        registration.status = RegistrationStatus.RESIGNED
        registration.updated_by = actor.sub
        self.registrations.trace(
            actor,
            registration,
            ActivityAction.CLOSED,
            previous_status=RegistrationStatus.DISPATCHED,
            previous_position=None,
            new_position=None,
            reason=f"{what}; re-register for a new APN",
            labor_request_id=dispatch.labor_request_id,
            dispatch_id=dispatch.id,
            now=now,
        )

    def _terminated_event(self, actor: Actor, dispatch: Dispatch, *, no_show: bool) -> None:
        emit(
            self.session,
            aggregate_type=DISPATCH_AGGREGATE,
            aggregate_id=dispatch.id,
            event_type=DISPATCH_TERMINATED,
            payload=DispatchTerminated(
                dispatch_id=dispatch.id,
                tenant_id=actor.tenant_id,
                labor_request_id=dispatch.labor_request_id,
                member_id=dispatch.member_id,
                registration_id=dispatch.registration_id,
                employer_id=dispatch.employer_id,
                reason=dispatch.term_reason,
                no_show=no_show,
                days_worked=dispatch.days_worked,
            ),
            tenant_id=actor.tenant_id,
        )

    async def no_show(self, actor: Actor, dispatch_id: UUID, *, now: datetime) -> bool:
        """Rule 10: an internet dispatch not checked in by its deadline is a no-show, treated as a quit: the member
        rolls off every book (``quit``) and by-name requests from the employer are blocked for 14 days. The
        request's place opens again. False if the dispatch is no longer due (checked in since, or done)."""
        dispatch = await self._dispatch_row(actor, dispatch_id, None, lock=False)
        await lock_books(
            self.session, [await self._book_of(dispatch.registration_id), *await self._active_books(dispatch.member_id)]
        )
        dispatch = await self._dispatch_row(actor, dispatch_id, None, lock=True)
        if dispatch.status != DispatchStatus.DISPATCHED or dispatch.check_in_deadline is None:
            return False
        if dispatch.check_in_deadline >= now:
            return False
        request = await LaborRequestRules(self.session).locked(actor, dispatch.labor_request_id)
        registration = await self._registration_row(dispatch.registration_id)
        dispatch.status = DispatchStatus.NO_SHOW
        dispatch.end_date = dispatch.start_date
        dispatch.days_worked = 0
        dispatch.updated_by = actor.sub
        _count(request, -1, actor)
        local = dispatch.check_in_deadline.astimezone(HallClock(actor.timezone).zone)
        note = f"no-show for {request.request_number}: not checked in by {local:%H:%M} on {dispatch.start_date}"
        await self.roll_off_everywhere(actor, dispatch, registration, RollOffReason.QUIT, note, now=now)
        self._terminated_event(actor, dispatch, no_show=True)
        return True

    # -- rule 8: bids ----------------------------------------------------------------------------------

    async def bid(self, actor: Actor, request_id: UUID, member_id: UUID, *, now: datetime) -> JobBid:
        """Rule 8: a member's online bid, inside the window, on an open request that takes them, from a member
        registered (not exempt) on its book, one at a time, never while suspended."""
        request = await self.session.scalar(
            select(LaborRequest)
            .where(LaborRequest.id == request_id, LaborRequest.tenant_id == actor.tenant_id)
            .with_for_update(read=True)  # FOR SHARE: bids wait while the request's bids are processed
        )
        if request is None:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        clock = HallClock(actor.timezone)
        if not request.allows_online_bidding or request.bidding_opens_at is None or request.bidding_closes_at is None:
            raise RuleViolationError(f"rule 8: {request.request_number} takes no online bids")
        if request.status not in FILLABLE:
            raise StateConflictError(f"rule 8: {request.request_number} is {request.status.value}")
        if now < request.bidding_opens_at:
            raise RuleViolationError(
                f"rule 8: bidding on {request.request_number} opens at {_wall(clock, request.bidding_opens_at)}"
            )
        if now >= request.bidding_closes_at:
            raise RuleViolationError(
                f"rule 8: bidding on {request.request_number} closed at {_wall(clock, request.bidding_closes_at)}"
            )
        member = found(await self.session.get(Member, member_id), "member")
        if member.status != MemberStatus.ACTIVE:
            raise RuleViolationError(f"rule 8: member {member.member_number} is {member.status.value}")
        book = found(await self.session.get(ReferralBook, request.book_id), "book")
        registration = await self.session.scalar(
            select(BookRegistration).where(
                BookRegistration.member_id == member_id,
                BookRegistration.book_id == request.book_id,
                BookRegistration.status.in_(
                    (RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT, RegistrationStatus.DISPATCHED)
                ),
            )
        )
        if registration is None or registration.status != RegistrationStatus.REGISTERED:
            held = f" (the registration is {registration.status.value})" if registration is not None else ""
            raise RuleViolationError(f"rule 8: only members registered on book {book.code} may bid{held}")
        today = clock.day_of(now)
        suspended = await self._suspended_until(member_id, today)
        if suspended is not None:
            raise RuleViolationError(f"rule 8: bidding is suspended until {suspended.isoformat()} (rule 9)")
        bid = JobBid(
            tenant_id=actor.tenant_id,
            labor_request_id=request.id,
            member_id=member_id,
            registration_id=registration.id,
            submitted_at=now,
            queue_position_at_bid=await position_of(self.session, registration),
            status=BidStatus.PENDING,
            created_by=actor.sub,
            updated_by=actor.sub,
        )
        number = request.request_number  # the rollback below expires the request's attributes
        self.session.add(bid)
        try:
            await self.session.flush()
        except IntegrityError as error:
            await self.session.rollback()
            if "uq_job_bids_active" in str(error.orig):
                raise StateConflictError(
                    f"rule 8: one active bid per member per request; you already bid on {number}"
                ) from None
            raise
        await self.session.commit()
        return bid

    async def withdraw(self, actor: Actor, request_id: UUID, member_id: UUID, *, now: datetime) -> JobBid:
        """Rule 8: a member takes back their pending bid (an accepted one is rejected instead, rule 9)."""
        bid = await self.session.scalar(
            select(JobBid)
            .where(
                JobBid.labor_request_id == request_id,
                JobBid.tenant_id == actor.tenant_id,
                JobBid.member_id == member_id,
                JobBid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED)),
            )
            .with_for_update()
        )
        if bid is None:
            raise ResourceNotFoundError(f"no active bid of yours on labor request {request_id}")
        if bid.status == BidStatus.ACCEPTED:
            raise StateConflictError("rule 9: the bid was accepted and dispatched; reject the job instead")
        bid.status = BidStatus.WITHDRAWN
        bid.updated_by = actor.sub
        bid.updated_at = now
        await self.session.commit()
        return bid

    async def process_bids(self, actor: Actor, request_id: UUID, *, reason: str | None, now: datetime) -> BidsOutcome:
        """Rule 8: accept the pending bids in queue order (APN) up to the open places, each becoming a dispatch;
        reject the rest (all of them when other dispatches have filled the request meanwhile). Before bidding
        closes (07:00 on the start date) only with a reason, and bidding closes then. Run twice at once, the
        second finds nothing pending: each place is filled once.

        One statement, committed on its own: the database's ``hall_process_bids`` (migration 0012) locks the
        book and the request and does it all, bid by bid, with the dispatches, the statuses and the trace; the
        statement adds ``bid.accepted`` and ``dispatch.created`` for each accepted bid."""
        async with native_connection(engine_of(self.session)) as connection:
            rows = await connection.fetch(_PROCESS_BIDS, request_id, actor.tenant_id, now, actor.sub, reason,
                                          actor.timezone)  # fmt: skip
        if not rows:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        first = rows[0]
        if first["outcome"] == "no_bidding":
            raise RuleViolationError(f"rule 8: {first['request_number']} takes no online bids")
        if first["outcome"] == "too_early":
            raise StateConflictError(
                f"rule 8: bidding on {first['request_number']} closes at "
                f"{_wall(HallClock(actor.timezone), first['closes_at'])}; to process the bids earlier give a reason "
                "(bidding then closes)"
            )
        last = rows[-1]  # "done": the request as processing left it (or "none": as it was)
        outcome = BidsOutcome(request_id, last["workers_dispatched"], LaborRequestStatus(last["request_status"]))
        for row in rows:
            if row["outcome"] not in ("accepted", "rejected"):
                continue
            bid = BidRead(
                id=row["bid_id"],
                labor_request_id=request_id,
                member_id=row["member_id"],
                registration_id=row["registration_id"],
                submitted_at=row["submitted_at"],
                queue_position_at_bid=row["queue_position_at_bid"],
                status=BidStatus.ACCEPTED if row["outcome"] == "accepted" else BidStatus.REJECTED,
                dispatch_id=row["dispatch_id"],
                rejected_by_member=False,
                rejection_reason=row["rejection_reason"],
            )
            (outcome.accepted if row["outcome"] == "accepted" else outcome.rejected).append(bid)
        if outcome.accepted:
            nudge_for(self.session)  # the statement committed its events
        return outcome

    # -- rule 9: rejection after acceptance -------------------------------------------------------------

    async def reject_bid(
        self, actor: Actor, bid_id: UUID, *, reason: str, member_id: UUID | None, now: datetime
    ) -> JobBid:
        """Rule 9: the member turns down the job their accepted bid won: rolled off that book
        (``bid_reject_quit``), the dispatch ends and its place opens again. The second such rejection within
        12 months starts a one-year bidding suspension."""
        owner = (
            await self.session.execute(
                select(JobBid.member_id, LaborRequest.book_id, JobBid.labor_request_id)
                .join(LaborRequest, LaborRequest.id == JobBid.labor_request_id)
                .where(JobBid.id == bid_id, JobBid.tenant_id == actor.tenant_id)
            )
        ).one_or_none()
        if owner is None or (member_id is not None and owner.member_id != member_id):
            raise ResourceNotFoundError(f"no bid {bid_id}")
        await lock_books(self.session, [owner.book_id])
        request = await LaborRequestRules(self.session).locked(actor, owner.labor_request_id)
        bid = found(
            await self.session.scalar(
                select(JobBid).where(JobBid.id == bid_id).with_for_update().execution_options(populate_existing=True)
            ),
            f"bid {bid_id}",
        )
        if bid.status != BidStatus.ACCEPTED or bid.dispatch_id is None:
            hint = " (withdraw a pending bid)" if bid.status == BidStatus.PENDING else ""
            raise StateConflictError(f"rule 9: only an accepted bid is rejected; this one is {bid.status.value}{hint}")
        dispatch = await self._dispatch_row(actor, bid.dispatch_id, None, lock=True)
        if dispatch.status not in (DispatchStatus.DISPATCHED, DispatchStatus.CHECKED_IN):
            raise StateConflictError(
                f"rule 9: the dispatch is {dispatch.status.value}; a job under way ends by termination (rule 11)"
            )
        clock = HallClock(actor.timezone)
        today = clock.day_of(now)
        bid.status = BidStatus.REJECTED
        bid.rejected_by_member = True
        bid.rejection_reason = reason
        bid.updated_by = actor.sub
        dispatch.status = DispatchStatus.TERMINATED
        dispatch.term_reason = TermReason.QUIT
        dispatch.end_date = max(dispatch.start_date, today)
        dispatch.days_worked = 0
        dispatch.updated_by = actor.sub
        _count(request, -1, actor)
        registration = await self._registration_row(dispatch.registration_id)
        await self.registrations.roll_off_step(
            actor,
            registration,
            RollOffReason.BID_REJECT_QUIT,
            f"rejected {request.request_number} after the bid was accepted: {reason}",
            now=now,
            labor_request_id=request.id,
            dispatch_id=dispatch.id,
        )
        self._terminated_event(actor, dispatch, no_show=False)
        await self.session.flush()
        since = clock.start_of(year_before(today))
        rejections = await self.session.scalar(
            select(func.count()).where(
                RegistrationActivity.member_id == bid.member_id,
                RegistrationActivity.action == ActivityAction.ROLLED_OFF,
                RegistrationActivity.reason.startswith(f"{RollOffReason.BID_REJECT_QUIT.value}:"),
                RegistrationActivity.at >= since,
            )
        )
        if (rejections or 0) >= SUSPENSION_REJECTIONS and await self._suspended_until(bid.member_id, today) is None:
            self.session.add(
                BiddingSuspension(
                    tenant_id=actor.tenant_id,
                    member_id=bid.member_id,
                    starts_on=today,
                    ends_on=year_after(today) - timedelta(days=1),
                    reason=f"rule 9: rejection {rejections} within 12 months ({request.request_number})",
                    created_by=actor.sub,
                    updated_by=actor.sub,
                )
            )
        await self.session.commit()
        return bid

    async def _suspended_until(self, member_id: UUID, today: date) -> date | None:
        """The last day of the member's bidding suspension covering ``today``, if any."""
        return await self.session.scalar(
            select(func.max(BiddingSuspension.ends_on)).where(
                BiddingSuspension.member_id == member_id,
                BiddingSuspension.starts_on <= today,
                BiddingSuspension.ends_on >= today,
            )
        )

    # -- shared steps ------------------------------------------------------------------------------------

    async def _request_and_book(self, actor: Actor, request_id: UUID) -> tuple[LaborRequest, ReferralBook]:
        """The request's book locked (the order: books, then the request, then rows), then the request."""
        book_id = await self.session.scalar(
            select(LaborRequest.book_id).where(LaborRequest.id == request_id, LaborRequest.tenant_id == actor.tenant_id)
        )
        if book_id is None:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        book = (await lock_books(self.session, [book_id]))[book_id]
        return await LaborRequestRules(self.session).locked(actor, request_id), book

    @staticmethod
    def _check_fillable(request: LaborRequest) -> None:
        if request.status not in FILLABLE:
            raise StateConflictError(
                f"rule 10: {request.request_number} is {request.status.value}; only open or partially filled "
                "requests are filled"
            )

    async def _registration_on(
        self, actor: Actor, request: LaborRequest, book: ReferralBook, registration_id: UUID
    ) -> BookRegistration:
        registration = await self.session.scalar(
            select(BookRegistration)
            .where(BookRegistration.id == registration_id, BookRegistration.tenant_id == actor.tenant_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if registration is None:
            raise ResourceNotFoundError(f"no registration {registration_id}")
        if registration.book_id != request.book_id:
            raise RuleViolationError(f"rule 10: the registration is not on book {book.code}, the request's book")
        if registration.status != RegistrationStatus.REGISTERED:
            raise StateConflictError(
                f"rule 10: the registration is {registration.status.value}, not on the out-of-work list"
            )
        return registration

    async def _registration_row(self, registration_id: UUID) -> BookRegistration:
        registration = await self.session.scalar(
            select(BookRegistration)
            .where(BookRegistration.id == registration_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return found(registration, f"registration {registration_id}")

    async def _dispatch_row(self, actor: Actor, dispatch_id: UUID, member_id: UUID | None, *, lock: bool) -> Dispatch:
        statement = select(Dispatch).where(Dispatch.id == dispatch_id, Dispatch.tenant_id == actor.tenant_id)
        if lock:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        dispatch = await self.session.scalar(statement)
        if dispatch is None or (member_id is not None and dispatch.member_id != member_id):
            raise ResourceNotFoundError(f"no dispatch {dispatch_id}")
        return dispatch

    async def _book_of(self, registration_id: UUID) -> UUID:
        book_id = await self.session.scalar(
            select(BookRegistration.book_id).where(BookRegistration.id == registration_id)
        )
        return found(book_id, f"registration {registration_id}")

    async def _active_books(self, member_id: UUID) -> list[UUID]:
        rows = await self.session.scalars(
            select(BookRegistration.book_id).where(
                BookRegistration.member_id == member_id,
                BookRegistration.status.in_((RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT)),
            )
        )
        return list(rows)


_CREATED_EVENT = event_insert_sql(
    source="sent AS d",
    aggregate_type=DISPATCH_AGGREGATE,
    aggregate_id="d.dispatch_id",
    event_type=DISPATCH_CREATED,
    payload={
        "dispatch_id": "d.dispatch_id",
        "tenant_id": "d.tenant_id",
        "labor_request_id": "d.labor_request_id",
        "member_id": "d.member_id",
        "registration_id": "d.registration_id",
        "employer_id": "d.employer_id",
        "method": "'morning_referral'",
        "type": "d.dispatch_type",
        "start_date": "d.start_date",
        "check_in_deadline": "NULL",
        "position": "d.position",
    },
    tenant_id="d.tenant_id",
)
_MORNING_REFERRAL = f"""
    WITH done AS MATERIALIZED (
        SELECT * FROM hall_morning_referral($1, $2, $3, $4, $5, $6, $7)
    ), sent AS (
        SELECT $3::uuid AS dispatch_id, $2::uuid AS tenant_id, $1::uuid AS labor_request_id, d.*
        FROM done AS d WHERE d.outcome = 'dispatched'
    ), event AS (
        {_CREATED_EVENT}
    )
    SELECT * FROM done
"""  # noqa: S608  (built from constants)
"""Rule 10's morning referral in one statement (asyncpg's ``$n``: request, tenant, the new dispatch's id, now,
the actor, the registration expected or null, the hall's zone): ``hall_morning_referral`` (migration 0012) and, when it
dispatched, ``dispatch.created``."""


_BID_EVENT = event_insert_sql(
    source="accepted AS d",
    aggregate_type=BID_AGGREGATE,
    aggregate_id="d.bid_id",
    event_type=BID_ACCEPTED,
    payload={
        "bid_id": "d.bid_id",
        "tenant_id": "d.tenant_id",
        "labor_request_id": "d.labor_request_id",
        "member_id": "d.member_id",
        "registration_id": "d.registration_id",
        "dispatch_id": "d.dispatch_id",
        "queue_position_at_bid": "d.queue_position_at_bid",
    },
    tenant_id="d.tenant_id",
)
_BID_DISPATCH_EVENT = event_insert_sql(
    source="accepted AS d",
    aggregate_type=DISPATCH_AGGREGATE,
    aggregate_id="d.dispatch_id",
    event_type=DISPATCH_CREATED,
    payload={
        "dispatch_id": "d.dispatch_id",
        "tenant_id": "d.tenant_id",
        "labor_request_id": "d.labor_request_id",
        "member_id": "d.member_id",
        "registration_id": "d.registration_id",
        "employer_id": "d.employer_id",
        "method": "'internet_bid'",
        "type": "d.dispatch_type",
        "start_date": "d.start_date",
        "check_in_deadline": "to_char(d.check_in_deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        "position": "d.position",
    },
    tenant_id="d.tenant_id",
)
_PROCESS_BIDS = f"""
    WITH done AS MATERIALIZED (
        SELECT * FROM hall_process_bids($1, $2, $3, $4, $5, $6)
    ), accepted AS (
        SELECT $2::uuid AS tenant_id, $1::uuid AS labor_request_id, d.*
        FROM done AS d WHERE d.outcome = 'accepted'
    ), bid_event AS (
        {_BID_EVENT}
    ), dispatch_event AS (
        {_BID_DISPATCH_EVENT}
    )
    SELECT * FROM done
"""  # noqa: S608  (built from constants)
"""Rule 8's processing in one statement (asyncpg's ``$n``: request, tenant, now, the actor, the reason to close
bidding early or null, the hall's zone): ``hall_process_bids`` (migration 0012) and, for each accepted bid,
``bid.accepted`` and ``dispatch.created``."""


def _count(request: LaborRequest, change: int, actor: Actor) -> None:
    """Rule 7: the request's dispatched count moves and its status follows (a cancelled or expired request
    keeps its status)."""
    request.workers_dispatched += change
    request.updated_by = actor.sub
    if request.status in (LaborRequestStatus.CANCELLED, LaborRequestStatus.EXPIRED):
        return
    if request.workers_dispatched >= request.workers_requested:
        request.status = LaborRequestStatus.FILLED
    elif request.workers_dispatched > 0:
        request.status = LaborRequestStatus.PARTIALLY_FILLED
    else:
        request.status = LaborRequestStatus.OPEN


def _wall(clock: HallClock, instant: datetime) -> str:
    local = instant.astimezone(clock.zone)
    return f"{local:%H:%M} on {local:%Y-%m-%d}"
