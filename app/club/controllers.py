"""Roster admin API: teams, parents and players of the caller's club (role `admin`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import Body, BodyKwarg, FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.contracts import ContractService, Offer, contract_link
from app.club.models import AuditSource, ContractStatus, Parent, Program, Team, Tier
from app.club.notifications import EmailBlastService
from app.club.schemas import (
    ContractAuditRead,
    EmailBlastRecipient,
    EmailBlastRequest,
    EmailBlastResult,
    MovedTeams,
    OfferRequest,
    OfferResponse,
    ParentCreate,
    ParentRead,
    ParentUpdate,
    PlayerCreate,
    PlayerRead,
    PlayerUpdate,
    TeamCreate,
    TeamRead,
    TeamUpdate,
)
from app.club.services import ParentService, PlayerService, TeamService, player_read
from app.config import Settings
from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses
from app.core.query import Limit, Offset
from app.core.text import STORABLE_TEXT

__all__ = ["ContractController", "ParentController", "PlayerController", "TeamController"]

LIST = problem_responses(400, 401, 403)
READ = problem_responses(400, 401, 403, 404)
CREATE = problem_responses(400, 401, 403, 409, 413, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)


def _body(model: type, summary: str, value: dict[str, object]) -> BodyKwarg:
    """The body's OpenAPI title and example."""
    body: BodyKwarg = Body(title=model.__name__, examples=[Example(summary=summary, value=value)])
    return body


async def provide_teams(db_session: NamedDependency[AsyncSession]) -> TeamService:
    return TeamService(session=db_session)


async def provide_parents(db_session: NamedDependency[AsyncSession]) -> ParentService:
    return ParentService(session=db_session)


async def provide_players(db_session: NamedDependency[AsyncSession]) -> PlayerService:
    return PlayerService(session=db_session)


class TeamController(Controller):
    path = "/api/v1/admin/teams"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"teams": Provide(provide_teams)}

    @get("/", operation_id="listTeams", summary="List teams", responses=LIST)
    async def list_teams(
        self,
        teams: NamedDependency[TeamService],
        principal: NamedDependency[Principal],
        season: Annotated[
            str | None, QueryParameter(description="e.g. 2026-27", max_length=20, pattern=STORABLE_TEXT)
        ] = None,
        program: Annotated[Program | None, QueryParameter()] = None,
        tier: Annotated[Tier | None, QueryParameter()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[TeamRead]:
        """The club's teams by name, optionally for one season, program or tier."""
        wanted = {Team.season: season, Team.program: program, Team.tier: tier}
        clauses: list[ColumnElement[bool]] = [column == value for column, value in wanted.items() if value is not None]
        items, total = await teams.list_for(principal.tenant.id, clauses, limit=limit, offset=offset)
        return OffsetPagination(
            items=[teams.to_schema(item, schema_type=TeamRead) for item in items],
            total=total,
            limit=limit,
            offset=offset,
        )

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
            _body(
                TeamCreate,
                "An elite boys' team",
                {
                    "name": "U12 Kings Elite",
                    "season": "2026-27",
                    "program": "kings",
                    "tier": "elite",
                    "monthly_fee": 12500,
                },
            ),
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
            _body(TeamUpdate, "Add the GroupMe link", {"groupme_share_url": "https://groupme.com/join_group/1/abc"}),
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


class ParentController(Controller):
    path = "/api/v1/admin/parents"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"parents": Provide(provide_parents)}

    @get("/", operation_id="listParents", summary="List parents", responses=LIST)
    async def list_parents(
        self,
        parents: NamedDependency[ParentService],
        principal: NamedDependency[Principal],
        email: Annotated[
            str | None, QueryParameter(description="Exact, any case", max_length=255, pattern=STORABLE_TEXT)
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[ParentRead]:
        """The club's parents by name."""
        clauses = [] if email is None else [Parent.email.ilike(email.replace("%", r"\%").replace("_", r"\_"))]
        items, total = await parents.list_for(principal.tenant.id, clauses, limit=limit, offset=offset)
        return OffsetPagination(
            items=[parents.to_schema(item, schema_type=ParentRead) for item in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get("/{parent_id:uuid}", operation_id="getParent", summary="One parent", responses=READ)
    async def get_parent(
        self, parents: NamedDependency[ParentService], principal: NamedDependency[Principal], parent_id: FromPath[UUID]
    ) -> ParentRead:
        """A parent of the club (404 for another club's)."""
        return parents.to_schema(await parents.get_for(principal.tenant.id, parent_id), schema_type=ParentRead)

    @post("/", operation_id="createParent", summary="Create a parent", responses=CREATE)
    async def create_parent(
        self,
        parents: NamedDependency[ParentService],
        principal: NamedDependency[Principal],
        data: Annotated[
            ParentCreate,
            _body(
                ParentCreate, "A parent", {"name": "Dana Rivera", "email": "dana@example.org", "phone": "+1 555 0100"}
            ),
        ],
    ) -> ParentRead:
        """Emails are unique in the club, ignoring case (409)."""
        return parents.to_schema(await parents.create_for(principal.tenant.id, data), schema_type=ParentRead)

    @patch("/{parent_id:uuid}", operation_id="updateParent", summary="Change a parent", responses=WRITE)
    async def update_parent(
        self,
        parents: NamedDependency[ParentService],
        principal: NamedDependency[Principal],
        parent_id: FromPath[UUID],
        data: Annotated[ParentUpdate, _body(ParentUpdate, "New phone", {"phone": "+1 555 0199"})],
    ) -> ParentRead:
        """Only the fields sent change."""
        return parents.to_schema(await parents.update_for(principal.tenant.id, parent_id, data), schema_type=ParentRead)

    @delete("/{parent_id:uuid}", operation_id="deleteParent", summary="Delete a parent", responses=READ)
    async def delete_parent(
        self, parents: NamedDependency[ParentService], principal: NamedDependency[Principal], parent_id: FromPath[UUID]
    ) -> None:
        """Their players stay, without a parent."""
        await parents.delete_for(principal.tenant.id, parent_id)


class PlayerController(Controller):
    path = "/api/v1/admin/players"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"players": Provide(provide_players)}

    @get("/", operation_id="listPlayers", summary="List players", responses=LIST)
    async def list_players(
        self,
        players: NamedDependency[PlayerService],
        principal: NamedDependency[Principal],
        team_id: Annotated[UUID | None, QueryParameter()] = None,
        contract_status: Annotated[ContractStatus | None, QueryParameter()] = None,
        parent_id: Annotated[UUID | None, QueryParameter()] = None,
        name: Annotated[
            str | None, QueryParameter(description="Part of the name, any case", max_length=200, pattern=STORABLE_TEXT)
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[PlayerRead]:
        """The club's players by name, with their team ids and contract status."""
        clauses = players.filters(team_id=team_id, contract_status=contract_status, parent_id=parent_id, name=name)
        items, total = await players.list_for(principal.tenant.id, clauses, limit=limit, offset=offset)
        return OffsetPagination(items=[player_read(item) for item in items], total=total, limit=limit, offset=offset)

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
            _body(
                PlayerCreate,
                "A player on one team",
                {"name": "Sam Rivera", "birth_year": 2014, "parent_id": None, "team_ids": []},
            ),
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
        data: Annotated[PlayerUpdate, _body(PlayerUpdate, "Move to no team", {"team_ids": []})],
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


class ContractController(Controller):
    path = "/api/v1/admin/contracts"
    tags = ["contracts"]
    guards = [requires_role("admin")]

    @post(
        "/offer",
        operation_id="offerContract",
        summary="Offer a player's contract",
        status_code=HTTP_200_OK,
        responses=WRITE,
    )
    async def offer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[
            OfferRequest,
            _body(
                OfferRequest,
                "Offer at $125.00 a month on a new team",
                {
                    "player_id": "0b7c6f43-4f51-4a8e-9d0a-5f8b2e1c9a10",
                    "monthly_fee": 12500,
                    "target_team_id": "5d1e2f3a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
                },
            ),
        ],
        force: Annotated[bool, QueryParameter(description="Re-offer an open offer with a new link")] = False,
    ) -> OfferResponse:
        """none/declined → offered; offered → 409 unless `force`; signed → needs a new `target_team_id` (422),
        archives the signed contract in the audit and re-offers. Returns the new signing link."""
        settings: Settings = request.app.state.settings
        result = await ContractService(db_session).offer(
            principal.tenant.id,
            Offer(data.player_id, data.monthly_fee, data.target_team_id, force),
            actor=principal.actor,
            source=AuditSource.API,
        )
        moved = (
            MovedTeams(from_team_ids=result.moved_from_team_ids or [], to_team_ids=result.moved_to_team_ids or [])
            if result.moved_to_team_ids is not None
            else None
        )
        return OfferResponse(
            player_id=result.player_id,
            previous_status=result.previous_status,
            new_status=result.new_status,
            contract_url=contract_url(settings, result.token),
            moved_teams=moved,
            previous_signed_state_archived=result.previous_signed_state_archived,
            actor=result.actor,
        )


def contract_url(settings: Settings, token: str) -> str:
    """The parent's signing link, built from CONTRACT_LINK_URL."""
    return contract_link(settings.server.contract_link_url, token)


class EmailBlastController(Controller):
    path = "/api/v1/admin/email"
    tags = ["email"]
    guards = [requires_role("admin")]

    @post(
        "/blast",
        operation_id="emailBlast",
        summary="Email the parents of players with an open contract offer",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 413, 422),
    )
    async def blast(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        data: Annotated[
            EmailBlastRequest,
            _body(
                EmailBlastRequest,
                "Remind one team's parents, trying it first",
                {
                    "audience": "unsigned_contracts",
                    "team_id": "5d1e2f3a-6b7c-4d8e-9f0a-1b2c3d4e5f60",
                    "subject_template": "{{ club_name }}: please sign {{ player_names }}'s contract",
                    "dry_run": True,
                },
            ),
        ],
    ) -> EmailBlastResult:
        """One email per parent (listing each of their players' signing links), queued in one transaction and
        sent by the workers, each exactly once. `dry_run` returns the recipients and writes nothing."""
        plan = await EmailBlastService(db_session).blast(
            principal.tenant.id,
            audience=data.audience,
            team_id=data.team_id,
            subject_template=data.subject_template,
            dry_run=data.dry_run,
            requested_by=principal.actor,
        )
        return EmailBlastResult(
            blast_id=plan.blast_id,
            dry_run=plan.dry_run,
            recipient_count=len(plan.recipients),
            players_without_parent=plan.players_without_parent,
            recipients=[
                EmailBlastRecipient(
                    parent_id=recipient.parent_id,
                    name=recipient.name,
                    email=recipient.email,
                    player_ids=[player_id for player_id, _ in recipient.players],
                    player_names=[name for _, name in recipient.players],
                )
                for recipient in plan.recipients
            ]
            if plan.dry_run
            else None,
        )
