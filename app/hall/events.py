"""Events the hall emits (aggregate ``registration``), each in the transaction of the change (rule 12)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.models import BookRegistration, RollOffReason
from app.outbox import emit, register_event_type

__all__ = [
    "REGISTRATION_CREATED",
    "REGISTRATION_RE_SIGN_DUE",
    "REGISTRATION_ROLLED_OFF",
    "RegistrationCreated",
    "RegistrationReSignDue",
    "RegistrationRolledOff",
    "emit_about",
]

REGISTRATION_CREATED = "registration.created"
REGISTRATION_ROLLED_OFF = "registration.rolled_off"
REGISTRATION_RE_SIGN_DUE = "registration.re_sign_due"

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


E = TypeVar("E", bound=_AboutRegistration)

register_event_type(REGISTRATION_CREATED, RegistrationCreated)
register_event_type(REGISTRATION_ROLLED_OFF, RegistrationRolledOff)
register_event_type(REGISTRATION_RE_SIGN_DUE, RegistrationReSignDue)


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
