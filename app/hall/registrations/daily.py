"""The registrations' daily run (rules 3 and 6), for every hall in its own timezone.

"Daily" means the hall's calendar day: the run is scheduled every quarter of an hour and each step acts on
what the hall's *today* makes due, so whatever the server's zone, and across daylight-saving changes, a
registration rolls off on the first run of the day after its grace ends, and a reminder goes out on the
first run of the day seven days before its deadline. Running it again changes nothing (each step's query
only finds what is still due), and several workers may run it at once: each claims its rows with
``FOR UPDATE SKIP LOCKED`` and commits a batch at a time.

The steps, in order: planned exemptions begin, finished exemptions end (rule 6), registrations past
deadline + grace roll off as ``failed_re_sign`` (rule 3), ``registration.re_sign_due`` is emitted once per
deadline (rule 3), requests past their start date expire (rule 7) and internet dispatches not checked in by
15:00 on their start date become no-shows (rule 10; :mod:`app.hall.dispatch.daily`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy import Date, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.clock import HallClock
from app.hall.dispatch.daily import expire_requests, mark_no_shows
from app.hall.events import REGISTRATION_RE_SIGN_DUE, RegistrationReSignDue, emit_about
from app.hall.models import SYSTEM, ActivityAction, BookRegistration, ReferralBook, RegistrationStatus, RollOffReason
from app.hall.registrations.rules import Actor, RegistrationRules, lock_books, position_of
from app.tenants.models import Tenant, TenantKind

__all__ = ["BATCH", "REMIND_DAYS", "DailyReport", "run_daily"]

logger = structlog.get_logger(__name__)

BATCH = 200
"""Registrations per transaction."""
REMIND_DAYS = 7
"""``registration.re_sign_due`` goes out this many of the hall's days before the deadline."""


@dataclass
class DailyReport:
    exemptions_started: int = 0
    exemptions_ended: int = 0
    rolled_off: int = 0
    reminded: int = 0
    requests_expired: int = 0
    no_shows: int = 0
    halls: list[str] = field(default_factory=list)


async def run_daily(session_maker: Callable[[], AsyncSession], *, now: datetime) -> DailyReport:
    """Every hall's due registration changes as of ``now`` (see the module docstring)."""
    report = DailyReport()
    async with session_maker() as session:
        halls = (await session.execute(select(Tenant.id, Tenant.slug, Tenant.timezone).where(
            Tenant.kind == TenantKind.HALL
        ))).all()  # fmt: skip
    for tenant_id, slug, timezone in halls:
        actor = Actor(sub=SYSTEM, tenant_id=tenant_id, timezone=timezone)
        today = HallClock(timezone).day_of(now)
        counts = [await _in_batches(session_maker, step, actor, today, now) for step in STEPS]
        report.exemptions_started += counts[0]
        report.exemptions_ended += counts[1]
        report.rolled_off += counts[2]
        report.reminded += counts[3]
        report.requests_expired += await expire_requests(session_maker, actor, today)
        report.no_shows += await mark_no_shows(session_maker, actor, now)
        report.halls.append(slug)
    logger.info(
        "hall_daily_run",
        halls=len(report.halls),
        exemptions_started=report.exemptions_started,
        exemptions_ended=report.exemptions_ended,
        rolled_off=report.rolled_off,
        reminded=report.reminded,
        requests_expired=report.requests_expired,
        no_shows=report.no_shows,
    )
    return report


Step = Callable[[AsyncSession, Actor, date, datetime], Awaitable[int]]
"""One kind of change: claims a batch of what is due, changes it, commits; returns how many."""


async def _in_batches(
    session_maker: Callable[[], AsyncSession], step: Step, actor: Actor, today: date, now: datetime
) -> int:
    """Run ``step`` (one batch, committed) until it finds less than a batch."""
    total = 0
    while True:
        async with session_maker() as session:
            done = await step(session, actor, today, now)
        total += done
        if done < BATCH:
            return total


def _hall_day(column: object, timezone: str) -> object:
    """The hall's calendar day of a timestamptz column, in SQL."""
    return cast(func.timezone(timezone, column), Date)


async def _claim(session: AsyncSession, *where: object, tenant_id: UUID | None = None) -> list[BookRegistration]:
    """A batch of the tenant's registrations matching ``where``, locked; rows another worker holds are skipped.

    A step that moves places names its ``tenant_id``: the hall's books are locked first (the order every
    change of places takes, :func:`~app.hall.registrations.rules.lock_books`), so a batch and a dispatch on
    the same book never interleave."""
    if tenant_id is not None:
        books = await session.scalars(select(ReferralBook.id).where(ReferralBook.tenant_id == tenant_id))
        await lock_books(session, list(books))
    found = await session.scalars(
        select(BookRegistration)
        .where(*where)  # type: ignore[arg-type]
        .order_by(BookRegistration.book_id, BookRegistration.applicant_priority_number, BookRegistration.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True, of=BookRegistration)
    )
    return list(found)


async def _start_exemptions(session: AsyncSession, actor: Actor, today: date, now: datetime) -> int:
    """Rule 6: a planned exemption begins on its first day: out of the queue."""
    due = await _claim(
        session,
        BookRegistration.tenant_id == actor.tenant_id,
        BookRegistration.status == RegistrationStatus.REGISTERED,
        BookRegistration.exempt_start <= today,
        BookRegistration.exempt_end >= today,
        tenant_id=actor.tenant_id,
    )
    rules = RegistrationRules(session)
    for registration in due:
        previous_position = await position_of(session, registration)
        registration.status = RegistrationStatus.EXEMPT
        registration.updated_by = SYSTEM
        await session.flush()
        rules.trace(
            actor,
            registration,
            ActivityAction.EXEMPTED,
            previous_status=RegistrationStatus.REGISTERED,
            previous_position=previous_position,
            new_position=None,
            reason=f"the planned {registration.exempt_reason} exemption begins",
            now=now,
        )
    await session.commit()
    return len(due)


async def _end_exemptions(session: AsyncSession, actor: Actor, today: date, now: datetime) -> int:
    """Rule 6: the day after its last day, an exemption is over: back in the queue with the same APN."""
    due = await _claim(
        session,
        BookRegistration.tenant_id == actor.tenant_id,
        BookRegistration.exempt_end < today,
        tenant_id=actor.tenant_id,
    )
    rules = RegistrationRules(session)
    books = await _books(session, {registration.book_id for registration in due})
    for registration in due:
        await rules.end_exemption_step(
            actor, registration, books[registration.book_id], note="its period is over", now=now
        )
    await session.commit()
    return len(due)


async def _roll_off_lapsed(session: AsyncSession, actor: Actor, today: date, now: datetime) -> int:
    """Rule 3: registered (neither exempt nor dispatched) and not re-signed by the deadline plus the book's
    grace days: rolled off as ``failed_re_sign``."""
    lapsed = await _claim(
        session,
        BookRegistration.tenant_id == actor.tenant_id,
        BookRegistration.status == RegistrationStatus.REGISTERED,
        BookRegistration.re_sign_deadline < now,  # the index's part of the condition
        BookRegistration.book_id == ReferralBook.id,
        _hall_day(BookRegistration.re_sign_deadline, actor.timezone) + ReferralBook.grace_period_days
        < literal(today, Date),
        tenant_id=actor.tenant_id,
    )
    rules = RegistrationRules(session)
    clock = HallClock(actor.timezone)
    for registration in lapsed:
        await rules.roll_off_step(
            actor,
            registration,
            RollOffReason.FAILED_RE_SIGN,
            f"not re-signed by {clock.day_of(registration.re_sign_deadline).isoformat()}",
            now=now,
        )
    await session.commit()
    return len(lapsed)


async def _remind(session: AsyncSession, actor: Actor, today: date, now: datetime) -> int:
    """Rule 3: ``registration.re_sign_due`` from seven of the hall's days before the deadline, once per deadline."""
    reminder_window = HallClock(actor.timezone).end_of(today + timedelta(days=REMIND_DAYS))
    due = await _claim(
        session,
        BookRegistration.tenant_id == actor.tenant_id,
        BookRegistration.status == RegistrationStatus.REGISTERED,
        BookRegistration.re_sign_deadline < reminder_window,
        BookRegistration.re_sign_reminded_for.is_distinct_from(BookRegistration.re_sign_deadline),
    )
    for registration in due:
        registration.re_sign_reminded_for = registration.re_sign_deadline
        emit_about(
            session,
            registration,
            REGISTRATION_RE_SIGN_DUE,
            RegistrationReSignDue,
            re_sign_deadline=registration.re_sign_deadline,
        )
    await session.commit()
    return len(due)


async def _books(session: AsyncSession, ids: set[UUID]) -> dict[UUID, ReferralBook]:
    if not ids:
        return {}
    return {book.id: book for book in await session.scalars(select(ReferralBook).where(ReferralBook.id.in_(ids)))}


STEPS: tuple[Step, ...] = (_start_exemptions, _end_exemptions, _roll_off_lapsed, _remind)
"""In this order: exemptions begin and end before anyone is rolled off or reminded."""
