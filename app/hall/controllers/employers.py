"""The hall's employers (reads: staff; writes: role `admin`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from advanced_alchemy.service import OffsetPagination
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal, requires_role
from app.core.filters import PAGING, Paging, contains
from app.core.text import STORABLE_TEXT
from app.hall.controllers._responses import CREATE, DELETE, LIST, READ, WRITE
from app.hall.directory import EmployerService
from app.hall.guards import ADMIN, STAFF
from app.hall.models import Employer
from app.hall.schemas import EmployerCreate, EmployerRead, EmployerUpdate, body

__all__ = ["EmployerController"]


async def provide_employers(db_session: NamedDependency[AsyncSession]) -> EmployerService:
    return EmployerService(session=db_session)


class EmployerController(Controller):
    path = "/employers"
    dependencies = {"employers": Provide(provide_employers), **PAGING}

    @get("/", operation_id="listHallEmployers", summary="List employers", guards=[STAFF], responses=LIST)
    async def list_employers(
        self,
        employers: NamedDependency[EmployerService],
        principal: NamedDependency[Principal],
        paging: Paging,
        contract_code: Annotated[
            str | None, QueryParameter(description="Exact", max_length=40, pattern=STORABLE_TEXT)
        ] = None,
        q: Annotated[
            str | None, QueryParameter(description="Part of the name, any case", max_length=200, pattern=STORABLE_TEXT)
        ] = None,
    ) -> OffsetPagination[EmployerRead]:
        """The hall's employers by name."""
        clauses = [] if contract_code is None else [Employer.contract_code == contract_code]
        items, total = await employers.list_for(principal.tenant.id, clauses, *contains("name", q), paging)
        return employers.to_schema(items, total, filters=[paging], schema_type=EmployerRead)

    @get("/{employer_id:uuid}", operation_id="getHallEmployer", summary="One employer", guards=[STAFF], responses=READ)
    async def get_employer(
        self,
        employers: NamedDependency[EmployerService],
        principal: NamedDependency[Principal],
        employer_id: FromPath[UUID],
    ) -> EmployerRead:
        """An employer of the hall (404 for another hall's)."""
        return employers.to_schema(await employers.get_for(principal.tenant.id, employer_id), schema_type=EmployerRead)

    @post(
        "/",
        operation_id="createHallEmployer",
        summary="Create an employer",
        guards=[requires_role(ADMIN)],
        responses=CREATE,
    )
    async def create_employer(
        self,
        employers: NamedDependency[EmployerService],
        principal: NamedDependency[Principal],
        data: Annotated[EmployerCreate, body(EmployerCreate)],
    ) -> EmployerRead:
        """An employer, with the contract it is signatory to (if any)."""
        employer = await employers.create_for(principal.tenant.id, principal.sub, data)
        return employers.to_schema(employer, schema_type=EmployerRead)

    @patch(
        "/{employer_id:uuid}",
        operation_id="updateHallEmployer",
        summary="Change an employer",
        guards=[requires_role(ADMIN)],
        responses=WRITE,
    )
    async def update_employer(
        self,
        employers: NamedDependency[EmployerService],
        principal: NamedDependency[Principal],
        employer_id: FromPath[UUID],
        data: Annotated[EmployerUpdate, body(EmployerUpdate)],
    ) -> EmployerRead:
        """Only the fields sent change; `null` clears the contract code."""
        employer = await employers.update_for(principal.tenant.id, employer_id, principal.sub, data)
        return employers.to_schema(employer, schema_type=EmployerRead)

    @delete(
        "/{employer_id:uuid}",
        operation_id="deleteHallEmployer",
        summary="Delete an employer",
        guards=[requires_role(ADMIN)],
        responses=DELETE,
    )
    async def delete_employer(
        self,
        employers: NamedDependency[EmployerService],
        principal: NamedDependency[Principal],
        employer_id: FromPath[UUID],
    ) -> None:
        """Only an employer that never asked for workers: one with labor requests or dispatches is kept (409)."""
        await employers.delete_for(principal.tenant.id, employer_id)
