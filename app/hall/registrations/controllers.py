"""Registrations and out-of-work lists (rules 1 to 6), under ``/api/v1/hall``.

Staff (``dispatcher``, ``admin``) run the books. A ``member`` sees their own registrations, their own place
on a list and their own trace, and re-signs their own registrations; anyone else's registration is a 404
to them. Every refusal names its rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.auth import Principal, provide_principal, requires_role
from app.core.errors import ResourceNotFoundError, RuleViolationError, problem_responses
from app.core.filters import PAGING, Paging
from app.core.query import Limit, Offset
from app.core.sheets import CsvStream, csv_operation, sheet, wants_csv
from app.hall.guards import ADMIN, DISPATCHER, MEMBER, STAFF, is_staff
from app.hall.models import BookRegistration, RegistrationStatus
from app.hall.registrations.queue import ActivityService, Books, out_of_work_page, read
from app.hall.registrations.rules import Actor, RegistrationRules, position_of
from app.hall.registrations.schemas import (
    ActivityRead,
    CheckMarkRequest,
    ExemptionExtension,
    ExemptionRequest,
    NoteRequest,
    OutOfWorkEntry,
    RegistrationCreate,
    RegistrationImport,
    RegistrationRead,
    body,
)

__all__ = ["ANYONE", "CHANGE", "READ", "RegistrationController", "actor_of", "linked_member", "utc_now"]

ANYONE = requires_role(ADMIN, DISPATCHER, MEMBER)
READ = problem_responses(400, 401, 403, 404)
CHANGE = problem_responses(400, 401, 403, 404, 409, 413, 422)
OUT_OF_WORK_COLUMNS = (
    "position", "member_number", "last_name", "first_name", "applicant_priority_number", "registered_at",
    "re_sign_deadline", "check_marks", "registration_id", "member_id",
)  # fmt: skip
MAX_APN = Decimal("99999999.99")


def actor_of(principal: Principal) -> Actor:
    return Actor(
        sub=principal.sub,
        tenant_id=principal.tenant.id,
        timezone=principal.tenant.timezone,
        is_admin=principal.has_role(ADMIN),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


class RegistrationController(Controller):
    path = "/"
    tags = ["hall registrations"]
    dependencies = {**PAGING}

    # -- rule 1 ------------------------------------------------------------------------------------------

    @post(
        "/books/{book_id:uuid}/registrations",
        operation_id="registerOnBook",
        summary="Register a member on a book (rule 1)",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def register(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        book_id: FromPath[UUID],
        data: Annotated[RegistrationCreate, body(RegistrationCreate)],
    ) -> RegistrationRead:
        """The APN is the spreadsheet serial of the hall's day plus k/100, k counting the day's registrations
        on the book (2012-02-27's first: 40966.01). 409 for a 100th on one day, an inactive member or book,
        or a member already active on the book."""
        placed = await RegistrationRules(db_session).register(
            actor_of(principal), book_id, data.member_id, now=utc_now()
        )
        return read(placed.registration, placed.position)

    @post(
        "/books/{book_id:uuid}/registrations/import",
        operation_id="importRegistration",
        summary="Carry over a registration with its APN (rule 1)",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def import_registration(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        book_id: FromPath[UUID],
        data: Annotated[RegistrationImport, body(RegistrationImport)],
    ) -> RegistrationRead:
        """For moving a hall onto rollcall: the APN is the one the registration had (APNs need not be unique;
        ties go by `registered_at`). 400 for an APN that is not a decimal string with at most two places, 422 for
        one of 0."""
        apn = Decimal(data.applicant_priority_number)  # the pattern admits only plain decimals
        if not 0 < apn <= MAX_APN:
            raise RuleViolationError(
                f"rule 1: an APN has at most two decimal places, from 0.01 to {MAX_APN} (got {apn})"
            )
        now = utc_now()
        for instant, name in ((data.registered_at, "registered_at"), (data.last_re_sign_at, "last_re_sign_at")):
            if instant is not None and (instant.tzinfo is None or instant > now):
                raise RuleViolationError(f"rule 1: {name} is a past date-time with an offset")
        registration = await RegistrationRules(db_session).import_registration(
            actor_of(principal),
            book_id,
            data.member_id,
            apn=apn,
            registered_at=data.registered_at,
            last_re_sign_at=data.last_re_sign_at,
            now=now,
        )
        return await _answer(db_session, registration)

    # -- rule 2 ------------------------------------------------------------------------------------------

    @get(
        "/books/{book_id:uuid}/out-of-work",
        operation_id="getOutOfWorkList",
        summary="The book's out-of-work list, in queue order (rule 2)",
        guards=[ANYONE],
        responses=READ,
        operation_class=csv_operation(OUT_OF_WORK_COLUMNS),
    )
    async def out_of_work(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        book_id: FromPath[UUID],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[OutOfWorkEntry] | CsvStream:
        """Registrants who can be dispatched now (neither exempt nor dispatched), by APN, then registration
        time, then id; `position` is the 1-based place. With `Accept: text/csv`, the whole list as a sheet.
        A member sees only their own line."""
        # A hall's busiest call, kept lean: a page is one native statement, no ORM session is opened, and the
        # handler takes one dependency (Litestar resolves two or more in an anyio task group: ~10 % of its CPU).
        principal = provide_principal(request)
        csv = wants_csv(request)
        if is_staff(principal) and not csv:
            items, total = await out_of_work_page(db_engine, principal.tenant.id, book_id, limit=limit, offset=offset)
            return OffsetPagination(items=items, total=total, limit=limit, offset=offset)
        async with AsyncSession(db_engine) as session:
            books = Books(session)
            if is_staff(principal):
                entries = await books.whole_list(principal.tenant.id, book_id)
                rows = ([getattr(entry, column) for column in OUT_OF_WORK_COLUMNS] for entry in entries)
                return CsvStream.download(sheet(OUT_OF_WORK_COLUMNS, rows), "out-of-work.csv")
            member_id = await linked_member(books, principal)
            own = await books.own_entry(principal.tenant.id, book_id, member_id)
        if csv:
            rows = ([getattr(entry, column) for column in OUT_OF_WORK_COLUMNS] for entry in own)
            return CsvStream.download(sheet(OUT_OF_WORK_COLUMNS, rows), "out-of-work.csv")
        return OffsetPagination(items=own, total=len(own), limit=limit, offset=0)

    # -- reading registrations ---------------------------------------------------------------------------

    @get(
        "/books/{book_id:uuid}/registrations",
        operation_id="listBookRegistrations",
        summary="A book's registrations, any status",
        guards=[STAFF],
        responses=READ,
    )
    async def list_registrations(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        book_id: FromPath[UUID],
        paging: Paging,
        status: Annotated[RegistrationStatus | None, QueryParameter()] = None,
    ) -> OffsetPagination[RegistrationRead]:
        """In queue order; `position` is set for those on the out-of-work list."""
        items, total = await Books(db_session).registrations(
            principal.tenant.id, book_id=book_id, status=status, limit=paging.limit, offset=paging.offset
        )
        return OffsetPagination(items=items, total=total, limit=paging.limit, offset=paging.offset)

    @get(
        "/me/registrations",
        operation_id="listMyRegistrations",
        summary="The caller's own registrations (members)",
        guards=[ANYONE],
        responses=READ,
    )
    async def my_registrations(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        paging: Paging,
    ) -> OffsetPagination[RegistrationRead]:
        """Every registration of the member linked to the caller's login, with their place on each list."""
        books = Books(db_session)
        member_id = await linked_member(books, principal)
        items, total = await books.registrations(
            principal.tenant.id, member_id=member_id, limit=paging.limit, offset=paging.offset
        )
        return OffsetPagination(items=items, total=total, limit=paging.limit, offset=paging.offset)

    @get(
        "/registrations/{registration_id:uuid}",
        operation_id="getRegistration",
        summary="One registration",
        guards=[ANYONE],
        responses=READ,
    )
    async def get_registration(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
    ) -> RegistrationRead:
        """A member may read only their own."""
        registration = await _visible(Books(db_session), principal, registration_id)
        return await _answer(db_session, registration)

    @get(
        "/registrations/{registration_id:uuid}/activities",
        operation_id="listRegistrationActivities",
        summary="The registration's append-only trace (rule 12)",
        guards=[ANYONE],
        responses=READ,
    )
    async def activities(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        paging: Paging,
    ) -> OffsetPagination[ActivityRead]:
        """Every change of the registration, oldest first, with the status and place before and after, the
        reason and who made it. A member may read only their own."""
        await _visible(Books(db_session), principal, registration_id)
        trace = ActivityService(session=db_session)
        rows, total = await trace.of_registration(principal.tenant.id, registration_id, paging)
        return trace.to_schema(rows, total, filters=[paging], schema_type=ActivityRead)

    # -- rules 3, 4, 6 and roll-off ----------------------------------------------------------------------

    @post(
        "/registrations/{registration_id:uuid}/re-sign",
        operation_id="reSignRegistration",
        summary="Re-sign (rule 3)",
        guards=[ANYONE],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def re_sign(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
    ) -> RegistrationRead:
        """The deadline moves to now plus the book's re-sign days; the APN stays. 409 after the deadline plus
        the book's grace days. A member may re-sign only their own."""
        await _visible(Books(db_session), principal, registration_id)
        registration = await RegistrationRules(db_session).re_sign(actor_of(principal), registration_id, now=utc_now())
        return await _answer(db_session, registration)

    @post(
        "/registrations/{registration_id:uuid}/check-marks",
        operation_id="addCheckMark",
        summary="Record a missed call (rule 4)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def add_check_mark(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        data: Annotated[CheckMarkRequest, body(CheckMarkRequest)],
    ) -> RegistrationRead:
        """One per registration per day; none for exempt registrants (422) or for a request that gives none
        (rule 5, 422). The mark after the book's `max_check_marks` rolls the registration off (`check_marks`)."""
        registration = await RegistrationRules(db_session).add_check_mark(
            actor_of(principal),
            registration_id,
            reason=data.reason,
            labor_request_id=data.labor_request_id,
            now=utc_now(),
        )
        return await _answer(db_session, registration)

    @post(
        "/registrations/{registration_id:uuid}/check-marks/{mark:int}/restore",
        operation_id="restoreCheckMark",
        summary="Take a check mark back (rule 4)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def restore_check_mark(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        mark: FromPath[int],
        data: Annotated[NoteRequest, body(NoteRequest)],
    ) -> RegistrationRead:
        """`mark` is 1 to the registration's number of marks. A registration the marks rolled off is back on
        its book, with its APN, once within the book's limit again."""
        registration = await RegistrationRules(db_session).restore_check_mark(
            actor_of(principal), registration_id, mark, reason=data.reason, now=utc_now()
        )
        return await _answer(db_session, registration)

    @post(
        "/registrations/{registration_id:uuid}/exemptions",
        operation_id="exemptRegistration",
        summary="Exempt a registration for a period (rule 6)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def exempt(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        data: Annotated[ExemptionRequest, body(ExemptionRequest)],
    ) -> RegistrationRead:
        """Out of the queue, and out of re-sign and check-mark enforcement, from `start` (default today)
        through `end`. Traveling and under-scale exemptions last at most 180 days unless an admin sets them."""
        registration = await RegistrationRules(db_session).exempt(
            actor_of(principal),
            registration_id,
            reason=data.reason,
            start=data.start,
            end=data.end,
            note=data.note,
            now=utc_now(),
        )
        return await _answer(db_session, registration)

    @patch(
        "/registrations/{registration_id:uuid}/exemptions",
        operation_id="extendExemption",
        summary="Move the end of an exemption (rule 6)",
        guards=[STAFF],
        responses=CHANGE,
    )
    async def extend_exemption(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        data: Annotated[ExemptionExtension, body(ExemptionExtension)],
    ) -> RegistrationRead:
        """Past 180 days for traveling and under-scale exemptions, only an admin may (422 otherwise)."""
        registration = await RegistrationRules(db_session).extend_exemption(
            actor_of(principal), registration_id, end=data.end, note=data.reason, now=utc_now()
        )
        return await _answer(db_session, registration)

    @post(
        "/registrations/{registration_id:uuid}/exemptions/end",
        operation_id="endExemption",
        summary="End an exemption early (rule 6)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def end_exemption(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        data: Annotated[NoteRequest, body(NoteRequest)],
    ) -> RegistrationRead:
        """Back in the queue with the same APN and a fresh re-sign period; a planned exemption is called off."""
        registration = await RegistrationRules(db_session).end_exemption(
            actor_of(principal), registration_id, note=data.reason, now=utc_now()
        )
        return await _answer(db_session, registration)

    @post(
        "/registrations/{registration_id:uuid}/roll-off",
        operation_id="rollOffRegistration",
        summary="Take a registration off its book",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def roll_off(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        registration_id: FromPath[UUID],
        data: Annotated[NoteRequest, body(NoteRequest)],
    ) -> RegistrationRead:
        """A manual roll-off, with the reason (`roll_off_reason` = `manual`); 409 while dispatched."""
        registration = await RegistrationRules(db_session).roll_off(
            actor_of(principal), registration_id, note=data.reason, now=utc_now()
        )
        return read(registration, None)


async def _answer(session: AsyncSession, registration: BookRegistration) -> RegistrationRead:
    """The registration as it is now, with its place on its book's list."""
    return read(registration, await position_of(session, registration))


async def linked_member(books: Books, principal: Principal) -> UUID:
    """The member linked to the caller's login (members only; 403 without one)."""
    member_id = await books.member_for_login(principal.tenant.id, principal.sub)
    if member_id is None:
        raise PermissionDeniedException("no member of this hall is linked to this login")
    return member_id


async def _visible(books: Books, principal: Principal, registration_id: UUID) -> BookRegistration:
    """The registration, if the caller may see it: staff see the hall's, a member only their own (404 else)."""
    registration = await books.registration(principal.tenant.id, registration_id)
    if not is_staff(principal) and registration.member_id != await linked_member(books, principal):
        raise ResourceNotFoundError(f"no registration {registration_id}")
    return registration
