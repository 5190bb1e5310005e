"""Events the hall emits, each in the transaction of the change (rule 12).

Registration events have the aggregate ``registration`` (one registration's events arrive in order); a labor
request's, a bid's and a dispatch's have their own (``labor_request``, ``bid``, ``dispatch``)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.models import BookRegistration, DispatchMethod, DispatchType, RollOffReason, TermReason
from app.outbox import emit, register_event_type

__all__ = [
    "BID_ACCEPTED",
    "DISPATCH_CREATED",
    "DISPATCH_TERMINATED",
    "LABOR_REQUEST_CREATED",
    "REGISTRATION_CREATED",
    "REGISTRATION_RE_SIGN_DUE",
    "REGISTRATION_ROLLED_OFF",
    "BidAccepted",
    "DispatchCreated",
    "DispatchTerminated",
    "LaborRequestCreated",
    "RegistrationCreated",
    "RegistrationReSignDue",
    "RegistrationRolledOff",
    "emit_about",
]

REGISTRATION_CREATED = "registration.created"
REGISTRATION_ROLLED_OFF = "registration.rolled_off"
REGISTRATION_RE_SIGN_DUE = "registration.re_sign_due"

LABOR_REQUEST_CREATED = "labor_request.created"
BID_ACCEPTED = "bid.accepted"
DISPATCH_CREATED = "dispatch.created"
DISPATCH_TERMINATED = "dispatch.terminated"

AGGREGATE = "registration"


class _AboutRegistration(msgspec.Struct, kw_only=True):
    """What every registration event says first: which registration, whose, on which book."""

    registration_id: UUID
    tenant_id: UUID
    member_id: UUID
    book_id: UUID


class RegistrationCreated(_AboutRegistration, kw_only=True):
    applicant_priority_number: Decimal
    """Encoded as a string ("40966.01"): never a float."""
    registered_at: datetime
    position: int | None
    imported: bool


class RegistrationRolledOff(_AboutRegistration, kw_only=True):
    reason: RollOffReason
    previous_position: int | None
    """The place on the out-of-work list the member lost (null when they were not on it)."""


class RegistrationReSignDue(_AboutRegistration, kw_only=True):
    re_sign_deadline: datetime
    """Also the event's idempotency: one reminder per registration per deadline."""


class LaborRequestCreated(msgspec.Struct, kw_only=True):
    labor_request_id: UUID
    tenant_id: UUID
    request_number: str
    employer_id: UUID
    book_id: UUID
    workers_requested: int
    start_date: date
    start_time: time
    is_short_call: bool
    generates_check_mark: bool
    allows_online_bidding: bool


class BidAccepted(msgspec.Struct, kw_only=True):
    bid_id: UUID
    tenant_id: UUID
    labor_request_id: UUID
    member_id: UUID
    registration_id: UUID
    dispatch_id: UUID
    queue_position_at_bid: int | None


class DispatchCreated(msgspec.Struct, kw_only=True):
    """Also what the member's report-to email is sent for (the handler reads the dispatch fresh)."""

    dispatch_id: UUID
    tenant_id: UUID
    labor_request_id: UUID
    member_id: UUID
    registration_id: UUID
    employer_id: UUID
    method: DispatchMethod
    type: DispatchType
    start_date: date
    check_in_deadline: datetime | None
    position: int | None
    """The member's place on the out-of-work list when dispatched (null for a by-name or emergency dispatch of
    someone not on it)."""


class DispatchTerminated(msgspec.Struct, kw_only=True):
    dispatch_id: UUID
    tenant_id: UUID
    labor_request_id: UUID
    member_id: UUID
    registration_id: UUID
    employer_id: UUID
    reason: TermReason | None
    """Null for a no-show (rule 10: treated as a quit)."""
    no_show: bool
    days_worked: int | None


E = TypeVar("E", bound=_AboutRegistration)

register_event_type(REGISTRATION_CREATED, RegistrationCreated)
register_event_type(REGISTRATION_ROLLED_OFF, RegistrationRolledOff)
register_event_type(REGISTRATION_RE_SIGN_DUE, RegistrationReSignDue)
register_event_type(LABOR_REQUEST_CREATED, LaborRequestCreated)
register_event_type(BID_ACCEPTED, BidAccepted)
register_event_type(DISPATCH_CREATED, DispatchCreated)
register_event_type(DISPATCH_TERMINATED, DispatchTerminated)


def emit_about(
    session: AsyncSession, registration: BookRegistration, event_type: str, payload_type: type[E], **fields: object
) -> UUID:
    """Emit ``event_type`` about ``registration`` (its aggregate: one registration's events arrive in order), the
    payload's common fields taken from the registration and the rest from ``fields``."""
    return emit(
        session,
        aggregate_type=AGGREGATE,
        aggregate_id=registration.id,
        event_type=event_type,
        payload=payload_type(
            registration_id=registration.id,
            tenant_id=registration.tenant_id,
            member_id=registration.member_id,
            book_id=registration.book_id,
            **fields,
        ),
        tenant_id=registration.tenant_id,
    )
