"""Reading the books: the out-of-work list (rule 2), registrations with their places, and the trace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from uuid import UUID

from advanced_alchemy.filters import OrderBy, StatementFilter
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.db import native_connection
from app.core.errors import ResourceNotFoundError
from app.core.query import MAX_LIMIT
from app.hall.models import BookRegistration, Member, ReferralBook, RegistrationActivity, RegistrationStatus
from app.hall.registrations.rules import position_of, positions_of
from app.hall.registrations.schemas import OutOfWorkEntry, RegistrationRead

__all__ = ["QUEUE_ORDER", "ActivityService", "Books", "out_of_work_page", "read"]

QUEUE_ORDER = (BookRegistration.applicant_priority_number, BookRegistration.registered_at, BookRegistration.id)
"""Rule 2's order: the APN, then who registered first, then the id (APNs need not be unique)."""

_ENTRY_COLUMNS = (
    BookRegistration.id,
    BookRegistration.member_id,
    Member.member_number,
    Member.first_name,
    Member.last_name,
    BookRegistration.applicant_priority_number,
    BookRegistration.registered_at,
    BookRegistration.re_sign_deadline,
    BookRegistration.check_marks,
)


def read(registration: BookRegistration, position: int | None) -> RegistrationRead:
    return RegistrationRead(
        id=registration.id,
        member_id=registration.member_id,
        book_id=registration.book_id,
        applicant_priority_number=registration.applicant_priority_number,
        registered_at=registration.registered_at,
        status=registration.status,
        position=position,
        last_re_sign_at=registration.last_re_sign_at,
        re_sign_deadline=registration.re_sign_deadline,
        check_marks=registration.check_marks,
        last_check_mark_on=registration.last_check_mark_on,
        short_call_restorations=registration.short_call_restorations,
        exempt_reason=registration.exempt_reason,
        exempt_start=registration.exempt_start,
        exempt_end=registration.exempt_end,
        roll_off_at=registration.roll_off_at,
        roll_off_reason=registration.roll_off_reason,
        created_at=registration.created_at,
        updated_at=registration.updated_at,
    )


class ActivityService(SQLAlchemyAsyncRepositoryService[RegistrationActivity]):
    """The trace, read through advanced-alchemy (it is only ever added to, by the rules)."""

    class Repo(SQLAlchemyAsyncRepository[RegistrationActivity]):
        model_type = RegistrationActivity

    repository_type = Repo

    async def of_registration(
        self, tenant_id: UUID, registration_id: UUID, *filters: StatementFilter
    ) -> tuple[Sequence[RegistrationActivity], int]:
        """A registration's rows in the order they were written (``seq``)."""
        return await self.get_many_and_count(
            *filters,
            RegistrationActivity.registration_id == registration_id,
            RegistrationActivity.tenant_id == tenant_id,
            OrderBy("seq", "asc"),
        )


class Books:
    """Read-only questions about a tenant's books, over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def book(self, tenant_id: UUID, book_id: UUID) -> ReferralBook:
        book = await self.session.scalar(
            select(ReferralBook).where(ReferralBook.id == book_id, ReferralBook.tenant_id == tenant_id)
        )
        if book is None:
            raise ResourceNotFoundError(f"no book {book_id}")
        return book

    async def member_for_login(self, tenant_id: UUID, sub: str) -> UUID | None:
        """The member whose ``keycloak_sub`` is the caller's ``sub``."""
        found: UUID | None = await self.session.scalar(
            select(Member.id).where(Member.tenant_id == tenant_id, Member.keycloak_sub == sub)
        )
        return found

    async def whole_list(self, tenant_id: UUID, book_id: UUID) -> list[OutOfWorkEntry]:
        """Rule 2: the whole list, read in one statement (one consistent snapshot of the queue)."""
        await self.book(tenant_id, book_id)
        rows = await self.session.execute(
            select(*_ENTRY_COLUMNS)
            .join(Member, Member.id == BookRegistration.member_id)
            .where(BookRegistration.book_id == book_id, BookRegistration.status == RegistrationStatus.REGISTERED)
            .order_by(*QUEUE_ORDER)
        )
        return [_entry(index + 1, row) for index, row in enumerate(rows)]

    async def own_entry(self, tenant_id: UUID, book_id: UUID, member_id: UUID) -> list[OutOfWorkEntry]:
        """A member's own line of the list (their place), or nothing when they are not on it."""
        await self.book(tenant_id, book_id)
        registration = await self.session.scalar(
            select(BookRegistration).where(
                BookRegistration.book_id == book_id,
                BookRegistration.member_id == member_id,
                BookRegistration.status == RegistrationStatus.REGISTERED,
            )
        )
        if registration is None:
            return []
        position = await position_of(self.session, registration)
        row = (
            await self.session.execute(
                select(*_ENTRY_COLUMNS)
                .join(Member, Member.id == BookRegistration.member_id)
                .where(BookRegistration.id == registration.id)
            )
        ).one()
        return [_entry(position or 0, row)]

    async def registration(self, tenant_id: UUID, registration_id: UUID) -> BookRegistration:
        found = await self.session.scalar(
            select(BookRegistration).where(
                BookRegistration.id == registration_id, BookRegistration.tenant_id == tenant_id
            )
        )
        if found is None:
            raise ResourceNotFoundError(f"no registration {registration_id}")
        return found

    async def registrations(
        self,
        tenant_id: UUID,
        *,
        book_id: UUID | None = None,
        member_id: UUID | None = None,
        status: RegistrationStatus | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[RegistrationRead], int]:
        """Registrations in queue order, any status, each with its place on its book's list."""
        if book_id is not None:
            await self.book(tenant_id, book_id)
        where = [BookRegistration.tenant_id == tenant_id]
        if book_id is not None:
            where.append(BookRegistration.book_id == book_id)
        if member_id is not None:
            where.append(BookRegistration.member_id == member_id)
        if status is not None:
            where.append(BookRegistration.status == status)
        found = list(
            await self.session.scalars(
                select(BookRegistration)
                .where(*where)
                .order_by(BookRegistration.book_id, *QUEUE_ORDER)
                .offset(offset)
                .limit(limit)
            )
        )
        total = await self.session.scalar(select(func.count()).select_from(BookRegistration).where(*where))
        places = await positions_of(self.session, found)
        return [read(item, places.get(item.id)) for item in found], int(total or 0)


EntryRow = Row[UUID, UUID, str, str, str, Decimal, datetime, datetime, int]


def _entry(position: int, row: EntryRow) -> OutOfWorkEntry:
    return OutOfWorkEntry(
        position=position,
        registration_id=row.id,
        member_id=row.member_id,
        member_number=row.member_number,
        first_name=row.first_name,
        last_name=row.last_name,
        applicant_priority_number=row.applicant_priority_number,
        registered_at=row.registered_at,
        re_sign_deadline=row.re_sign_deadline,
        check_marks=row.check_marks,
    )


async def out_of_work_page(
    engine: AsyncEngine, tenant_id: UUID, book_id: UUID, *, limit: int, offset: int
) -> tuple[list[OutOfWorkEntry], int]:
    """Rule 2: a page of the book's registrants who can be dispatched now, in queue order, and how many there are.

    The busiest read of a hall, so one native statement (no transaction, no ORM): the book check; the total,
    summed over the list's spans (``book_queue_spans``); the page, found by its first span there and walked
    from that span's first registrant along ``ix_book_registrations_queue``, so a page far down the list costs
    about what the first does.
    """
    async with native_connection(engine) as connection:
        rows = await connection.fetch(_page_statement(limit), book_id, tenant_id, offset)
    if not rows[0]["found"]:
        raise ResourceNotFoundError(f"no book {book_id}")
    entries = [
        OutOfWorkEntry(
            position=offset + index + 1,
            registration_id=row["id"],
            member_id=row["member_id"],
            member_number=row["member_number"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            applicant_priority_number=row["applicant_priority_number"],
            registered_at=row["registered_at"],
            re_sign_deadline=row["re_sign_deadline"],
            check_marks=row["check_marks"],
        )
        for index, row in enumerate(rows)
        if row["id"] is not None
    ]
    return entries, int(rows[0]["total"])


@cache
def _page_statement(limit: int) -> str:
    """The page's statement for pages of ``limit`` (1 to 200, so at most 200 statements). The limit is written
    into it, not passed: PostgreSQL plans a prepared statement once for every call only if that plan is as
    good as one made for the call's values, and for ``LIMIT $n`` it must assume a tenth of the list, which
    makes a plan that reads every member. With the limit known, the one plan fits every call."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"a page holds 1 to {MAX_LIMIT} entries, not {limit}")
    return f"""
    WITH spans AS (
        SELECT span, waiting, sum(waiting) OVER (ORDER BY span) AS through
        FROM book_queue_spans WHERE book_id = $1
    ), first_span AS (
        SELECT span * 8 AS apn, through - waiting AS before FROM spans WHERE through > $3 ORDER BY span LIMIT 1
    ), meta AS (
        SELECT EXISTS (SELECT 1 FROM referral_books WHERE id = $1 AND tenant_id = $2) AS found,
               coalesce((SELECT max(through) FROM spans), 0) AS total
    )
    SELECT meta.found, meta.total, entry.*
    FROM meta
    LEFT JOIN LATERAL (
        SELECT r.id, r.member_id, m.member_number, m.first_name, m.last_name, r.applicant_priority_number,
               r.registered_at, r.re_sign_deadline, r.check_marks
        FROM (SELECT id FROM book_registrations
              WHERE book_id = $1 AND status = 'registered'
                AND applicant_priority_number >= (SELECT apn FROM first_span)
              ORDER BY applicant_priority_number, registered_at, id
              OFFSET $3 - (SELECT before FROM first_span) LIMIT {int(limit)}) AS page
        JOIN book_registrations AS r ON r.id = page.id
        JOIN members AS m ON m.id = r.member_id
        WHERE meta.found
    ) AS entry ON true
    ORDER BY entry.applicant_priority_number, entry.registered_at, entry.id
    """  # noqa: S608  (the limit is an int checked above)
    # One row with a null entry when the page is empty; ``found`` is false for another tenant's book (asyncpg's
    # native ``$n`` parameters: it runs on the pool's driver connection).
