"""Request and response bodies of registrations and out-of-work lists (rules 1 to 6)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import Meta

from app.core.openapi import RequestExamples
from app.core.text import STORABLE_TEXT
from app.hall.models import ActivityAction, ExemptReason, RegistrationStatus, RollOffReason

__all__ = [
    "APN_TEXT",
    "ActivityRead",
    "CheckMarkRequest",
    "ExemptionExtension",
    "ExemptionRequest",
    "NoteRequest",
    "OutOfWorkEntry",
    "RegistrationCreate",
    "RegistrationImport",
    "RegistrationRead",
    "body",
]

Reason = Annotated[str, Meta(min_length=1, max_length=500, pattern=STORABLE_TEXT, examples=["missed the 07:30 call"])]


class _Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class RegistrationCreate(_Input):
    member_id: UUID
    """The member to put on the book; the APN is computed (rule 1)."""


APN_TEXT = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
"""An APN as the API takes it: a decimal string with at most two places (never a float)."""


class RegistrationImport(_Input):
    member_id: UUID
    applicant_priority_number: Annotated[str, Meta(pattern=APN_TEXT, examples=["40966.01"])]
    """The APN the registration had on the list it comes from: a string, e.g. "40966.01", at most two decimal
    places, from 0.01 to 99999999.99."""
    registered_at: datetime | None = None
    """When it was registered there (ties on the APN go by it); default now."""
    last_re_sign_at: datetime | None = None
    """Its last re-sign there: the re-sign period runs from it; default now."""


class CheckMarkRequest(_Input):
    reason: Reason
    labor_request_id: UUID | None = None
    """The request whose call was missed: a request that gives no check mark (rule 5) is refused."""


class NoteRequest(_Input):
    reason: Reason


class ExemptionRequest(_Input):
    reason: ExemptReason
    end: date
    """The last day (inclusive, the hall's calendar)."""
    start: date | None = None
    """The first day; default today. A later day plans the exemption, which begins on that day."""
    note: Annotated[str, Meta(max_length=500, pattern=STORABLE_TEXT)] | None = None


class ExemptionExtension(_Input):
    end: date
    reason: Reason


class RegistrationRead(msgspec.Struct, kw_only=True):
    id: UUID
    member_id: UUID
    book_id: UUID
    applicant_priority_number: Decimal
    """Encoded as a string with two decimal places: never a float."""
    registered_at: datetime
    status: RegistrationStatus
    position: int | None
    """The 1-based place on the out-of-work list now; null unless ``registered``."""
    last_re_sign_at: datetime | None
    re_sign_deadline: datetime
    check_marks: int
    last_check_mark_on: date | None
    short_call_restorations: int
    exempt_reason: ExemptReason | None
    exempt_start: date | None
    exempt_end: date | None
    roll_off_at: datetime | None
    roll_off_reason: RollOffReason | None
    created_at: datetime
    updated_at: datetime


class OutOfWorkEntry(msgspec.Struct, kw_only=True):
    position: int
    registration_id: UUID
    member_id: UUID
    member_number: str
    first_name: str
    last_name: str
    applicant_priority_number: Decimal
    registered_at: datetime
    re_sign_deadline: datetime
    check_marks: int


class ActivityRead(msgspec.Struct, kw_only=True):
    id: UUID
    seq: int
    registration_id: UUID
    member_id: UUID
    book_id: UUID
    action: ActivityAction
    previous_status: RegistrationStatus | None
    new_status: RegistrationStatus
    previous_position: int | None
    new_position: int | None
    labor_request_id: UUID | None
    dispatch_id: UUID | None
    reason: str | None
    performed_by: str
    at: datetime


body = RequestExamples(
    {
        RegistrationCreate: Example(
            summary="Put a member on the book", value={"member_id": "8a3c5d1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f"}
        ),
        RegistrationImport: Example(
            summary="Carry over a registration with its APN",
            value={
                "member_id": "8a3c5d1e-2f4b-4c6d-8e9f-0a1b2c3d4e5f",
                "applicant_priority_number": "40966.01",
                "registered_at": "2012-02-27T16:05:00Z",
            },
        ),
        CheckMarkRequest: Example(
            summary="A missed call", value={"reason": "no answer at 07:30 and 07:45", "labor_request_id": None}
        ),
        NoteRequest: Example(summary="Why", value={"reason": "member asked by phone to be taken off"}),
        ExemptionRequest: Example(
            summary="Jury duty for two weeks",
            value={"reason": "jury_duty", "start": "2026-12-07", "end": "2026-12-18", "note": "summons 26-4471"},
        ),
        ExemptionExtension: Example(
            summary="A longer stay abroad", value={"end": "2027-08-31", "reason": "contract extended by employer"}
        ),
    }
)
"""The OpenAPI example of each request body (``Annotated[Model, body(Model)]``)."""
