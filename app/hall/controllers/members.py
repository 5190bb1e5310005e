"""The hall's members (reads: staff; writes: role `admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.core.filters import PAGING, Paging, contains
from app.core.text import STORABLE_TEXT
from app.hall.controllers._responses import CREATE, DELETE, LIST, READ, WRITE
from app.hall.directory import MemberService
from app.hall.guards import ADMIN, STAFF
from app.hall.models import Member, MemberClassification, MemberStatus
from app.hall.schemas import MemberCreate, MemberRead, MemberUpdate, body

__all__ = ["MemberController"]

SEARCHED = {"member_number", "first_name", "last_name", "email"}


async def provide_members(db_session: NamedDependency[AsyncSession]) -> MemberService:
    return MemberService(session=db_session)


class MemberController(Controller):
    path = "/members"
    dependencies = {"members": Provide(provide_members), **PAGING}

    @get("/", operation_id="listHallMembers", summary="List members", guards=[STAFF], responses=LIST)
    async def list_members(
        self,
        members: NamedDependency[MemberService],
        principal: NamedDependency[Principal],
        paging: Paging,
        status: Annotated[MemberStatus | None, QueryParameter()] = None,
        classification: Annotated[MemberClassification | None, QueryParameter()] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                description="Part of the member number, first or last name or email, any case",
                max_length=255,
                pattern=STORABLE_TEXT,
            ),
        ] = None,
    ) -> OffsetPagination[MemberRead]:
        """The hall's members by last name, first name and member number."""
        wanted = {Member.status: status, Member.classification: classification}
        clauses: list[ColumnElement[bool]] = [column == value for column, value in wanted.items() if value is not None]
        items, total = await members.list_for(principal.tenant.id, clauses, *contains(SEARCHED, q), paging)
        return members.to_schema(items, total, filters=[paging], schema_type=MemberRead)

    @get("/{member_id:uuid}", operation_id="getHallMember", summary="One member", guards=[STAFF], responses=READ)
    async def get_member(
        self, members: NamedDependency[MemberService], principal: NamedDependency[Principal], member_id: FromPath[UUID]
    ) -> MemberRead:
        """A member of the hall (404 for another hall's)."""
        return members.to_schema(await members.get_for(principal.tenant.id, member_id), schema_type=MemberRead)

    @post(
        "/",
        operation_id="createHallMember",
        summary="Create a member",
        guards=[requires_role(ADMIN)],
        responses=CREATE,
    )
    async def create_member(
        self,
        members: NamedDependency[MemberService],
        principal: NamedDependency[Principal],
        data: Annotated[MemberCreate, body(MemberCreate)],
    ) -> MemberRead:
        """Member numbers and logins (`keycloak_sub`) are unique in the hall (409)."""
        member = await members.create_for(principal.tenant.id, principal.sub, data)
        return members.to_schema(member, schema_type=MemberRead)

    @patch(
        "/{member_id:uuid}",
        operation_id="updateHallMember",
        summary="Change a member",
        guards=[requires_role(ADMIN)],
        responses=WRITE,
    )
    async def update_member(
        self,
        members: NamedDependency[MemberService],
        principal: NamedDependency[Principal],
        member_id: FromPath[UUID],
        data: Annotated[MemberUpdate, body(MemberUpdate)],
    ) -> MemberRead:
        """Only the fields sent change; `null` clears an optional field."""
        member = await members.update_for(principal.tenant.id, member_id, principal.sub, data)
        return members.to_schema(member, schema_type=MemberRead)

    @delete(
        "/{member_id:uuid}",
        operation_id="deleteHallMember",
        summary="Delete a member",
        guards=[requires_role(ADMIN)],
        responses=DELETE,
    )
    async def delete_member(
        self, members: NamedDependency[MemberService], principal: NamedDependency[Principal], member_id: FromPath[UUID]
    ) -> None:
        """Only a member who was never on a book: one with registrations is kept for the books' history (409);
        change their `status` instead."""
        await members.delete_for(principal.tenant.id, member_id)
