"""The hall's master data DTOs: ``XCreate``, ``XUpdate`` (every field optional; absent means unchanged) and ``XRead``.

The bounds are the database's: a column's length, and a referral book's CHECKs (book number, re-sign days,
grace days, check marks), so a value the database would refuse is a 400 naming the field.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from app.core.openapi import RequestExamples
from app.core.text import EMAIL_PATTERN, STORABLE_TEXT
from app.hall.models import BookClassification, MemberClassification, MemberStatus

__all__ = [
    "BookCreate",
    "BookRead",
    "BookUpdate",
    "EmployerCreate",
    "EmployerRead",
    "EmployerUpdate",
    "MemberCreate",
    "MemberRead",
    "MemberUpdate",
    "body",
]


def _text(max_length: int, *examples: str) -> Meta:
    return Meta(min_length=1, max_length=max_length, pattern=STORABLE_TEXT, examples=list(examples) or None)


MemberNumber = Annotated[str, _text(20, "A-10452")]
PersonName = Annotated[str, _text(100)]
Email = Annotated[str, Meta(max_length=255, pattern=EMAIL_PATTERN, examples=["pat.nguyen@example.org"])]
Phone = Annotated[str, Meta(max_length=40, pattern=STORABLE_TEXT)]
Sub = Annotated[str, _text(255)]
EmployerName = Annotated[str, _text(200, "Bayside Electric Inc.")]
ContractCode = Annotated[str, _text(40, "STOCKPERSON")]
BookName = Annotated[str, _text(100, "Stockman")]
BookCode = Annotated[str, _text(20, "STOCK-1")]
Region = Annotated[str, _text(100, "Bay Area")]
BookNumber = Annotated[int, Meta(ge=1, le=4, description="1 = the local's own members, dispatched first")]
ReSignDays = Annotated[int, Meta(ge=1, le=365, description="Days between re-signs (rule 3)")]
GraceDays = Annotated[int, Meta(ge=0, le=90, description="Days after the re-sign deadline before a roll-off")]
MaxCheckMarks = Annotated[int, Meta(ge=0, le=10, description="The mark after these rolls a registration off")]
ClockTime = Annotated[time, Meta(tz=False, description="A time of day in the hall's timezone, `HH:MM:SS`")]


class _Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An unknown field is a 400 naming it (``created_by`` is the caller, never taken from a body)."""


class MemberCreate(_Input):
    member_number: MemberNumber
    """Unique in the hall (409)."""
    first_name: PersonName
    last_name: PersonName
    classification: MemberClassification
    status: MemberStatus = MemberStatus.ACTIVE
    email: Email | None = None
    phone: Phone | None = None
    keycloak_sub: Sub | None = None
    """The member's login (their token's ``sub``); unique in the hall (409)."""


class MemberUpdate(_Input):
    member_number: MemberNumber | UnsetType = UNSET
    first_name: PersonName | UnsetType = UNSET
    last_name: PersonName | UnsetType = UNSET
    classification: MemberClassification | UnsetType = UNSET
    status: MemberStatus | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    keycloak_sub: Sub | UnsetType | None = UNSET


class MemberRead(msgspec.Struct, kw_only=True):
    id: UUID
    member_number: str
    first_name: str
    last_name: str
    classification: MemberClassification
    status: MemberStatus
    email: str | None
    phone: str | None
    keycloak_sub: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class EmployerCreate(_Input):
    name: EmployerName
    contract_code: ContractCode | None = None


class EmployerUpdate(_Input):
    name: EmployerName | UnsetType = UNSET
    contract_code: ContractCode | UnsetType | None = UNSET


class EmployerRead(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    contract_code: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class BookCreate(_Input):
    name: BookName
    code: BookCode
    """Unique in the hall (409)."""
    classification: BookClassification
    region: Region
    book_number: BookNumber
    contract_code: ContractCode | None = None
    """The agreement the book's jobs fall under, not its name; none for tradeshow and TERO books."""
    referral_start_time: ClockTime = time(8, 0)
    re_sign_days: ReSignDays = 30
    grace_period_days: GraceDays = 3
    max_check_marks: MaxCheckMarks = 2
    is_active: bool = True
    internet_bidding_enabled: bool = False


class BookUpdate(_Input):
    name: BookName | UnsetType = UNSET
    code: BookCode | UnsetType = UNSET
    classification: BookClassification | UnsetType = UNSET
    region: Region | UnsetType = UNSET
    book_number: BookNumber | UnsetType = UNSET
    contract_code: ContractCode | UnsetType | None = UNSET
    referral_start_time: ClockTime | UnsetType = UNSET
    re_sign_days: ReSignDays | UnsetType = UNSET
    grace_period_days: GraceDays | UnsetType = UNSET
    max_check_marks: MaxCheckMarks | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    """``false`` closes the book to new registrations and keeps its history (a book with registrations cannot
    be deleted)."""
    internet_bidding_enabled: bool | UnsetType = UNSET


class BookRead(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    code: str
    classification: BookClassification
    region: str
    book_number: int
    contract_code: str | None
    referral_start_time: time
    re_sign_days: int
    grace_period_days: int
    max_check_marks: int
    is_active: bool
    internet_bidding_enabled: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


body = RequestExamples(
    {
        MemberCreate: Example(
            summary="A journeyman with a login",
            value={
                "member_number": "A-10452",
                "first_name": "Pat",
                "last_name": "Nguyen",
                "classification": "journeyman",
                "email": "pat.nguyen@example.org",
                "phone": "+1 555 0142",
                "keycloak_sub": "5b0f7c1e-2d4a-4f3b-9c8e-1a2b3c4d5e6f",
            },
        ),
        MemberUpdate: Example(summary="Retire a member", value={"status": "retired", "classification": "retiree"}),
        EmployerCreate: Example(
            summary="A signatory contractor", value={"name": "Bayside Electric Inc.", "contract_code": "INSIDE"}
        ),
        EmployerUpdate: Example(summary="No contract on file", value={"contract_code": None}),
        BookCreate: Example(
            summary="The Stockman book, under the Stockperson agreement",
            value={
                "name": "Stockman",
                "code": "STOCK-1",
                "classification": "stockperson",
                "region": "Bay Area",
                "book_number": 1,
                "contract_code": "STOCKPERSON",
                "referral_start_time": "08:00:00",
                "re_sign_days": 30,
                "grace_period_days": 3,
                "max_check_marks": 2,
            },
        ),
        BookUpdate: Example(summary="Close a book instead of deleting it", value={"is_active": False}),
    }
)
"""The OpenAPI example of each request body, beside its schema (``Annotated[Model, body(Model)]``)."""
