"""Events the hall emits (aggregate ``registration``), each in the transaction of the change (rule 12)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from app.hall.models import RollOffReason
from app.outbox import register_event_type

__all__ = [
    "REGISTRATION_CREATED",
    "REGISTRATION_RE_SIGN_DUE",
    "REGISTRATION_ROLLED_OFF",
    "RegistrationCreated",
    "RegistrationReSignDue",
    "RegistrationRolledOff",
]

REGISTRATION_CREATED = "registration.created"
REGISTRATION_ROLLED_OFF = "registration.rolled_off"
REGISTRATION_RE_SIGN_DUE = "registration.re_sign_due"

AGGREGATE = "registration"


class RegistrationCreated(msgspec.Struct, kw_only=True):
    registration_id: UUID
    tenant_id: UUID
    member_id: UUID
    book_id: UUID
    applicant_priority_number: Decimal
    """Encoded as a string ("40966.01"): never a float."""
    registered_at: datetime
    position: int | None
    imported: bool


class RegistrationRolledOff(msgspec.Struct, kw_only=True):
    registration_id: UUID
    tenant_id: UUID
    member_id: UUID
    book_id: UUID
    reason: RollOffReason
    previous_position: int | None
    """The place on the out-of-work list the member lost (null when they were not on it)."""


class RegistrationReSignDue(msgspec.Struct, kw_only=True):
    registration_id: UUID
    tenant_id: UUID
    member_id: UUID
    book_id: UUID
    re_sign_deadline: datetime
    """Also the event's idempotency: one reminder per registration per deadline."""


register_event_type(REGISTRATION_CREATED, RegistrationCreated)
register_event_type(REGISTRATION_ROLLED_OFF, RegistrationRolledOff)
register_event_type(REGISTRATION_RE_SIGN_DUE, RegistrationReSignDue)
