"""Teams of the caller's club (role `admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.controllers._responses import CREATE, LIST, READ, WRITE
from app.club.models import Program, Team, Tier
from app.club.schemas import (
    TeamCreate,
    TeamRead,
    TeamUpdate,
    body,
)
from app.club.services import TeamService
from app.core.auth import Principal, requires_role
from app.core.filters import PAGING, Paging
from app.core.text import STORABLE_TEXT

__all__ = ["TeamController"]


async def provide_teams(db_session: NamedDependency[AsyncSession]) -> TeamService:
    return TeamService(session=db_session)


class TeamController(Controller):
    path = "/api/v1/admin/teams"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"teams": Provide(provide_teams), **PAGING}

    @get("/", operation_id="listTeams", summary="List teams", responses=LIST)
    async def list_teams(
        self,
        teams: NamedDependency[TeamService],
        principal: NamedDependency[Principal],
        paging: Paging,
        season: Annotated[
            str | None, QueryParameter(description="e.g. 2026-27", max_length=20, pattern=STORABLE_TEXT)
        ] = None,
        program: Annotated[Program | None, QueryParameter()] = None,
        tier: Annotated[Tier | None, QueryParameter()] = None,
    ) -> OffsetPagination[TeamRead]:
        """The club's teams by name, optionally for one season, program or tier."""
        wanted = {Team.season: season, Team.program: program, Team.tier: tier}
        clauses: list[ColumnElement[bool]] = [column == value for column, value in wanted.items() if value is not None]
        items, total = await teams.list_for(principal.tenant.id, clauses, paging)
        return teams.to_schema(items, total, filters=[paging], schema_type=TeamRead)

    @get("/{team_id:uuid}", operation_id="getTeam", summary="One team", responses=READ)
    async def get_team(
        self, teams: NamedDependency[TeamService], principal: NamedDependency[Principal], team_id: FromPath[UUID]
    ) -> TeamRead:
        """A team of the club (404 for another club's)."""
        return teams.to_schema(await teams.get_for(principal.tenant.id, team_id), schema_type=TeamRead)

    @post("/", operation_id="createTeam", summary="Create a team", responses=CREATE)
    async def create_team(
        self,
        teams: NamedDependency[TeamService],
        principal: NamedDependency[Principal],
        data: Annotated[
            TeamCreate,
            body(TeamCreate),
        ],
    ) -> TeamRead:
        """Team names are unique per season (409)."""
        return teams.to_schema(await teams.create_for(principal.tenant.id, data), schema_type=TeamRead)

    @patch("/{team_id:uuid}", operation_id="updateTeam", summary="Change a team", responses=WRITE)
    async def update_team(
        self,
        teams: NamedDependency[TeamService],
        principal: NamedDependency[Principal],
        team_id: FromPath[UUID],
        data: Annotated[
            TeamUpdate,
            body(TeamUpdate),
        ],
    ) -> TeamRead:
        """Only the fields sent change; `null` clears an optional field."""
        return teams.to_schema(await teams.update_for(principal.tenant.id, team_id, data), schema_type=TeamRead)

    @delete("/{team_id:uuid}", operation_id="deleteTeam", summary="Delete a team", responses=READ)
    async def delete_team(
        self, teams: NamedDependency[TeamService], principal: NamedDependency[Principal], team_id: FromPath[UUID]
    ) -> None:
        """Players stay; they are simply no longer on this team."""
        await teams.delete_for(principal.tenant.id, team_id)
