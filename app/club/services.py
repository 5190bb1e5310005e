"""Roster rules: everything is scoped to the caller's tenant; references must stay inside it."""

from __future__ import annotations

from typing import Generic, TypeVar
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from app.club.groupme import claim_groups
from app.club.models import ContractStatus, Parent, Player, Team, player_teams
from app.club.schemas import (
    ParentCreate,
    ParentUpdate,
    PlayerCreate,
    PlayerRead,
    PlayerUpdate,
    TeamCreate,
    TeamUpdate,
)
from app.core.errors import RuleViolationError, StateConflictError, constraint_messages
from app.core.services import TenantScopedService

__all__ = ["ParentService", "PlayerService", "TeamService", "player_read"]

ModelT = TypeVar("ModelT", Team, Parent, Player)


class _TenantScoped(TenantScopedService[ModelT], Generic[ModelT]):
    """The club's rows, by name."""

    async def _create(self, item: ModelT) -> ModelT:
        """Insert and commit through the repository: a key the row breaks is a 409 with the Repo's
        ``error_messages`` (app.core.errors maps advanced-alchemy's integrity errors)."""
        return await self.create(item, auto_commit=True, auto_expunge=True)

    async def _update(self, item: ModelT, changes: msgspec.Struct, *, skip: tuple[str, ...] = ()) -> None:
        """Apply the fields ``changes`` sets (absent ones stay) and commit through the repository's update."""
        self.apply(item, changes, skip=skip)
        await self.update(item, auto_commit=True, auto_expunge=True)


class TeamService(_TenantScoped[Team]):
    noun = "team"
    order = (Team.name.asc(),)

    class Repo(SQLAlchemyAsyncRepository[Team]):
        model_type = Team
        error_messages = constraint_messages(
            uq_teams_tenant_season_name="a team with this name already exists in this season",
            fk_teams_groupme_group_owned="the GroupMe group belongs to another club",
        )

    repository_type = Repo

    async def create_for(self, tenant_id: UUID, data: TeamCreate) -> Team:
        """Team names are unique per tenant and season (409); the GroupMe group must be the club's (see
        :meth:`_claim_group`)."""
        await self._claim_group(tenant_id, data.groupme_group_id)
        team = await self._create(Team(tenant_id=tenant_id, **msgspec.structs.asdict(data)))
        return await self.get_for(tenant_id, team.id)

    async def update_for(self, tenant_id: UUID, team_id: UUID, data: TeamUpdate) -> Team:
        """As :meth:`create_for`; absent fields stay as they are."""
        team = await self.get_for(tenant_id, team_id)
        if isinstance(data.groupme_group_id, str):
            await self._claim_group(tenant_id, data.groupme_group_id)
        await self._update(team, data)
        return await self.get_for(tenant_id, team_id)

    async def _claim_group(self, tenant_id: UUID, group_id: str | None) -> None:
        """A GroupMe group belongs to one club: one nobody owns becomes this club's (with the change), and
        another club's is refused (409), so no club can store, and then mail out, another's private chat."""
        if group_id is None:
            return
        if group_id not in await claim_groups(self.repository.session, tenant_id, [group_id]):
            await self.repository.session.rollback()
            raise StateConflictError(f"GroupMe group {group_id} belongs to another club")


class ParentService(_TenantScoped[Parent]):
    noun = "parent"
    order = (Parent.name.asc(),)

    class Repo(SQLAlchemyAsyncRepository[Parent]):
        model_type = Parent
        error_messages = constraint_messages(uq_parents_tenant_email="a parent with this email already exists")

    repository_type = Repo

    async def create_for(self, tenant_id: UUID, data: ParentCreate) -> Parent:
        """A parent's email is unique in the tenant, ignoring case (409)."""
        parent = await self._create(Parent(tenant_id=tenant_id, **msgspec.structs.asdict(data)))
        return await self.get_for(tenant_id, parent.id)

    async def update_for(self, tenant_id: UUID, parent_id: UUID, data: ParentUpdate) -> Parent:
        parent = await self.get_for(tenant_id, parent_id)
        await self._update(parent, data)
        return await self.get_for(tenant_id, parent_id)


class PlayerService(_TenantScoped[Player]):
    """Deleting a parent keeps their players (the database sets ``parent_id`` to null)."""

    noun = "player"
    order = (Player.name.asc(),)
    load = (selectinload(Player.teams),)

    class Repo(SQLAlchemyAsyncRepository[Player]):
        model_type = Player

    repository_type = Repo

    @staticmethod
    def filters(
        *,
        team_id: UUID | None = None,
        contract_status: ContractStatus | None = None,
        parent_id: UUID | None = None,
    ) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if team_id is not None:
            on_team = select(player_teams.c.player_id).where(player_teams.c.team_id == team_id)
            clauses.append(Player.id.in_(on_team))
        if contract_status is not None:
            clauses.append(Player.contract_status == contract_status)
        if parent_id is not None:
            clauses.append(Player.parent_id == parent_id)
        return clauses

    async def create_for(self, tenant_id: UUID, data: PlayerCreate) -> Player:
        """The parent and every team must belong to the tenant (else 422)."""
        await self._check_parent(tenant_id, data.parent_id)
        player = Player(tenant_id=tenant_id, name=data.name, birth_year=data.birth_year, parent_id=data.parent_id)
        player.teams = await self._teams(tenant_id, data.team_ids)
        player = await self._create(player)
        return await self.get_for(tenant_id, player.id)

    async def update_for(self, tenant_id: UUID, player_id: UUID, data: PlayerUpdate) -> Player:
        player = await self.get_for(tenant_id, player_id)
        if data.parent_id is not msgspec.UNSET:
            await self._check_parent(tenant_id, data.parent_id)
        if data.team_ids is not msgspec.UNSET:
            player.teams = await self._teams(tenant_id, data.team_ids)
        await self._update(player, data, skip=("team_ids",))
        return await self.get_for(tenant_id, player_id)

    async def _check_parent(self, tenant_id: UUID, parent_id: UUID | None) -> None:
        if parent_id is None:
            return
        found = await self.repository.session.scalar(
            select(Parent.id).where(Parent.id == parent_id, Parent.tenant_id == tenant_id)
        )
        if found is None:
            raise RuleViolationError(f"parent_id {parent_id} is not a parent of this club")

    async def _teams(self, tenant_id: UUID, team_ids: list[UUID]) -> list[Team]:
        wanted = list(dict.fromkeys(team_ids))
        if not wanted:
            return []
        teams = list(
            await self.repository.session.scalars(select(Team).where(Team.id.in_(wanted), Team.tenant_id == tenant_id))
        )
        unknown = sorted(str(team_id) for team_id in set(wanted) - {team.id for team in teams})
        if unknown:
            raise RuleViolationError(f"team_ids {', '.join(unknown)} are not teams of this club")
        return teams


def player_read(player: Player) -> PlayerRead:
    """A player as the API shows it: with its team ids (teams must be loaded)."""
    return msgspec.convert(player, PlayerRead, from_attributes=True)
