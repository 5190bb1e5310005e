"""Jersey orders over HTTP: a club's users order and follow their own; staff list, export, change and reconcile.

Only club tenants have jersey orders: a hall tenant's caller gets 404 on every path here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.filters import LimitOffset, StatementFilter
from advanced_alchemy.service import OffsetPagination
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.club.guards import club_tenants_only
from app.club.jerseys.models import JerseyOrder, OrderStatus
from app.club.jerseys.schemas import (
    JerseyOrderCreate,
    JerseyOrderRead,
    JerseyOrderSubmitted,
    JerseyOrderUpdate,
    ReconcileResult,
    Reconciliation,
    body,
)
from app.club.jerseys.services import JerseyOrderService, OrderCriteria, Orderer
from app.club.models import Program, Tier
from app.core.auth import Principal, requires_role
from app.core.errors import problem_responses
from app.core.filters import PAGING, Paging, contains
from app.core.sheets import CsvStream, csv_operation, sheet, wants_csv
from app.core.text import STORABLE_TEXT

__all__ = ["AdminJerseyOrderController", "JerseyOrderController"]

CSV_COLUMNS = (
    "id", "created_at", "status", "player_name", "jersey_number", "size", "kq", "tier", "email", "notes",
    "parent_id", "player_id",
)  # fmt: skip


async def provide_jersey_orders(db_session: NamedDependency[AsyncSession]) -> JerseyOrderService:
    return JerseyOrderService(session=db_session)


def orderer(principal: Principal) -> Orderer:
    return Orderer(tenant_id=principal.tenant.id, sub=principal.sub, email=principal.email, actor=principal.actor)


def read(service: JerseyOrderService, order: JerseyOrder) -> JerseyOrderRead:
    return service.to_schema(order, schema_type=JerseyOrderRead)


def page(
    service: JerseyOrderService, found: tuple[Sequence[JerseyOrder], int], paging: LimitOffset
) -> OffsetPagination[JerseyOrderRead]:
    items, total = found
    return service.to_schema(items, total, filters=[paging], schema_type=JerseyOrderRead)


class JerseyOrderController(Controller):
    path = "/api/v1/jersey-orders"
    tags = ["jersey orders"]
    guards = [club_tenants_only]
    dependencies = {"orders": Provide(provide_jersey_orders), **PAGING}

    @post(
        "/",
        operation_id="submitJerseyOrder",
        summary="Order a jersey",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 404, 413, 422),
    )
    async def submit(
        self,
        orders: NamedDependency[JerseyOrderService],
        principal: NamedDependency[Principal],
        data: Annotated[JerseyOrderCreate, body(JerseyOrderCreate)],
    ) -> JerseyOrderSubmitted:
        """Any signed-in user of the club. The order is the caller's (the token's `sub`; a
        `submitter_keycloak_sub` in the body is a 400). `email` defaults to the token's email. The order is
        linked to a parent and player where the roster allows; `reconciliation` says how, or why not."""
        order, reconciliation = await orders.submit(orderer(principal), data)
        return JerseyOrderSubmitted(order=read(orders, order), reconciliation=reconciliation)

    @get(
        "/mine",
        operation_id="listMyJerseyOrders",
        summary="My jersey orders",
        responses=problem_responses(400, 401, 404),
    )
    async def mine(
        self,
        orders: NamedDependency[JerseyOrderService],
        principal: NamedDependency[Principal],
        paging: Paging,
    ) -> OffsetPagination[JerseyOrderRead]:
        """The caller's own orders, newest first."""
        return page(orders, await orders.mine(orderer(principal), paging), paging)

    @post(
        "/{order_id:uuid}/cancel",
        operation_id="cancelMyJerseyOrder",
        summary="Cancel my order",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 404, 409),
    )
    async def cancel(
        self,
        orders: NamedDependency[JerseyOrderService],
        principal: NamedDependency[Principal],
        order_id: FromPath[UUID],
    ) -> JerseyOrderRead:
        """Only while `submitted` (409 after); another user's order is 404."""
        return read(orders, await orders.cancel_mine(orderer(principal), order_id))


class AdminJerseyOrderController(Controller):
    path = "/api/v1/admin/jersey-orders"
    tags = ["jersey orders"]
    guards = [club_tenants_only, requires_role("admin")]
    dependencies = {"orders": Provide(provide_jersey_orders), **PAGING}

    @get(
        "/",
        operation_id="listJerseyOrders",
        summary="List the club's jersey orders (JSON, or CSV for the supplier)",
        responses=problem_responses(400, 401, 403, 404),
        operation_class=csv_operation(CSV_COLUMNS),
    )
    async def list_orders(
        self,
        request: Request[Any, Any, Any],
        orders: NamedDependency[JerseyOrderService],
        db_engine: NamedDependency[AsyncEngine],
        principal: NamedDependency[Principal],
        paging: Paging,
        status: Annotated[OrderStatus | None, QueryParameter()] = None,
        tier: Annotated[Tier | None, QueryParameter()] = None,
        kq: Annotated[Program | None, QueryParameter(description="kings or queens")] = None,
        linked: Annotated[
            bool | None, QueryParameter(description="true: both parent and player linked; false: either missing")
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                description="Part of the player's name or the email, any case", max_length=200, pattern=STORABLE_TEXT
            ),
        ] = None,
    ) -> OffsetPagination[JerseyOrderRead] | CsvStream:
        """Newest first. With `Accept: text/csv` the answer is every matching order, oldest first and not
        paged, as the supplier's sheet."""
        criteria = OrderCriteria(tenant_id=principal.tenant.id, status=status, tier=tier, kq=kq, linked=linked)
        filters: list[StatementFilter] = [*contains({"player_name", "email"}, q)]
        if wants_csv(request):
            return CsvStream.download(_sheet(db_engine, criteria, filters), "jersey-orders.csv")
        return page(orders, await orders.search(criteria, *filters, paging), paging)

    @get(
        "/{order_id:uuid}",
        operation_id="getJerseyOrder",
        summary="One jersey order",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get_order(
        self,
        orders: NamedDependency[JerseyOrderService],
        principal: NamedDependency[Principal],
        order_id: FromPath[UUID],
    ) -> JerseyOrderRead:
        """An order of the club (404 for another club's)."""
        return read(orders, await orders.get_for(principal.tenant.id, order_id))

    @patch(
        "/{order_id:uuid}",
        operation_id="updateJerseyOrder",
        summary="Move an order on, link it, or note something",
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def update_order(
        self,
        orders: NamedDependency[JerseyOrderService],
        principal: NamedDependency[Principal],
        order_id: FromPath[UUID],
        data: Annotated[JerseyOrderUpdate, body(JerseyOrderUpdate)],
    ) -> JerseyOrderRead:
        """Status moves: submitted → reconciled (needs both links) → paid → fulfilled, any but fulfilled →
        cancelled; every other move is a 409, also when a concurrent change got there first."""
        return read(orders, await orders.change(principal.tenant.id, order_id, data, actor=principal.actor))

    @post(
        "/reconcile",
        operation_id="reconcileJerseyOrders",
        summary="Link open orders to parents and players",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404),
    )
    async def reconcile(
        self, orders: NamedDependency[JerseyOrderService], principal: NamedDependency[Principal]
    ) -> ReconcileResult:
        """Open orders missing a parent or player link, oldest first (500 a call; `remaining` says how many
        are left): parent by login, else by email; player by name among the parent's players."""
        results, remaining = await orders.reconcile_open(principal.tenant.id)
        return ReconcileResult(
            examined=len(results),
            linked=sum(1 for _, outcome in results if _gained_a_link(outcome)),
            remaining=remaining,
            orders=[
                JerseyOrderSubmitted(order=read(orders, order), reconciliation=outcome) for order, outcome in results
            ],
        )


def _gained_a_link(outcome: Reconciliation) -> bool:
    return outcome.parent.outcome.startswith("linked") or outcome.player.outcome.startswith("linked")


async def _sheet(engine: AsyncEngine, criteria: OrderCriteria, filters: list[StatementFilter]) -> AsyncIterator[str]:
    """The CSV, a chunk at a time. It reads on a session of its own: the request's session is closed once the
    handler returns, while this runs as the response is sent."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        orders = JerseyOrderService(session=session).export(criteria, *filters)
        rows = ([getattr(order, column) for column in CSV_COLUMNS] async for order in orders)
        async for chunk in sheet(CSV_COLUMNS, rows):
            yield chunk
