"""Players of the caller's club (role `admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.contracts import ContractService
from app.club.controllers._responses import CREATE, LIST, READ, WRITE
from app.club.models import ContractStatus
from app.club.schemas import (
    ContractAuditRead,
    PlayerCreate,
    PlayerRead,
    PlayerUpdate,
    body,
)
from app.club.services import PlayerService, player_read
from app.core.auth import Principal, requires_role
from app.core.filters import PAGING, Paging, contains
from app.core.text import STORABLE_TEXT

__all__ = ["PlayerController"]


async def provide_players(db_session: NamedDependency[AsyncSession]) -> PlayerService:
    return PlayerService(session=db_session)


class PlayerController(Controller):
    path = "/api/v1/admin/players"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"players": Provide(provide_players), **PAGING}

    @get("/", operation_id="listPlayers", summary="List players", responses=LIST)
    async def list_players(
        self,
        players: NamedDependency[PlayerService],
        principal: NamedDependency[Principal],
        paging: Paging,
        team_id: Annotated[UUID | None, QueryParameter()] = None,
        contract_status: Annotated[ContractStatus | None, QueryParameter()] = None,
        parent_id: Annotated[UUID | None, QueryParameter()] = None,
        name: Annotated[
            str | None, QueryParameter(description="Part of the name, any case", max_length=200, pattern=STORABLE_TEXT)
        ] = None,
    ) -> OffsetPagination[PlayerRead]:
        """The club's players by name, with their team ids and contract status."""
        clauses = players.filters(team_id=team_id, contract_status=contract_status, parent_id=parent_id)
        items, total = await players.list_for(principal.tenant.id, clauses, *contains("name", name), paging)
        return players.to_schema(items, total, filters=[paging], schema_type=PlayerRead)

    @get("/{player_id:uuid}", operation_id="getPlayer", summary="One player", responses=READ)
    async def get_player(
        self, players: NamedDependency[PlayerService], principal: NamedDependency[Principal], player_id: FromPath[UUID]
    ) -> PlayerRead:
        """A player of the club (404 for another club's)."""
        return player_read(await players.get_for(principal.tenant.id, player_id))

    @post("/", operation_id="createPlayer", summary="Create a player", responses=CREATE)
    async def create_player(
        self,
        players: NamedDependency[PlayerService],
        principal: NamedDependency[Principal],
        data: Annotated[
            PlayerCreate,
            body(PlayerCreate),
        ],
    ) -> PlayerRead:
        """The parent and teams must be the club's own (422 otherwise)."""
        return player_read(await players.create_for(principal.tenant.id, data))

    @patch("/{player_id:uuid}", operation_id="updatePlayer", summary="Change a player", responses=WRITE)
    async def update_player(
        self,
        players: NamedDependency[PlayerService],
        principal: NamedDependency[Principal],
        player_id: FromPath[UUID],
        data: Annotated[PlayerUpdate, body(PlayerUpdate)],
    ) -> PlayerRead:
        """Only the fields sent change; `team_ids` replaces the whole list."""
        return player_read(await players.update_for(principal.tenant.id, player_id, data))

    @get(
        "/{player_id:uuid}/contract-audit",
        operation_id="getPlayerContractAudit",
        summary="A player's contract history",
        responses=READ,
    )
    async def contract_audit(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        player_id: FromPath[UUID],
    ) -> list[ContractAuditRead]:
        """Every offer, re-offer, tier change, signature and decline, newest first."""
        rows = await ContractService(db_session).audit(principal.tenant.id, player_id)
        return [msgspec.convert(row, ContractAuditRead, from_attributes=True) for row in rows]

    @delete("/{player_id:uuid}", operation_id="deletePlayer", summary="Delete a player", responses=READ)
    async def delete_player(
        self, players: NamedDependency[PlayerService], principal: NamedDependency[Principal], player_id: FromPath[UUID]
    ) -> None:
        """The player and their contract audit go."""
        await players.delete_for(principal.tenant.id, player_id)
