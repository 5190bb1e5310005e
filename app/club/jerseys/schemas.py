"""Jersey order DTOs: what a user submits, what staff change, what both read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from app.club.jerseys.models import JerseySize, OrderStatus
from app.club.models import Program, Tier
from app.core.openapi import RequestExamples
from app.core.text import EMAIL_PATTERN, STORABLE_TEXT

__all__ = [
    "JerseyOrderCreate",
    "JerseyOrderRead",
    "JerseyOrderSubmitted",
    "JerseyOrderUpdate",
    "LinkOutcome",
    "ReconcileResult",
    "Reconciliation",
]

PlayerName = Annotated[str, Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT, examples=["Avery Okafor"])]
Email = Annotated[str, Meta(max_length=255, pattern=EMAIL_PATTERN, examples=["dana@example.org"])]
JerseyNumber = Annotated[int, Meta(ge=0, le=99)]
Notes = Annotated[str, Meta(max_length=2000, pattern=STORABLE_TEXT)]


class _Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An unknown field is a 400 naming it (a ``submitter_keycloak_sub`` is never taken from a body)."""


class JerseyOrderCreate(_Input):
    player_name: PlayerName
    """Who the jersey is for (matched to the roster by name, ignoring case, spaces and accents)."""
    size: JerseySize
    kq: Program
    """``kings`` (boys' program) or ``queens`` (girls')."""
    tier: Tier
    jersey_number: JerseyNumber | None = None
    email: Email | None = None
    """Where the confirmation goes; the token's email when absent."""
    notes: Notes | None = None


class JerseyOrderUpdate(_Input):
    """Staff changes: absent fields stay. A status move must follow submitted → reconciled → paid → fulfilled
    (or → cancelled from any but fulfilled); links must name the club's own parent and player."""

    status: OrderStatus | UnsetType = UNSET
    parent_id: UUID | UnsetType | None = UNSET
    player_id: UUID | UnsetType | None = UNSET
    notes: Notes | UnsetType | None = UNSET


class JerseyOrderRead(msgspec.Struct, kw_only=True):
    id: UUID
    status: OrderStatus
    player_name: str
    jersey_number: int | None
    size: JerseySize
    kq: Program
    tier: Tier
    email: str
    notes: str | None
    parent_id: UUID | None
    player_id: UUID | None
    submitter_keycloak_sub: str
    created_at: datetime
    updated_at: datetime


class LinkOutcome(msgspec.Struct, kw_only=True):
    outcome: Literal["linked_by_sub", "linked_by_email", "linked_by_name", "kept", "ambiguous", "not_found"]
    detail: str


class Reconciliation(msgspec.Struct, kw_only=True):
    """How the order was matched to the roster, and why a link stayed empty."""

    parent: LinkOutcome
    player: LinkOutcome


class JerseyOrderSubmitted(msgspec.Struct, kw_only=True):
    order: JerseyOrderRead
    reconciliation: Reconciliation


class ReconcileResult(msgspec.Struct, kw_only=True):
    examined: int
    """Open orders (not fulfilled or cancelled) with a missing link."""
    linked: int
    """Of those, orders that gained a link."""
    remaining: int
    """Orders still missing a link after this call (call again for the next batch)."""
    orders: list[JerseyOrderSubmitted]


body = RequestExamples(
    {
        JerseyOrderCreate: Example(
            summary="A parent orders for their child",
            value={"player_name": "Avery Okafor", "size": "YM", "kq": "kings", "tier": "elite", "jersey_number": 7},
        ),
        JerseyOrderUpdate: Example(summary="Mark it paid", value={"status": "paid"}),
    }
)
"""The OpenAPI example of each request body (``Annotated[Model, body(Model)]``)."""
