"""Request and response bodies of labor requests, bids, dispatches and the fairness record (rules 7 to 11)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import Meta

from app.core.openapi import RequestExamples
from app.core.text import STORABLE_TEXT
from app.hall.models import (
    BidStatus,
    DispatchMethod,
    DispatchStatus,
    DispatchType,
    LaborRequestStatus,
    NoCheckMarkReason,
    RegistrationStatus,
    TermReason,
)

__all__ = [
    "BidRead",
    "BidsProcessed",
    "CheckInRequest",
    "DispatchCreate",
    "DispatchExplained",
    "DispatchRead",
    "ExplainedEntry",
    "LaborRequestCreate",
    "LaborRequestPatch",
    "LaborRequestRead",
    "ProcessBidsRequest",
    "SkipRead",
    "SkipRequest",
    "TerminateRequest",
    "body",
]

Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=STORABLE_TEXT, examples=["declined by phone"])]
Short = Annotated[str, Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)]
Address = Annotated[str, Meta(min_length=1, max_length=500, pattern=STORABLE_TEXT)]
Code = Annotated[str, Meta(min_length=1, max_length=40, pattern=STORABLE_TEXT)]
Notes = Annotated[str, Meta(max_length=2000, pattern=STORABLE_TEXT)]
Money = Annotated[str, Meta(pattern=r"^[0-9]{1,8}(\.[0-9]{1,2})?$", examples=["62.50"])]
"""A wage rate as the API takes it: a decimal string with at most two places (never a float)."""
Workers = Annotated[int, Meta(ge=1, le=500)]
Duration = Annotated[int, Meta(ge=1, le=3650)]


class _Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class LaborRequestCreate(_Input):
    employer_id: UUID
    book_id: UUID
    workers_requested: Workers
    start_date: date
    """The hall's calendar day the job starts."""
    start_time: time
    """The hall's wall time; before 06:00 the request gives no check marks (rule 5)."""
    estimated_duration_days: Duration
    """In working days (Monday to Friday): 10 or fewer make a short call (rule 7)."""
    is_specialty: bool = False
    is_mou_jobsite: bool = False
    is_under_scale: bool = False
    allows_online_bidding: bool = False
    """Members may bid online from 17:30 the day before the start date to 07:00 on it (rule 8); the book must
    take online bids."""
    worksite_name: Short | None = None
    worksite_address: Address | None = None
    report_to: Short | None = None
    wage_rate: Money | None = None
    contract_code: Code | None = None
    """Default: the book's contract."""
    notes: Notes | None = None


class LaborRequestPatch(_Input):
    """Only open requests are editable (rule 7); the derived fields follow the new values."""

    workers_requested: Workers | None = None
    start_date: date | None = None
    start_time: time | None = None
    estimated_duration_days: Duration | None = None
    is_specialty: bool | None = None
    is_mou_jobsite: bool | None = None
    is_under_scale: bool | None = None
    allows_online_bidding: bool | None = None
    worksite_name: Short | None = None
    worksite_address: Address | None = None
    report_to: Short | None = None
    wage_rate: Money | None = None
    contract_code: Code | None = None
    notes: Notes | None = None


class LaborRequestRead(msgspec.Struct, kw_only=True):
    id: UUID
    request_number: str
    employer_id: UUID
    book_id: UUID
    received_at: datetime
    counts_from: date
    """The hall's day the request counts from: the next working day when received after 15:00 (rule 7)."""
    workers_requested: int
    workers_dispatched: int
    start_date: date
    start_time: time
    estimated_duration_days: int
    is_short_call: bool
    generates_check_mark: bool
    no_check_mark_reason: NoCheckMarkReason | None
    is_specialty: bool
    is_mou_jobsite: bool
    is_under_scale: bool
    allows_online_bidding: bool
    bidding_opens_at: datetime | None
    bidding_closes_at: datetime | None
    worksite_name: str | None
    worksite_address: str | None
    report_to: str | None
    wage_rate: Decimal | None
    contract_code: str | None
    status: LaborRequestStatus
    notes: str | None
    created_at: datetime
    updated_at: datetime


class DispatchCreate(_Input):
    method: Literal["morning_referral", "by_name", "emergency"]
    """``morning_referral`` takes the first eligible registrant of the book; ``by_name`` and ``emergency`` send
    the named registrant and need a reason (rule 10)."""
    registration_id: UUID | None = None
    """The named registrant (by-name, emergency). For a morning referral, optional: the registrant the
    dispatcher expects to be next; if the queue has moved on, 409 and nothing is dispatched."""
    reason: Reason | None = None


class SkipRequest(_Input):
    registration_id: UUID
    reason: Reason
    """Why the registrant is passed over for this request, e.g. "declined by phone"."""


class ProcessBidsRequest(_Input):
    reason: Reason | None = None
    """Needed only to process before bidding closes (07:00 on the start date): it closes bidding now."""


class CheckInRequest(_Input):
    note: Annotated[str, Meta(max_length=500, pattern=STORABLE_TEXT)] | None = None


class TerminateRequest(_Input):
    reason: TermReason
    end_date: date | None = None
    """The last day worked; default today (the hall's day)."""
    days_worked: Annotated[int, Meta(ge=0, le=3650)] | None = None
    """Default: the working days from the start date through the end date."""
    note: Annotated[str, Meta(max_length=500, pattern=STORABLE_TEXT)] | None = None


class DispatchRead(msgspec.Struct, kw_only=True):
    id: UUID
    labor_request_id: UUID
    member_id: UUID
    registration_id: UUID
    bid_id: UUID | None
    employer_id: UUID
    dispatched_at: datetime
    method: DispatchMethod
    type: DispatchType
    status: DispatchStatus
    reason: str | None
    check_in_deadline: datetime | None
    checked_in_at: datetime | None
    start_date: date
    end_date: date | None
    term_reason: TermReason | None
    days_worked: int | None


class SkipRead(msgspec.Struct, kw_only=True):
    registration_id: UUID
    labor_request_id: UUID
    position: int
    """The registrant's place on the out-of-work list when passed over."""
    check_mark: bool
    """Whether the skip gave a check mark (rule 4: the request gives them, and none yet today)."""
    check_marks: int
    registration_status: RegistrationStatus


class BidRead(msgspec.Struct, kw_only=True):
    id: UUID
    labor_request_id: UUID
    member_id: UUID
    registration_id: UUID
    submitted_at: datetime
    queue_position_at_bid: int | None
    status: BidStatus
    dispatch_id: UUID | None
    rejected_by_member: bool
    rejection_reason: str | None


class BidsProcessed(msgspec.Struct, kw_only=True):
    labor_request_id: UUID
    accepted: list[BidRead]
    rejected: list[BidRead]
    workers_dispatched: int
    status: LaborRequestStatus


class ExplainedEntry(msgspec.Struct, kw_only=True):
    position: int | None
    """The place on the out-of-work list at the dispatch; null for a registrant not on it (exempt)."""
    registration_id: UUID
    member_id: UUID
    member_number: str
    applicant_priority_number: Decimal
    status: RegistrationStatus
    passed_over: str
    """Why this registrant ahead was not dispatched: the recorded skip's reason, or "exempt (...)"."""


class DispatchExplained(msgspec.Struct, kw_only=True):
    dispatch_id: UUID
    labor_request_id: UUID
    request_number: str
    book_id: UUID
    method: DispatchMethod
    registration_id: UUID
    member_id: UUID
    member_number: str
    applicant_priority_number: Decimal
    position: int | None
    """The member's place on the out-of-work list just before the dispatch (null if not on it)."""
    rule: str
    """The rule that picked this member."""
    ahead: list[ExplainedEntry]
    """Everyone ahead of the member by APN when dispatched (the first 200), and why each was passed over."""
    ahead_count: int
    """How many were ahead in all (on the list, and exempt ones with a lower APN)."""
    queue_length: int
    """How many were on the out-of-work list just before the dispatch."""
    findings: list[str]
    """What the replay of the book's trace could not explain up to this dispatch (empty when fair)."""


body = RequestExamples(
    {
        LaborRequestCreate: Example(
            summary="Two journeymen for a week",
            value={
                "employer_id": "3f1c5d1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f",
                "book_id": "8a3c5d1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f",
                "workers_requested": 2,
                "start_date": "2026-12-08",
                "start_time": "07:00:00",
                "estimated_duration_days": 5,
                "allows_online_bidding": True,
                "worksite_name": "Mission Bay Block 9",
                "worksite_address": "1450 Owens St, San Francisco",
                "report_to": "Dana Ruiz, general foreman",
                "wage_rate": "62.50",
            },
        ),
        LaborRequestPatch: Example(summary="One more worker", value={"workers_requested": 3}),
        DispatchCreate: Example(summary="The next on the book", value={"method": "morning_referral"}),
        SkipRequest: Example(
            summary="Declined on the phone",
            value={"registration_id": "8a3c5d1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f", "reason": "declined by phone"},
        ),
        ProcessBidsRequest: Example(summary="At 07:00", value={}),
        CheckInRequest: Example(summary="Checked in at the gate", value={"note": "checked in with the foreman"}),
        TerminateRequest: Example(
            summary="A short call ends",
            value={"reason": "short_call_end", "end_date": "2026-12-12", "note": "job done"},
        ),
    }
)
"""The OpenAPI example of each request body (``Annotated[Model, body(Model)]``)."""
