"""Rules 1 to 6 of docs/hall.md as service methods: one method per rule, each change traced (rule 12).

Every change of a registration writes its ``registration_activities`` row (previous and new status and
position, the reason, who did it) and, where the rule has one, its outbox event, in the caller's
transaction; the method commits once. A refusal names its rule: ``StateConflictError`` (409) when the
registration's state forbids the change, ``RuleViolationError`` (422) when the rule refuses a well-formed
request. ``now`` is given by the caller (the API's clock, or a test's) so a rule's times are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import engine_of, native_connection
from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError
from app.hall.clock import HallClock, excel_serial
from app.hall.events import (
    AGGREGATE,
    REGISTRATION_CREATED,
    REGISTRATION_ROLLED_OFF,
    RegistrationCreated,
    RegistrationRolledOff,
    emit_about,
)
from app.hall.models import (
    ActivityAction,
    BookRegistration,
    ExemptReason,
    LaborRequest,
    Member,
    MemberStatus,
    ReferralBook,
    RegistrationActivity,
    RegistrationStatus,
    RollOffReason,
)
from app.outbox.emit import event_insert_sql, nudge_for

__all__ = [
    "LONG_EXEMPTIONS",
    "MAX_DAILY_REGISTRATIONS",
    "MAX_LONG_EXEMPTION_DAYS",
    "Actor",
    "Placed",
    "RegistrationRules",
    "apn_for",
    "lock_books",
    "position_of",
    "positions_of",
]

MAX_DAILY_REGISTRATIONS = 99
"""k runs 1..99: a 100th registration on one book and day would take the next day's number (rule 1)."""
LONG_EXEMPTIONS = frozenset({ExemptReason.TRAVELING, ExemptReason.UNDER_SCALE})
MAX_LONG_EXEMPTION_DAYS = 180
"""Rule 6: traveling and under-scale exemptions last at most this many days unless an admin extends them."""
CENT = Decimal("0.01")
ACTIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.DISPATCHED, RegistrationStatus.EXEMPT)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: their ``sub`` (the trace's ``performed_by``), whether an admin, and the tenant's zone."""

    sub: str
    tenant_id: UUID
    timezone: str
    is_admin: bool = False


def apn_for(day: date, k: int) -> Decimal:
    """Rule 1: the spreadsheet serial of the hall's ``day`` plus k/100 (2012-02-27, k=1 → 40966.01)."""
    return (Decimal(excel_serial(day)) + Decimal(k) / 100).quantize(CENT)


async def position_of(session: AsyncSession, registration: BookRegistration) -> int | None:
    """Rule 2: the 1-based place on the book's out-of-work list; none unless ``registered`` (not exempt or
    dispatched). Ties on the APN go by ``registered_at``, then ``id``. The database's ``queue_position``
    (migration 0011) counts the registrants of the APN spans before the registration's span
    (``book_queue_spans``), then those of its span ahead of it."""
    if registration.status != RegistrationStatus.REGISTERED:
        return None
    place = await session.scalar(
        select(
            func.queue_position(
                registration.book_id,
                registration.applicant_priority_number,
                registration.registered_at,
                registration.id,
            )
        )
    )
    return int(place or 0)


async def positions_of(session: AsyncSession, registrations: Sequence[BookRegistration]) -> dict[UUID, int]:
    """:func:`position_of` of many registrations in one statement (those not ``registered`` are left out)."""
    waiting = [item.id for item in registrations if item.status == RegistrationStatus.REGISTERED]
    if not waiting:
        return {}
    place = func.queue_position(
        BookRegistration.book_id,
        BookRegistration.applicant_priority_number,
        BookRegistration.registered_at,
        BookRegistration.id,
    )
    rows = await session.execute(select(BookRegistration.id, place).where(BookRegistration.id.in_(waiting)))
    return {registration_id: int(position) for registration_id, position in rows}


class RegistrationRules:
    """The rules of a hall's registrations, over one session (one transaction per method)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- rule 1: registration and its APN ----------------------------------------------------------------

    async def register(self, actor: Actor, book_id: UUID, member_id: UUID, *, now: datetime) -> Placed:
        """Rule 1: put an active member on an active book with APN = serial(today) + k/100.

        k is the order of the day's registrations on the book. One statement, committed on its own, does it
        all: the database's ``hall_register`` (migration 0011) locks the book's row, then reads what the rule
        checks, k and the place, each after the lock, and writes the registration if the checks pass; the
        statement adds its trace and its event. Concurrent registrations on a book wait for each other only
        while that statement runs, and never share a number; a 100th on one day is refused (409).
        """
        registration_id = uuid4()
        async with native_connection(engine_of(self.session)) as connection:
            try:
                row = await connection.fetchrow(
                    _REGISTER, registration_id, actor.tenant_id, book_id, member_id, now, actor.timezone, actor.sub
                )
            except asyncpg.UniqueViolationError as error:  # only if a write went round the book's lock
                if error.constraint_name == "uq_book_registrations_active":
                    raise StateConflictError(
                        "rule 1: the member already has an active registration on the book"
                    ) from None
                raise
        if row is None:
            raise ResourceNotFoundError(f"no book {book_id}")
        if row["member_number"] is None:
            raise ResourceNotFoundError(f"no member {member_id}")
        _check_registrable(
            row["book_code"], row["book_active"], row["member_number"], row["member_status"], row["taken"]
        )
        if row["applicant_priority_number"] is None:
            day = HallClock(actor.timezone).day_of(now)
            raise StateConflictError(
                f"rule 1: book {row['book_code']} has taken {MAX_DAILY_REGISTRATIONS} registrations on "
                f"{day.isoformat()}; a 100th would share the next day's priority number"
            )
        nudge_for(self.session)  # the statement committed its event
        registration = BookRegistration(
            id=registration_id,
            tenant_id=actor.tenant_id,
            member_id=member_id,
            book_id=book_id,
            applicant_priority_number=row["applicant_priority_number"],
            registered_at=now,
            status=RegistrationStatus.REGISTERED,
            last_re_sign_at=None,
            re_sign_deadline=row["re_sign_deadline"],
            check_marks=0,
            last_check_mark_on=None,
            short_call_restorations=0,
            created_at=now,
            updated_at=now,
            created_by=actor.sub,
            updated_by=actor.sub,
        )
        return Placed(registration, row["position"])

    async def import_registration(
        self,
        actor: Actor,
        book_id: UUID,
        member_id: UUID,
        *,
        apn: Decimal,
        registered_at: datetime | None,
        last_re_sign_at: datetime | None,
        now: datetime,
    ) -> BookRegistration:
        """Rule 1: a registration carried over from another list keeps the APN it had there (APNs need not be
        unique). Its re-sign period runs from its last re-sign (or from now, if it has none)."""
        clock = HallClock(actor.timezone)
        book = await self._book_to_register_on(actor, book_id, member_id)
        started = last_re_sign_at or now
        return await self._add(
            actor,
            book,
            member_id,
            apn=apn,
            registered_at=registered_at or now,
            deadline=clock.days_later(started, book.re_sign_days),
            last_re_sign_at=last_re_sign_at,
            action=ActivityAction.IMPORTED,
            now=now,
        )

    async def _book_to_register_on(self, actor: Actor, book_id: UUID, member_id: UUID) -> ReferralBook:
        """The book, locked against other registrations until the commit, after the checks of rule 1."""
        member = await self.session.get(Member, member_id)
        if member is None or member.tenant_id != actor.tenant_id:
            raise ResourceNotFoundError(f"no member {member_id}")
        book = await self.session.scalar(
            select(ReferralBook)
            .where(ReferralBook.id == book_id, ReferralBook.tenant_id == actor.tenant_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE: registrations wait, foreign keys do not
        )
        if book is None:
            raise ResourceNotFoundError(f"no book {book_id}")
        taken = await self.session.scalar(
            select(BookRegistration.id).where(
                BookRegistration.member_id == member_id,
                BookRegistration.book_id == book_id,
                BookRegistration.status.in_(ACTIVE),
            )
        )
        _check_registrable(book.code, book.is_active, member.member_number, member.status, taken is not None)
        return book

    async def _add(
        self,
        actor: Actor,
        book: ReferralBook,
        member_id: UUID,
        *,
        apn: Decimal,
        registered_at: datetime,
        deadline: datetime,
        last_re_sign_at: datetime | None,
        action: ActivityAction,
        now: datetime,
    ) -> BookRegistration:
        registration = BookRegistration(
            tenant_id=actor.tenant_id,
            member_id=member_id,
            book_id=book.id,
            applicant_priority_number=apn,
            registered_at=registered_at,
            status=RegistrationStatus.REGISTERED,
            last_re_sign_at=last_re_sign_at,
            re_sign_deadline=deadline,
            created_by=actor.sub,
            updated_by=actor.sub,
        )
        self.session.add(registration)
        try:
            await self.session.flush()
        except IntegrityError as error:  # a concurrent registration of the same member on the same book won
            await self.session.rollback()
            if "uq_book_registrations_active" in str(error.orig):
                raise StateConflictError(
                    f"rule 1: the member already has an active registration on book {book.code}"
                ) from None
            raise
        position = await position_of(self.session, registration)
        self.trace(
            actor, registration, action, previous_status=None, previous_position=None, new_position=position, now=now
        )
        emit_about(
            self.session,
            registration,
            REGISTRATION_CREATED,
            RegistrationCreated,
            applicant_priority_number=apn,
            registered_at=registered_at,
            position=position,
            imported=action is ActivityAction.IMPORTED,
        )
        await self.session.commit()
        return registration

    # -- rule 3: re-sign ---------------------------------------------------------------------------------

    async def re_sign(self, actor: Actor, registration_id: UUID, *, now: datetime) -> BookRegistration:
        """Rule 3: the registrant is still available; the deadline moves to now + the book's re-sign days, the
        APN stays. Refused after the deadline plus the book's grace days (the daily run rolls it off)."""
        registration, book = await self._locked(actor, registration_id)
        if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT):
            raise StateConflictError(
                f"rule 3: a {registration.status.value} registration is not re-signed"
                + (" (the dispatch ends first)" if registration.status == RegistrationStatus.DISPATCHED else "")
            )
        clock = HallClock(actor.timezone)
        if clock.day_of(now) > grace_ends(clock, registration.re_sign_deadline, book.grace_period_days):
            raise StateConflictError(
                f"rule 3: the re-sign deadline {clock.day_of(registration.re_sign_deadline).isoformat()} and its "
                f"{book.grace_period_days} days' grace have passed"
            )
        position = await position_of(self.session, registration)
        registration.last_re_sign_at = now
        registration.re_sign_deadline = clock.days_later(now, book.re_sign_days)
        registration.updated_by = actor.sub
        self.trace(
            actor,
            registration,
            ActivityAction.RE_SIGNED,
            previous_status=registration.status,
            previous_position=position,
            new_position=position,
            now=now,
        )
        await self.session.commit()
        return registration

    # -- rule 4 (and 5): check marks ---------------------------------------------------------------------

    async def add_check_mark(
        self,
        actor: Actor,
        registration_id: UUID,
        *,
        reason: str,
        labor_request_id: UUID | None,
        now: datetime,
    ) -> BookRegistration:
        """Rule 4: a missed call. One per registration per day, none for exempt registrants, none for a request
        that gives none (rule 5); the mark after the book's ``max_check_marks`` rolls the registration off."""
        registration, book = await self._locked(actor, registration_id)
        if registration.status == RegistrationStatus.EXEMPT:
            raise RuleViolationError("rule 4: an exempt registrant gets no check marks")
        if registration.status != RegistrationStatus.REGISTERED:
            raise StateConflictError(f"rule 4: a {registration.status.value} registration gets no check marks")
        if labor_request_id is not None:
            request = await self.session.get(LaborRequest, labor_request_id)
            if request is None or request.tenant_id != actor.tenant_id:
                raise ResourceNotFoundError(f"no labor request {labor_request_id}")
            if not request.generates_check_mark:
                why = request.no_check_mark_reason.value if request.no_check_mark_reason else "no check marks"
                raise RuleViolationError(
                    f"rule 5: labor request {request.request_number} gives no check mark ({why.replace('_', ' ')})"
                )
        today = HallClock(actor.timezone).day_of(now)
        if registration.last_check_mark_on == today:
            raise StateConflictError(f"rule 4: the registration already has a check mark on {today.isoformat()}")
        await self.check_mark_step(
            actor, registration, book, reason=reason, labor_request_id=labor_request_id, today=today, now=now
        )
        await self.session.commit()
        return registration

    async def check_mark_step(
        self,
        actor: Actor,
        registration: BookRegistration,
        book: ReferralBook,
        *,
        reason: str,
        labor_request_id: UUID | None,
        today: date,
        now: datetime,
    ) -> None:
        """Rule 4's mark on a registered registrant not yet marked ``today``, and the roll-off it may bring (the
        caller has checked both; not committed)."""
        position = await position_of(self.session, registration)
        registration.check_marks += 1
        registration.last_check_mark_on = today
        registration.updated_by = actor.sub
        self.trace(
            actor,
            registration,
            ActivityAction.CHECK_MARK,
            previous_status=registration.status,
            previous_position=position,
            new_position=position,
            reason=f"check mark {registration.check_marks}: {reason}",
            labor_request_id=labor_request_id,
            now=now,
        )
        if registration.check_marks > book.max_check_marks:
            await self.roll_off_step(
                actor,
                registration,
                RollOffReason.CHECK_MARKS,
                f"check mark {registration.check_marks} of at most {book.max_check_marks}",
                now=now,
            )

    async def restore_check_mark(
        self, actor: Actor, registration_id: UUID, mark: int, *, reason: str, now: datetime
    ) -> BookRegistration:
        """Rule 4: a dispatcher takes a mark back, with the reason. A registration the marks rolled off returns
        to the book with its APN once it is back within the book's limit (unless the member re-registered)."""
        registration, book = await self._locked(actor, registration_id)
        if not 1 <= mark <= registration.check_marks:
            raise StateConflictError(
                f"rule 4: the registration has {registration.check_marks} check marks, not a mark {mark}"
            )
        rolled_off_by_marks = (
            registration.status == RegistrationStatus.ROLLED_OFF
            and registration.roll_off_reason == RollOffReason.CHECK_MARKS
        )
        if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT) and not (
            rolled_off_by_marks
        ):
            raise StateConflictError(f"rule 4: the marks of a {registration.status.value} registration stay")
        previous_status = registration.status
        previous_position = await position_of(self.session, registration)
        registration.check_marks -= 1
        registration.updated_by = actor.sub
        if rolled_off_by_marks and registration.check_marks <= book.max_check_marks:
            await self._ensure_not_re_registered(registration, book)
            registration.status = RegistrationStatus.REGISTERED
            registration.roll_off_at = None
            registration.roll_off_reason = None
        await self.session.flush()
        self.trace(
            actor,
            registration,
            ActivityAction.CHECK_MARK_RESTORED,
            previous_status=previous_status,
            previous_position=previous_position,
            new_position=await position_of(self.session, registration),
            reason=f"check mark {mark} restored: {reason}",
            now=now,
        )
        await self.session.commit()
        return registration

    # -- rule 6: exemptions ------------------------------------------------------------------------------

    async def exempt(
        self,
        actor: Actor,
        registration_id: UUID,
        *,
        reason: ExemptReason,
        start: date | None,
        end: date,
        note: str | None,
        now: datetime,
    ) -> BookRegistration:
        """Rule 6: out of the queue, and out of re-sign and check-mark enforcement, from ``start`` through
        ``end`` (the hall's days). Traveling and under-scale exemptions last at most 180 days, except by an
        admin. An exemption starting later is recorded now and begins on its day (the daily run)."""
        reason = ExemptReason(reason)
        registration, _ = await self._locked(actor, registration_id)
        if registration.status == RegistrationStatus.EXEMPT:
            raise StateConflictError(
                f"rule 6: the registration is already exempt until {registration.exempt_end}; extend that exemption"
            )
        if registration.status != RegistrationStatus.REGISTERED:
            raise StateConflictError(f"rule 6: a {registration.status.value} registration cannot be exempted")
        if registration.exempt_start is not None:
            raise StateConflictError(f"rule 6: an exemption from {registration.exempt_start} is already planned")
        today = HallClock(actor.timezone).day_of(now)
        first = start or today
        if first < today:
            raise RuleViolationError(f"rule 6: an exemption cannot start before today ({today.isoformat()})")
        if end < first:
            raise RuleViolationError("rule 6: an exemption ends on or after the day it starts")
        self._check_length(actor, reason, first, end)
        previous_position = await position_of(self.session, registration)
        registration.exempt_reason = reason
        registration.exempt_start = first
        registration.exempt_end = end
        registration.updated_by = actor.sub
        if first == today:
            registration.status = RegistrationStatus.EXEMPT
        self.trace(
            actor,
            registration,
            ActivityAction.EXEMPTED,
            previous_status=RegistrationStatus.REGISTERED,
            previous_position=previous_position,
            new_position=await position_of(self.session, registration),
            reason=_exemption_text(reason, first, end, note),
            now=now,
        )
        await self.session.commit()
        return registration

    async def extend_exemption(
        self, actor: Actor, registration_id: UUID, *, end: date, note: str, now: datetime
    ) -> BookRegistration:
        """Rule 6: move the end of a current or planned exemption; past 180 days for traveling and under-scale
        exemptions only an admin may."""
        registration, _ = await self._locked(actor, registration_id)
        if registration.exempt_reason is None or registration.exempt_start is None:
            raise StateConflictError("rule 6: the registration has no exemption to extend")
        if end < max(registration.exempt_start, HallClock(actor.timezone).day_of(now)):
            raise RuleViolationError("rule 6: an exemption cannot end before it starts or before today")
        self._check_length(actor, registration.exempt_reason, registration.exempt_start, end)
        position = await position_of(self.session, registration)
        previous_end = registration.exempt_end
        registration.exempt_end = end
        registration.updated_by = actor.sub
        self.trace(
            actor,
            registration,
            ActivityAction.EXEMPTION_EXTENDED,
            previous_status=registration.status,
            previous_position=position,
            new_position=position,
            reason=f"{registration.exempt_reason.value} exemption to {end.isoformat()} (was {previous_end}): {note}",
            now=now,
        )
        await self.session.commit()
        return registration

    async def end_exemption(self, actor: Actor, registration_id: UUID, *, note: str, now: datetime) -> BookRegistration:
        """Rule 6: the registrant is back before the exemption's end (or a planned one is called off): back in
        the queue with the same APN, and a fresh re-sign period from today."""
        registration, book = await self._locked(actor, registration_id)
        if registration.exempt_reason is None or registration.status not in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.EXEMPT,
        ):
            raise StateConflictError("rule 6: the registration has no exemption to end")
        await self.end_exemption_step(actor, registration, book, note=note, now=now)
        await self.session.commit()
        return registration

    def _check_length(self, actor: Actor, reason: ExemptReason, first: date, end: date) -> None:
        days = (end - first).days + 1
        if reason in LONG_EXEMPTIONS and days > MAX_LONG_EXEMPTION_DAYS and not actor.is_admin:
            raise RuleViolationError(
                f"rule 6: a {reason.value.replace('_', '-')} exemption lasts at most {MAX_LONG_EXEMPTION_DAYS} days "
                f"({days} asked); an admin may extend it"
            )

    async def end_exemption_step(
        self, actor: Actor, registration: BookRegistration, book: ReferralBook, *, note: str, now: datetime
    ) -> None:
        previous_status = registration.status
        clock = HallClock(actor.timezone)
        reason = registration.exempt_reason.value if registration.exempt_reason else "exemption"
        text = f"{reason} exemption {registration.exempt_start} to {registration.exempt_end} ended: {note}"
        registration.exempt_reason = None
        registration.exempt_start = None
        registration.exempt_end = None
        registration.updated_by = actor.sub
        if previous_status == RegistrationStatus.EXEMPT:
            registration.status = RegistrationStatus.REGISTERED
            # Out of re-sign enforcement while away: a full period from the return.
            registration.re_sign_deadline = max(registration.re_sign_deadline, clock.days_later(now, book.re_sign_days))
        await self.session.flush()
        self.trace(
            actor,
            registration,
            ActivityAction.EXEMPTION_ENDED,
            previous_status=previous_status,
            previous_position=None,  # exempt: not on the list; planned: unchanged, and recorded as such below
            new_position=await position_of(self.session, registration),
            reason=text,
            now=now,
        )

    # -- roll-off (manual; rules 3 and 4 use the same step) ----------------------------------------------

    async def roll_off(self, actor: Actor, registration_id: UUID, *, note: str, now: datetime) -> BookRegistration:
        """A dispatcher takes a registration off its book (``manual``), with the reason."""
        registration, _ = await self._locked(actor, registration_id)
        if registration.status == RegistrationStatus.DISPATCHED:
            raise StateConflictError("roll-off: the registration is dispatched; the dispatch ends first (rule 11)")
        if registration.status not in (RegistrationStatus.REGISTERED, RegistrationStatus.EXEMPT):
            raise StateConflictError(f"roll-off: the registration is already {registration.status.value}")
        await self.roll_off_step(actor, registration, RollOffReason.MANUAL, note, now=now)
        await self.session.commit()
        return registration

    async def roll_off_step(
        self,
        actor: Actor,
        registration: BookRegistration,
        reason: RollOffReason,
        note: str,
        *,
        now: datetime,
        labor_request_id: UUID | None = None,
        dispatch_id: UUID | None = None,
    ) -> None:
        """Off the book with ``reason``: the trace row and ``registration.rolled_off`` (not committed)."""
        previous_position = await position_of(self.session, registration)
        previous_status = registration.status
        registration.status = RegistrationStatus.ROLLED_OFF
        registration.roll_off_at = now
        registration.roll_off_reason = reason
        registration.exempt_reason = registration.exempt_start = registration.exempt_end = None  # off the book: no plan
        registration.updated_by = actor.sub
        self.trace(
            actor,
            registration,
            ActivityAction.ROLLED_OFF,
            previous_status=previous_status,
            previous_position=previous_position,
            new_position=None,
            reason=f"{reason.value}: {note}",
            now=now,
            labor_request_id=labor_request_id,
            dispatch_id=dispatch_id,
        )
        emit_about(
            self.session,
            registration,
            REGISTRATION_ROLLED_OFF,
            RegistrationRolledOff,
            reason=reason,
            previous_position=previous_position,
        )

    # -- shared steps ------------------------------------------------------------------------------------

    async def _locked(self, actor: Actor, registration_id: UUID) -> tuple[BookRegistration, ReferralBook]:
        """The tenant's registration and its book, both locked until the commit.

        The book first (:func:`lock_books`): every change that can move a place on a book's list holds its
        book's lock, so changes on one book commit in the order they were traced and each recorded place is
        exact (``rollcall hall verify`` replays them). Then the registration: two dispatchers cannot both mark it.
        """
        book_id = await self.session.scalar(
            select(BookRegistration.book_id).where(
                BookRegistration.id == registration_id, BookRegistration.tenant_id == actor.tenant_id
            )
        )
        if book_id is None:
            raise ResourceNotFoundError(f"no registration {registration_id}")
        book = (await lock_books(self.session, [book_id]))[book_id]
        registration = await self.session.scalar(
            select(BookRegistration)
            .where(BookRegistration.id == registration_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if registration is None:  # pragma: no cover  (registrations are never deleted)
            raise ResourceNotFoundError(f"no registration {registration_id}")
        return registration, book

    async def _ensure_not_re_registered(self, registration: BookRegistration, book: ReferralBook) -> None:
        other = await self.session.scalar(
            select(BookRegistration.id).where(
                BookRegistration.member_id == registration.member_id,
                BookRegistration.book_id == registration.book_id,
                BookRegistration.status.in_(ACTIVE),
                BookRegistration.id != registration.id,
            )
        )
        if other is not None:
            raise StateConflictError(
                f"rule 4: the member has registered on book {book.code} again since; this registration stays off"
            )

    def trace(
        self,
        actor: Actor,
        registration: BookRegistration,
        action: ActivityAction,
        *,
        previous_status: RegistrationStatus | None,
        previous_position: int | None,
        new_position: int | None,
        now: datetime,
        reason: str | None = None,
        labor_request_id: UUID | None = None,
        dispatch_id: UUID | None = None,
    ) -> None:
        """Rule 12: the append-only row of this change, in the same transaction, stamped with the rule's time
        (its ``seq`` orders rows of one instant)."""
        self.session.add(
            RegistrationActivity(
                tenant_id=registration.tenant_id,
                registration_id=registration.id,
                member_id=registration.member_id,
                book_id=registration.book_id,
                action=action,
                previous_status=previous_status,
                new_status=registration.status,
                previous_position=previous_position,
                new_position=new_position,
                labor_request_id=labor_request_id,
                dispatch_id=dispatch_id,
                reason=reason,
                performed_by=actor.sub,
                at=now,
                created_by=actor.sub,
                updated_by=actor.sub,
            )
        )


async def lock_books(session: AsyncSession, book_ids: Sequence[UUID]) -> dict[UUID, ReferralBook]:
    """Lock ``book_ids`` (``FOR NO KEY UPDATE``, in id order so two callers never wait on each other in a
    circle) until the commit, and return them. Every change of a place on a book's list takes its book's lock
    before it reads a place, as registration (``hall_register``) does: the trace's order is then the order of
    the changes, and a replay of it finds every recorded place again."""
    ordered = sorted(set(book_ids))
    if not ordered:
        return {}
    books = await session.scalars(
        select(ReferralBook)
        .where(ReferralBook.id.in_(ordered))
        .order_by(ReferralBook.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {book.id: book for book in books}


def grace_ends(clock: HallClock, deadline: datetime, grace_days: int) -> date:
    """The hall's last day on which a registration past ``deadline`` may still re-sign (rule 3)."""
    return clock.day_of(deadline) + timedelta(days=grace_days)


def _exemption_text(reason: ExemptReason, first: date, end: date, note: str | None) -> str:
    text = f"{reason.value} exemption {first.isoformat()} to {end.isoformat()}"
    return f"{text}: {note}" if note else text


@dataclass(frozen=True, slots=True)
class Placed:
    """A new registration and its place on the out-of-work list when it was made."""

    registration: BookRegistration
    position: int | None


def _check_registrable(
    book_code: str, book_active: bool, member_number: str, member_status: MemberStatus | str, taken: bool
) -> None:
    """Rule 1's refusals: a closed book, a member who is not active, a member already on the book."""
    if not book_active:
        raise StateConflictError(f"rule 1: book {book_code} is closed to registrations")
    status = MemberStatus(member_status)
    if status != MemberStatus.ACTIVE:
        raise StateConflictError(f"rule 1: member {member_number} is {status.value}, not active")
    if taken:
        raise StateConflictError(
            f"rule 1: member {member_number} already has an active registration on book {book_code}"
        )


_CREATED_EVENT = event_insert_sql(
    source="created AS p",
    aggregate_type=AGGREGATE,
    aggregate_id="p.id",
    event_type=REGISTRATION_CREATED,
    payload={
        "registration_id": "p.id",
        "tenant_id": "p.tenant_id",
        "member_id": "p.member_id",
        "book_id": "p.book_id",
        "applicant_priority_number": "p.applicant_priority_number::text",
        "registered_at": "to_char(p.registered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
        "position": "p.position",
        "imported": "false",
    },
    tenant_id="p.tenant_id",
)
_REGISTER = f"""
    WITH placed AS MATERIALIZED (
        SELECT * FROM hall_register($1, $2, $3, $4, $5, $6, $7, {MAX_DAILY_REGISTRATIONS})
    ), created AS (
        SELECT $1::uuid AS id, $2::uuid AS tenant_id, $4::uuid AS member_id, $3::uuid AS book_id,
               p.applicant_priority_number, $5::timestamptz AS registered_at, p.position
        FROM placed AS p WHERE p.applicant_priority_number IS NOT NULL
    ), traced AS (
        INSERT INTO registration_activities (tenant_id, registration_id, member_id, book_id, action, new_status,
                                             new_position, performed_by, at, created_by, updated_by)
        SELECT tenant_id, id, member_id, book_id, 'registered', 'registered', position, $7, $5, $7, $7
        FROM created
    ), event AS (
        {_CREATED_EVENT}
    )
    SELECT * FROM placed
"""  # noqa: S608  (built from constants)
"""Rule 1 in one statement (asyncpg's ``$n``: registration id, tenant, book, member, now, the hall's zone, the
actor): ``hall_register`` (migration 0011) locks the book, reads what the rule checks, takes k, writes the
registration and places it; the statement adds its trace row and ``registration.created``. No row: no such
book; a null APN: nothing was written (a check refused it, or k would pass 99)."""
