"""The hall's referral books (reads: staff; writes: role `admin`)."""

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
from app.hall.directory import BookService
from app.hall.guards import ADMIN, STAFF
from app.hall.models import BookClassification, ReferralBook
from app.hall.schemas import BookCreate, BookRead, BookUpdate, body

__all__ = ["BookController"]


async def provide_books(db_session: NamedDependency[AsyncSession]) -> BookService:
    return BookService(session=db_session)


class BookController(Controller):
    path = "/books"
    dependencies = {"books": Provide(provide_books), **PAGING}

    @get("/", operation_id="listHallBooks", summary="List referral books", guards=[STAFF], responses=LIST)
    async def list_books(
        self,
        books: NamedDependency[BookService],
        principal: NamedDependency[Principal],
        paging: Paging,
        classification: Annotated[BookClassification | None, QueryParameter()] = None,
        is_active: Annotated[bool | None, QueryParameter()] = None,
        q: Annotated[
            str | None,
            QueryParameter(description="Part of the name or code, any case", max_length=100, pattern=STORABLE_TEXT),
        ] = None,
    ) -> OffsetPagination[BookRead]:
        """The hall's referral books by name, then code."""
        wanted = {ReferralBook.classification: classification, ReferralBook.is_active: is_active}
        clauses: list[ColumnElement[bool]] = [column == value for column, value in wanted.items() if value is not None]
        items, total = await books.list_for(principal.tenant.id, clauses, *contains({"name", "code"}, q), paging)
        return books.to_schema(items, total, filters=[paging], schema_type=BookRead)

    @get("/{book_id:uuid}", operation_id="getHallBook", summary="One referral book", guards=[STAFF], responses=READ)
    async def get_book(
        self, books: NamedDependency[BookService], principal: NamedDependency[Principal], book_id: FromPath[UUID]
    ) -> BookRead:
        """A book of the hall (404 for another hall's)."""
        return books.to_schema(await books.get_for(principal.tenant.id, book_id), schema_type=BookRead)

    @post(
        "/",
        operation_id="createHallBook",
        summary="Create a referral book",
        guards=[requires_role(ADMIN)],
        responses=CREATE,
    )
    async def create_book(
        self,
        books: NamedDependency[BookService],
        principal: NamedDependency[Principal],
        data: Annotated[BookCreate, body(BookCreate)],
    ) -> BookRead:
        """Codes are unique in the hall (409). The contract code is the book's agreement, not its name, and may
        be absent (tradeshow and TERO books)."""
        return books.to_schema(await books.create_for(principal.tenant.id, principal.sub, data), schema_type=BookRead)

    @patch(
        "/{book_id:uuid}",
        operation_id="updateHallBook",
        summary="Change a referral book",
        guards=[requires_role(ADMIN)],
        responses=WRITE,
    )
    async def update_book(
        self,
        books: NamedDependency[BookService],
        principal: NamedDependency[Principal],
        book_id: FromPath[UUID],
        data: Annotated[BookUpdate, body(BookUpdate)],
    ) -> BookRead:
        """Only the fields sent change; `null` clears the contract code."""
        book = await books.update_for(principal.tenant.id, book_id, principal.sub, data)
        return books.to_schema(book, schema_type=BookRead)

    @delete(
        "/{book_id:uuid}",
        operation_id="deleteHallBook",
        summary="Delete a referral book",
        guards=[requires_role(ADMIN)],
        responses=DELETE,
    )
    async def delete_book(
        self, books: NamedDependency[BookService], principal: NamedDependency[Principal], book_id: FromPath[UUID]
    ) -> None:
        """Only a book nobody was ever registered on: one with registrations or labor requests keeps its
        history (409); set `is_active` to false instead."""
        await books.delete_for(principal.tenant.id, book_id)
