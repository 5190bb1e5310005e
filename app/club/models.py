"""Club tables: ``teams``, ``parents``, ``players``, ``player_teams``, ``contract_audit_log`` and ``groupme_groups``.

Every table is tenant-owned (``tenant_id NOT NULL``, indexed); services filter by it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.base import UUIDAuditBase
from app.core.columns import enum_column
from app.tenants.models import Tenant

__all__ = [
    "AuditEvent",
    "AuditSource",
    "ContractAuditLog",
    "ContractStatus",
    "GroupMeGroupOwner",
    "Parent",
    "Player",
    "Program",
    "Team",
    "Tier",
    "player_teams",
]


class Program(StrEnum):
    KINGS = "kings"
    QUEENS = "queens"


class Tier(StrEnum):
    ELITE = "elite"
    SELECT = "select"
    DEVELOPMENT = "development"


class ContractStatus(StrEnum):
    NONE = "none"
    OFFERED = "offered"
    SIGNED = "signed"
    DECLINED = "declined"


class AuditEvent(StrEnum):
    OFFER = "offer"
    RE_OFFER = "re_offer"
    TIER_CHANGE = "tier_change"
    SIGNED = "signed"
    DECLINED = "declined"


class AuditSource(StrEnum):
    API = "api"
    CLI = "cli"
    PUBLIC_LINK = "public_link"


def _tenant_fk() -> Mapped[UUID]:
    return mapped_column(ForeignKey(Tenant.id), index=True)


player_teams = Table(
    "player_teams",
    DefaultBase.metadata,
    Column("player_id", ForeignKey("players.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class GroupMeGroupOwner(DefaultBase):
    """The one tenant a GroupMe group belongs to, recorded when a team of the tenant is first linked to it.

    The group id is the primary key, so no second tenant can record it; a team
    may only point at a group its own tenant owns (``fk_teams_groupme_group_owned``).
    """

    __tablename__ = "groupme_groups"
    __table_args__ = (
        # The target of the teams' (tenant_id, groupme_group_id) foreign key; also the tenant_id index.
        UniqueConstraint("tenant_id", "group_id", name="uq_groupme_groups_tenant_group"),
    )

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[UUID] = mapped_column(ForeignKey(Tenant.id, ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))


class Team(UUIDAuditBase):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("tenant_id", "season", "name", name="uq_teams_tenant_season_name"),
        CheckConstraint("monthly_fee >= 0", name="monthly_fee_not_negative"),
        ForeignKeyConstraint(
            ["tenant_id", "groupme_group_id"],
            [GroupMeGroupOwner.tenant_id, GroupMeGroupOwner.group_id],
            name="fk_teams_groupme_group_owned",
        ),
    )

    tenant_id: Mapped[UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    season: Mapped[str] = mapped_column(String(20))
    program: Mapped[Program | None] = mapped_column(enum_column(Program, "program"), nullable=True)
    tier: Mapped[Tier | None] = mapped_column(enum_column(Tier, "tier"), nullable=True)
    monthly_fee: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Cents."""
    groupme_group_id: Mapped[str | None] = mapped_column(String(64))
    """A GroupMe group the team's tenant owns (``groupme_groups``)."""
    groupme_share_url: Mapped[str | None] = mapped_column(String(500))


class Parent(UUIDAuditBase):
    __tablename__ = "parents"
    __table_args__ = (
        # An email belongs to one parent per tenant, whatever its case.
        Index("uq_parents_tenant_email", "tenant_id", func.lower(text("email")), unique=True),
    )

    tenant_id: Mapped[UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    keycloak_sub: Mapped[str | None] = mapped_column(String(255), index=True)


class Player(UUIDAuditBase):
    __tablename__ = "players"
    __table_args__ = (
        CheckConstraint("birth_year BETWEEN 1900 AND 2100", name="birth_year_plausible"),
        CheckConstraint("monthly_fee IS NULL OR monthly_fee >= 0", name="monthly_fee_not_negative"),
        CheckConstraint("contract_status <> 'offered' OR contract_token IS NOT NULL", name="offer_has_token"),
        CheckConstraint("contract_status <> 'signed' OR contract_signed_at IS NOT NULL", name="signed_has_time"),
    )

    tenant_id: Mapped[UUID] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey(Parent.id, ondelete="SET NULL"), index=True)
    contract_status: Mapped[ContractStatus] = mapped_column(
        enum_column(ContractStatus, "contract_status"), server_default=ContractStatus.NONE.value
    )
    contract_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    monthly_fee: Mapped[int | None] = mapped_column(Integer)
    contract_offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contract_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contract_signed_by: Mapped[str | None] = mapped_column(String(200))
    contract_signed_ip: Mapped[str | None] = mapped_column(String(45))
    contract_signature: Mapped[str | None] = mapped_column(String(500))
    """Where the signature PNG is stored (a file-storage path)."""
    contract_version: Mapped[str | None] = mapped_column(String(20))

    teams: Mapped[list[Team]] = relationship(secondary=player_teams, lazy="raise", order_by=Team.name)

    @property
    def team_ids(self) -> list[UUID]:
        """The ids of the player's teams (loaded with the player), as the API shows them."""
        return [team.id for team in self.teams]


class ContractAuditLog(DefaultBase):
    __tablename__ = "contract_audit_log"
    __table_args__ = (Index("ix_contract_audit_log_player_ts", "player_id", "ts"),)

    id: Mapped[UUID] = mapped_column(PG_UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    tenant_id: Mapped[UUID] = _tenant_fk()
    player_id: Mapped[UUID] = mapped_column(ForeignKey(Player.id, ondelete="CASCADE"))
    event_type: Mapped[AuditEvent] = mapped_column(enum_column(AuditEvent, "audit_event"))
    old_state: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new_state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    actor: Mapped[str] = mapped_column(Text, server_default=text("'admin'"))
    source: Mapped[AuditSource] = mapped_column(enum_column(AuditSource, "audit_source"))
