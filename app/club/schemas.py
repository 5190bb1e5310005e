"""Roster DTOs: ``XCreate``, ``XUpdate`` (every field optional; absent means unchanged) and ``X``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from app.club.models import AuditEvent, AuditSource, ContractStatus, Program, Tier
from app.core.openapi import RequestExamples
from app.core.text import EMAIL_PATTERN, STORABLE_TEXT, url_pattern

__all__ = [
    "TINY_PNG",
    "ContractAuditRead",
    "ContractTeam",
    "ContractView",
    "EmailBlastRecipient",
    "EmailBlastRequest",
    "EmailBlastResult",
    "MovedTeams",
    "OfferRequest",
    "OfferResponse",
    "ParentCreate",
    "ParentRead",
    "ParentUpdate",
    "PlayerCreate",
    "PlayerRead",
    "PlayerUpdate",
    "SignRequest",
    "TeamCreate",
    "TeamRead",
    "TeamUpdate",
    "body",
]

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)]
Season = Annotated[str, Meta(min_length=1, max_length=20, pattern=STORABLE_TEXT, examples=["2026-27"])]
Cents = Annotated[int, Meta(ge=0, le=100_000_000, description="Integer cents")]
Email = Annotated[str, Meta(max_length=255, pattern=EMAIL_PATTERN, examples=["dana@example.org"])]
Phone = Annotated[str, Meta(max_length=40, pattern=STORABLE_TEXT)]
BirthYear = Annotated[int, Meta(ge=1900, le=2100)]
GroupId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
ShareUrl = Annotated[str, Meta(max_length=500, pattern=url_pattern("https?"))]
Sub = Annotated[str, Meta(max_length=255, pattern=STORABLE_TEXT)]


class _Input(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class TeamCreate(_Input):
    name: Name
    season: Season
    program: Program | None = None
    tier: Tier | None = None
    monthly_fee: Cents = 0
    groupme_group_id: GroupId | None = None
    groupme_share_url: ShareUrl | None = None


class TeamUpdate(_Input):
    name: Name | UnsetType = UNSET
    season: Season | UnsetType = UNSET
    program: Program | UnsetType | None = UNSET
    tier: Tier | UnsetType | None = UNSET
    monthly_fee: Cents | UnsetType = UNSET
    groupme_group_id: GroupId | UnsetType | None = UNSET
    groupme_share_url: ShareUrl | UnsetType | None = UNSET


class TeamRead(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    season: str
    program: Program | None
    tier: Tier | None
    monthly_fee: int
    groupme_group_id: str | None
    groupme_share_url: str | None
    created_at: datetime
    updated_at: datetime


class ParentCreate(_Input):
    name: Name
    email: Email
    phone: Phone | None = None
    keycloak_sub: Sub | None = None


class ParentUpdate(_Input):
    name: Name | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    keycloak_sub: Sub | UnsetType | None = UNSET


class ParentRead(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    email: str
    phone: str | None
    keycloak_sub: str | None
    created_at: datetime
    updated_at: datetime


class PlayerCreate(_Input):
    name: Name
    birth_year: BirthYear | None = None
    parent_id: UUID | None = None
    team_ids: list[UUID] = msgspec.field(default_factory=list)


class PlayerUpdate(_Input):
    name: Name | UnsetType = UNSET
    birth_year: BirthYear | UnsetType | None = UNSET
    parent_id: UUID | UnsetType | None = UNSET
    team_ids: list[UUID] | UnsetType = UNSET


class PlayerRead(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    birth_year: int | None
    parent_id: UUID | None
    team_ids: list[UUID]
    contract_status: ContractStatus
    monthly_fee: int | None
    contract_offered_at: datetime | None
    contract_signed_at: datetime | None
    contract_version: str | None
    created_at: datetime
    updated_at: datetime


class OfferRequest(_Input):
    player_id: UUID
    monthly_fee: Annotated[int, Meta(gt=0, le=100_000_000, description="Integer cents, more than 0")]
    target_team_id: UUID | None = None


class MovedTeams(msgspec.Struct, kw_only=True):
    from_team_ids: list[UUID]
    to_team_ids: list[UUID]


class OfferResponse(msgspec.Struct, kw_only=True):
    player_id: UUID
    previous_status: ContractStatus
    new_status: ContractStatus
    contract_url: str
    """The signing link for the parent; any earlier link no longer works."""
    moved_teams: MovedTeams | None
    previous_signed_state_archived: bool
    actor: str


class ContractAuditRead(msgspec.Struct, kw_only=True):
    id: UUID
    ts: datetime
    event_type: AuditEvent
    old_state: dict[str, Any] | None
    new_state: dict[str, Any]
    actor: str
    source: AuditSource


class SignRequest(_Input):
    signed_by: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=200,
            pattern=r"^[^\x00-\x1f\x7f]+$",
            description="The signing parent's full name (no control characters)",
        ),
    ]
    contract_version: Annotated[str, Meta(min_length=1, max_length=20, pattern=STORABLE_TEXT)]
    accept_terms: bool
    signature_png: str | None = None
    """The drawn signature: a base64 PNG (a data: URL is fine), at most 512 KiB, 2000x1000 pixels, 8 bits a sample."""


class ContractTeam(msgspec.Struct, kw_only=True):
    name: str
    season: str


class ContractClub(msgspec.Struct, kw_only=True):
    """The club asking for the signature, as its signing page shows it."""

    name: str
    brand_color: str | None
    """``#rrggbb``."""
    logo_url: str | None
    """An https URL."""


class ContractView(msgspec.Struct, kw_only=True):
    """What the parent is asked to sign (the public link's page)."""

    club: ContractClub
    player_name: str
    teams: list[ContractTeam]
    season: str | None
    monthly_fee: int | None
    """In cents."""
    contract_version: str
    status: ContractStatus


class EmailBlastRequest(_Input):
    audience: Literal["unsigned_contracts"] = msgspec.field(default="unsigned_contracts")
    """Who gets it: ``unsigned_contracts`` = the parents of players whose contract is ``offered``."""
    team_id: UUID | None = None
    """Only players of this team."""
    subject_template: Annotated[str, Meta(min_length=1, max_length=300, pattern=STORABLE_TEXT)] | None = None
    """Text with the placeholders ``{{ club_name }}``, ``{{ parent_name }}`` and ``{{ player_names }}`` only (no
    expressions, tags or filters); at most 200 characters once rendered. A default subject otherwise."""
    dry_run: bool = False
    """List the recipients and write nothing."""


class EmailBlastRecipient(msgspec.Struct, kw_only=True):
    parent_id: UUID
    name: str
    email: str
    player_ids: list[UUID]
    player_names: list[str]


class EmailBlastResult(msgspec.Struct, kw_only=True):
    blast_id: UUID | None
    """Set when emails were queued (every one of the blast's outbox events carries it)."""
    dry_run: bool
    recipient_count: int
    players_without_parent: int
    """Players with an open offer whom nobody can be emailed about."""
    recipients: list[EmailBlastRecipient] | None
    """The recipients on a dry run; null otherwise."""


TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
"""A 1x1 PNG, for the examples."""

body = RequestExamples(
    {
        TeamCreate: Example(
            summary="An elite boys' team",
            value={
                "name": "U12 Kings Elite",
                "season": "2026-27",
                "program": "kings",
                "tier": "elite",
                "monthly_fee": 12500,
            },
        ),
        TeamUpdate: Example(
            summary="Add the GroupMe link", value={"groupme_share_url": "https://groupme.com/join_group/1/abc"}
        ),
        ParentCreate: Example(
            summary="A parent", value={"name": "Dana Rivera", "email": "dana@example.org", "phone": "+1 555 0100"}
        ),
        ParentUpdate: Example(summary="New phone", value={"phone": "+1 555 0199"}),
        PlayerCreate: Example(
            summary="A player on one team",
            value={"name": "Sam Rivera", "birth_year": 2014, "parent_id": None, "team_ids": []},
        ),
        PlayerUpdate: Example(summary="Move to no team", value={"team_ids": []}),
        OfferRequest: Example(
            summary="Offer at $125.00 a month on a new team",
            value={
                "player_id": "0b7c6f43-4f51-4a8e-9d0a-5f8b2e1c9a10",
                "monthly_fee": 12500,
                "target_team_id": "5d1e2f3a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
            },
        ),
        EmailBlastRequest: Example(
            summary="Remind one team's parents, trying it first",
            value={
                "audience": "unsigned_contracts",
                "team_id": "5d1e2f3a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
                "subject_template": "{{ club_name }}: please sign {{ player_names }}'s contract",
                "dry_run": True,
            },
        ),
        SignRequest: Example(
            summary="A parent signs",
            value={
                "signed_by": "Dana Rivera",
                "signature_png": TINY_PNG,
                "contract_version": "2026-1",
                "accept_terms": True,
            },
        ),
    }
)
"""The OpenAPI example of each request body, beside its schema (``Annotated[Model, body(Model)]``)."""
