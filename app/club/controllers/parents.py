"""Parents of the caller's club (role `admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from app.club.controllers._responses import CREATE, LIST, READ, WRITE
from app.club.models import Parent
from app.club.schemas import (
    ParentCreate,
    ParentRead,
    ParentUpdate,
    body,
)
from app.club.services import ParentService
from app.core.auth import Principal, requires_role
from app.core.filters import PAGING, Paging
from app.core.text import STORABLE_TEXT

__all__ = ["ParentController"]


async def provide_parents(db_session: NamedDependency[AsyncSession]) -> ParentService:
    return ParentService(session=db_session)


class ParentController(Controller):
    path = "/api/v1/admin/parents"
    tags = ["roster"]
    guards = [requires_role("admin")]
    dependencies = {"parents": Provide(provide_parents), **PAGING}

    @get("/", operation_id="listParents", summary="List parents", responses=LIST)
    async def list_parents(
        self,
        parents: NamedDependency[ParentService],
        principal: NamedDependency[Principal],
        paging: Paging,
        email: Annotated[
            str | None, QueryParameter(description="Exact, any case", max_length=255, pattern=STORABLE_TEXT)
        ] = None,
    ) -> OffsetPagination[ParentRead]:
        """The club's parents by name."""
        clauses = [] if email is None else [func.lower(Parent.email) == email.lower()]
        items, total = await parents.list_for(principal.tenant.id, clauses, paging)
        return parents.to_schema(items, total, filters=[paging], schema_type=ParentRead)

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
            body(ParentCreate),
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
        data: Annotated[ParentUpdate, body(ParentUpdate)],
    ) -> ParentRead:
        """Only the fields sent change."""
        return parents.to_schema(await parents.update_for(principal.tenant.id, parent_id, data), schema_type=ParentRead)

    @delete("/{parent_id:uuid}", operation_id="deleteParent", summary="Delete a parent", responses=READ)
    async def delete_parent(
        self, parents: NamedDependency[ParentService], principal: NamedDependency[Principal], parent_id: FromPath[UUID]
    ) -> None:
        """Their players stay, without a parent."""
        await parents.delete_for(principal.tenant.id, parent_id)
