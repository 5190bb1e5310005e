"""Labor requests, bids, dispatches and the fairness record (rules 7 to 11), under ``/api/v1/hall``.

Staff (``dispatcher``, ``admin``) take requests and dispatch. A ``member`` bids on requests open to online
bids, withdraws a pending bid, rejects a job their accepted bid won, and checks in to (or quits) their own
dispatch; anyone else's bid or dispatch is a 404 to them. Every refusal names its rule.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, provide_principal
from app.core.errors import ResourceNotFoundError, RuleViolationError
from app.core.filters import PAGING, Paging
from app.hall.clock import HallClock
from app.hall.dispatch.fairness import explain
from app.hall.dispatch.requests import FILLABLE, LaborRequestRules
from app.hall.dispatch.rules import DispatchRules
from app.hall.dispatch.schemas import (
    BidRead,
    BidsProcessed,
    CheckInRequest,
    DispatchCreate,
    DispatchExplained,
    DispatchRead,
    LaborRequestCreate,
    LaborRequestPatch,
    LaborRequestRead,
    ProcessBidsRequest,
    SkipRead,
    SkipRequest,
    TerminateRequest,
    body,
)
from app.hall.guards import STAFF, is_staff
from app.hall.models import (
    Dispatch,
    DispatchMethod,
    JobBid,
    LaborRequest,
    LaborRequestStatus,
    TermReason,
)
from app.hall.registrations.controllers import ANYONE, CHANGE, READ, actor_of, linked_member, utc_now
from app.hall.registrations.queue import Books
from app.hall.registrations.schemas import NoteRequest
from app.hall.registrations.schemas import body as note_body

__all__ = ["DispatchController", "LaborRequestController"]


def request_read(request: LaborRequest, timezone: str) -> LaborRequestRead:
    return LaborRequestRead(
        counts_from=HallClock(timezone).counts_from(request.received_at),
        **{name: getattr(request, name) for name in LaborRequestRead.__struct_fields__ if name != "counts_from"},
    )


def dispatch_read(dispatch: Dispatch) -> DispatchRead:
    return DispatchRead(**{name: getattr(dispatch, name) for name in DispatchRead.__struct_fields__})


def bid_read(bid: JobBid) -> BidRead:
    return BidRead(**{name: getattr(bid, name) for name in BidRead.__struct_fields__})


def _values(data: msgspec.Struct) -> dict[str, Any]:
    return msgspec.structs.asdict(data)


async def _own(session: AsyncSession, principal: Principal) -> UUID | None:
    """None for staff (they act on anyone's); the caller's member for a member."""
    return None if is_staff(principal) else await linked_member(Books(session), principal)


class LaborRequestController(Controller):
    path = "/labor-requests"
    tags = ["hall dispatch"]
    dependencies = {**PAGING}

    # -- rule 7 ------------------------------------------------------------------------------------------

    @post(
        "/",
        operation_id="createLaborRequest",
        summary="Take an employer's labor request (rule 7)",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def create(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[LaborRequestCreate, body(LaborRequestCreate)],
    ) -> LaborRequestRead:
        """Numbered `REQyyyymmdd-NNNN` by the hall's day of receipt. Received after 15:00 it
        counts from the next working day, and cannot start before it (422). 10 working days or fewer make a
        short call; short calls, starts before 06:00, specialty, MOU-jobsite and under-scale requests give no
        check marks (`no_check_mark_reason` says which). With online bidding, members bid from 17:30 the day
        before the start date until 07:00 on it."""
        request = await LaborRequestRules(db_session).create(actor_of(principal), _values(data), now=utc_now())
        return request_read(request, principal.tenant.timezone)

    @get(
        "/",
        operation_id="listLaborRequests",
        summary="Labor requests, newest first",
        guards=[ANYONE],
        responses=READ,
    )
    async def list_requests(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        paging: Paging,
        status: Annotated[LaborRequestStatus | None, QueryParameter()] = None,
        book_id: Annotated[UUID | None, QueryParameter()] = None,
    ) -> OffsetPagination[LaborRequestRead]:
        """Staff see every request; a member sees the open ones that take online bids."""
        where = [LaborRequest.tenant_id == principal.tenant.id]
        if status is not None:
            where.append(LaborRequest.status == status)
        if book_id is not None:
            where.append(LaborRequest.book_id == book_id)
        if not is_staff(principal):
            await linked_member(Books(db_session), principal)
            where += [LaborRequest.allows_online_bidding.is_(True), LaborRequest.status.in_(FILLABLE)]
        total = await db_session.scalar(select(func.count()).select_from(LaborRequest).where(*where)) or 0
        rows = await db_session.scalars(
            select(LaborRequest)
            .where(*where)
            .order_by(LaborRequest.received_at.desc(), LaborRequest.id)
            .limit(paging.limit)
            .offset(paging.offset)
        )
        timezone = principal.tenant.timezone
        return OffsetPagination(
            items=[request_read(row, timezone) for row in rows], total=total, limit=paging.limit, offset=paging.offset
        )

    @get(
        "/{request_id:uuid}",
        operation_id="getLaborRequest",
        summary="One labor request",
        guards=[ANYONE],
        responses=READ,
    )
    async def get_request(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
    ) -> LaborRequestRead:
        """A member may read a request that takes online bids."""
        request = await db_session.get(LaborRequest, request_id)
        if request is None or request.tenant_id != principal.tenant.id:
            raise ResourceNotFoundError(f"no labor request {request_id}")
        if not is_staff(principal):
            await linked_member(Books(db_session), principal)
            if not request.allows_online_bidding:
                raise ResourceNotFoundError(f"no labor request {request_id}")
        return request_read(request, principal.tenant.timezone)

    @patch(
        "/{request_id:uuid}",
        operation_id="editLaborRequest",
        summary="Edit an open labor request (rule 7)",
        guards=[STAFF],
        responses=CHANGE,
    )
    async def edit(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
        data: Annotated[LaborRequestPatch, body(LaborRequestPatch)],
    ) -> LaborRequestRead:
        """Only an open request (nobody dispatched yet) is editable (409 otherwise); what the values imply is
        derived again. A field left out keeps its value."""
        changes = {name: value for name, value in msgspec.structs.asdict(data).items() if value is not None}
        request = await LaborRequestRules(db_session).edit(actor_of(principal), request_id, changes, now=utc_now())
        return request_read(request, principal.tenant.timezone)

    @post(
        "/{request_id:uuid}/cancel",
        operation_id="cancelLaborRequest",
        summary="Cancel a labor request (rule 7)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def cancel(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
        data: Annotated[NoteRequest, note_body(NoteRequest)],
    ) -> LaborRequestRead:
        """An open or partially filled request, with the reason; its pending bids expire. Dispatches stand."""
        request = await LaborRequestRules(db_session).cancel(
            actor_of(principal), request_id, reason=data.reason, now=utc_now()
        )
        return request_read(request, principal.tenant.timezone)

    # -- rule 10 -----------------------------------------------------------------------------------------

    @post(
        "/{request_id:uuid}/dispatches",
        operation_id="dispatchToLaborRequest",
        summary="Dispatch a registrant to the request (rule 10)",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def dispatch(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        request_id: FromPath[UUID],
        data: Annotated[DispatchCreate, body(DispatchCreate)],
    ) -> DispatchRead:
        """`morning_referral` sends the first eligible registrant of the book's out-of-work list: everyone
        ahead must have been passed over for a recorded reason (`POST …/skips`). `by_name` and `emergency` send
        the named registrant (`registration_id`) and need a `reason`; by name is refused for 14 days after the
        member quit or was fired by that employer (rule 11)."""
        # A hall's busiest write, kept lean: one dependency (Litestar resolves two or more in a task group) and,
        # for a morning referral, one native statement (``hall_morning_referral``).
        principal = provide_principal(request)
        rules = DispatchRules(db_session)
        actor = actor_of(principal)
        method = DispatchMethod(data.method)
        if method is DispatchMethod.MORNING_REFERRAL:
            return await rules.morning_referral(actor, request_id, expected=data.registration_id, now=utc_now())
        if data.registration_id is None or not data.reason:
            raise RuleViolationError(f"rule 10: a {method.value} dispatch names the registrant and gives a reason")
        dispatch = await rules.named(
            actor, request_id, data.registration_id, method=method, reason=data.reason, now=utc_now()
        )
        return dispatch_read(dispatch)

    @get(
        "/{request_id:uuid}/dispatches",
        operation_id="listLaborRequestDispatches",
        summary="The request's dispatches",
        guards=[STAFF],
        responses=READ,
    )
    async def list_dispatches(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
    ) -> list[DispatchRead]:
        """In the order they were made."""
        rows = await db_session.scalars(
            select(Dispatch)
            .where(Dispatch.labor_request_id == request_id, Dispatch.tenant_id == principal.tenant.id)
            .order_by(Dispatch.dispatched_at, Dispatch.id)
        )
        return [dispatch_read(row) for row in rows]

    @post(
        "/{request_id:uuid}/skips",
        operation_id="skipForLaborRequest",
        summary="Pass a registrant over for the request, with the reason (rule 10)",
        guards=[STAFF],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def skip(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
        data: Annotated[SkipRequest, body(SkipRequest)],
    ) -> SkipRead:
        """Recorded in the registrant's trace; a morning referral then passes them over for this request. It
        gives a check mark (rule 4) when the request gives them (rule 5) and the registrant has none today."""
        outcome = await DispatchRules(db_session).skip(
            actor_of(principal), request_id, data.registration_id, reason=data.reason, now=utc_now()
        )
        return SkipRead(
            registration_id=outcome.registration.id,
            labor_request_id=request_id,
            position=outcome.position,
            check_mark=outcome.check_mark,
            check_marks=outcome.registration.check_marks,
            registration_status=outcome.registration.status,
        )

    # -- rule 8 ------------------------------------------------------------------------------------------

    @post(
        "/{request_id:uuid}/bids",
        operation_id="bidOnLaborRequest",
        summary="Bid on the request (members, rule 8)",
        guards=[ANYONE],
        status_code=HTTP_201_CREATED,
        responses=CHANGE,
    )
    async def bid(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
    ) -> BidRead:
        """From 17:30 the day before the start date until 07:00 on it, on an open or partially filled request
        that takes online bids, by a member registered (not exempt) on its book; one active bid per member and
        request; not while the member's bidding is suspended (rule 9)."""
        member_id = await linked_member(Books(db_session), principal)
        bid = await DispatchRules(db_session).bid(actor_of(principal), request_id, member_id, now=utc_now())
        return bid_read(bid)

    @delete(
        "/{request_id:uuid}/bids/mine",
        operation_id="withdrawBid",
        summary="Withdraw your pending bid (members, rule 8)",
        guards=[ANYONE],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def withdraw(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
    ) -> BidRead:
        """A bid already accepted is rejected instead (`POST bids/{id}/reject`, rule 9)."""
        member_id = await linked_member(Books(db_session), principal)
        bid = await DispatchRules(db_session).withdraw(actor_of(principal), request_id, member_id, now=utc_now())
        return bid_read(bid)

    @get(
        "/{request_id:uuid}/bids",
        operation_id="listBids",
        summary="The request's bids",
        guards=[STAFF],
        responses=READ,
    )
    async def list_bids(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
    ) -> list[BidRead]:
        """In the order they came in."""
        rows = await db_session.scalars(
            select(JobBid)
            .where(JobBid.labor_request_id == request_id, JobBid.tenant_id == principal.tenant.id)
            .order_by(JobBid.submitted_at, JobBid.id)
        )
        return [bid_read(row) for row in rows]

    @post(
        "/{request_id:uuid}/process-bids",
        operation_id="processBids",
        summary="Accept bids in queue order, dispatching each (rule 8)",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def process_bids(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        request_id: FromPath[UUID],
        data: Annotated[ProcessBidsRequest, body(ProcessBidsRequest)],
    ) -> BidsProcessed:
        """Pending bids are accepted by the bidders' places on the out-of-work list (APN) up to the open places,
        each becoming an `internet_bid` dispatch that checks in by 15:00 on the start date; the rest are
        rejected. Before bidding closes (07:00 on the start date) only with a `reason`, which closes bidding.
        Processing twice dispatches each place once."""
        outcome = await DispatchRules(db_session).process_bids(
            actor_of(principal), request_id, reason=data.reason, now=utc_now()
        )
        return BidsProcessed(
            labor_request_id=outcome.labor_request_id,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            workers_dispatched=outcome.workers_dispatched,
            status=outcome.status,
        )


class DispatchController(Controller):
    path = "/"
    tags = ["hall dispatch"]

    @get(
        "/dispatches/{dispatch_id:uuid}",
        operation_id="getDispatch",
        summary="One dispatch",
        guards=[ANYONE],
        responses=READ,
    )
    async def get_dispatch(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        dispatch_id: FromPath[UUID],
    ) -> DispatchRead:
        """A member may read only their own."""
        own = await _own(db_session, principal)
        dispatch = await db_session.get(Dispatch, dispatch_id)
        if dispatch is None or dispatch.tenant_id != principal.tenant.id or own not in (None, dispatch.member_id):
            raise ResourceNotFoundError(f"no dispatch {dispatch_id}")
        return dispatch_read(dispatch)

    @post(
        "/dispatches/{dispatch_id:uuid}/check-in",
        operation_id="checkInDispatch",
        summary="Check in to a dispatch (rule 10)",
        guards=[ANYONE],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def check_in(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        dispatch_id: FromPath[UUID],
        data: Annotated[CheckInRequest, body(CheckInRequest)],
    ) -> DispatchRead:
        """An internet dispatch checks in by 15:00 on its start date (409 after: a no-show, treated as a
        quit). A member may check in only their own."""
        own = await _own(db_session, principal)
        dispatch = await DispatchRules(db_session).check_in(
            actor_of(principal), dispatch_id, member_id=own, note=data.note, now=utc_now()
        )
        return dispatch_read(dispatch)

    @post(
        "/dispatches/{dispatch_id:uuid}/terminate",
        operation_id="terminateDispatch",
        summary="End a dispatch (rule 11)",
        guards=[ANYONE],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def terminate(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        dispatch_id: FromPath[UUID],
        data: Annotated[TerminateRequest, body(TerminateRequest)],
    ) -> DispatchRead:
        """`quit`/`fired` roll the member off every book and block by-name requests from the employer for 14
        days; `short_call_end` puts the registration back with its APN (at most twice; stints of 3 days or
        fewer do not count); other reasons close it. A member may end only their own, and only as `quit`."""
        own = await _own(db_session, principal)
        if own is not None and data.reason != TermReason.QUIT:
            raise PermissionDeniedException("a member ends their own dispatch only as quit")
        dispatch = await DispatchRules(db_session).terminate(
            actor_of(principal),
            dispatch_id,
            reason=data.reason,
            end_date=data.end_date,
            days_worked=data.days_worked,
            note=data.note,
            member_id=own,
            now=utc_now(),
        )
        return dispatch_read(dispatch)

    @get(
        "/dispatches/{dispatch_id:uuid}/explain",
        operation_id="explainDispatch",
        summary="Why this member was dispatched: the fairness record",
        guards=[STAFF],
        responses=READ,
    )
    async def explain(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        dispatch_id: FromPath[UUID],
    ) -> DispatchExplained:
        """The book's out-of-work list as it stood just before the dispatch, rebuilt from the trace: who was
        ahead of the member and why each was passed over (exempt, a recorded skip, a member not active), the
        rule that picked the member, and anything the replay could not explain (`findings`)."""
        return await explain(db_session, principal.tenant.id, dispatch_id)

    @post(
        "/bids/{bid_id:uuid}/reject",
        operation_id="rejectBid",
        summary="Turn down the job an accepted bid won (rule 9)",
        guards=[ANYONE],
        status_code=HTTP_200_OK,
        responses=CHANGE,
    )
    async def reject_bid(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        bid_id: FromPath[UUID],
        data: Annotated[NoteRequest, note_body(NoteRequest)],
    ) -> BidRead:
        """The member is rolled off that book (`bid_reject_quit`), the dispatch ends and its place opens again;
        a second rejection within 12 months suspends the member's bidding for a year. A member may reject only
        their own."""
        own = await _own(db_session, principal)
        bid = await DispatchRules(db_session).reject_bid(
            actor_of(principal), bid_id, reason=data.reason, member_id=own, now=utc_now()
        )
        return bid_read(bid)
