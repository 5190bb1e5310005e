"""Jersey orders: submitting, the status machine, and reconciliation with the roster.

Every read and write is scoped to one tenant; a user's own orders are found by the token's ``sub``, never by
anything the client sends. Each change and its outbox event commit together.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from advanced_alchemy.filters import StatementFilter
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from msgspec import UNSET
from sqlalchemy import ColumnElement, UnaryExpression, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from app.club.jerseys.events import (
    JERSEY_ORDER_STATUS_CHANGED,
    JERSEY_ORDER_SUBMITTED,
    OrderStatusChanged,
    OrderSubmitted,
)
from app.club.jerseys.models import JerseyOrder, OrderStatus
from app.club.jerseys.schemas import JerseyOrderCreate, JerseyOrderUpdate, LinkOutcome, Reconciliation
from app.club.models import Parent, Player, Program, Tier
from app.core.errors import ResourceNotFoundError, RuleViolationError, StateConflictError
from app.outbox import emit

__all__ = ["MOVES", "RECONCILE_BATCH", "JerseyOrderService", "OrderCriteria", "Orderer", "normalised_name"]

MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.SUBMITTED: frozenset({OrderStatus.RECONCILED, OrderStatus.CANCELLED}),
    OrderStatus.RECONCILED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.FULFILLED, OrderStatus.CANCELLED}),
    OrderStatus.FULFILLED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
"""The status machine: submitted → reconciled → paid → fulfilled, and any but fulfilled → cancelled."""

OPEN = (OrderStatus.SUBMITTED, OrderStatus.RECONCILED, OrderStatus.PAID)
RECONCILE_BATCH = 500
"""Orders one reconcile call examines at most (the response says how many remain)."""


NEWEST_FIRST: list[tuple[str | InstrumentedAttribute[Any], bool] | UnaryExpression[Any]] = [
    (JerseyOrder.created_at, True),
    (JerseyOrder.id, True),
]


@dataclass(frozen=True, slots=True)
class OrderCriteria:
    """What staff narrow the club's orders by; ``linked`` means both a parent and a player are linked."""

    tenant_id: UUID
    status: OrderStatus | None = None
    tier: Tier | None = None
    kq: Program | None = None
    linked: bool | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [JerseyOrder.tenant_id == self.tenant_id]
        wanted = {JerseyOrder.status: self.status, JerseyOrder.tier: self.tier, JerseyOrder.kq: self.kq}
        clauses += [column == value for column, value in wanted.items() if value is not None]
        if self.linked is True:
            clauses += [JerseyOrder.parent_id.is_not(None), JerseyOrder.player_id.is_not(None)]
        elif self.linked is False:
            clauses.append(or_(JerseyOrder.parent_id.is_(None), JerseyOrder.player_id.is_(None)))
        return clauses


@dataclass(frozen=True, slots=True)
class Orderer:
    """The caller as the orders see them: the token's subject and email, the actor named in events."""

    tenant_id: UUID
    sub: str
    email: str | None
    actor: str


def normalised_name(name: str) -> str:
    """A name as people mean it: accents, case and runs of spaces don't count (``José  DÍAZ`` = ``jose diaz``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


class JerseyOrderService(SQLAlchemyAsyncRepositoryService[JerseyOrder]):
    class Repo(SQLAlchemyAsyncRepository[JerseyOrder]):
        model_type = JerseyOrder

    repository_type = Repo

    # ---- a user's own orders -------------------------------------------------------------------------------

    async def submit(self, orderer: Orderer, data: JerseyOrderCreate) -> tuple[JerseyOrder, Reconciliation]:
        """Record the order for the caller (sub from the token), link it to the roster and emit
        ``jersey_order.submitted``, all in one transaction."""
        email = data.email or orderer.email
        if not email:
            raise RuleViolationError("email is required: your login has no email address")
        if len(email) > 255:
            raise RuleViolationError("email must be at most 255 characters")
        order = JerseyOrder(
            tenant_id=orderer.tenant_id,
            submitter_keycloak_sub=orderer.sub,
            email=email,
            player_name=data.player_name,
            jersey_number=data.jersey_number,
            size=data.size,
            kq=data.kq,
            tier=data.tier,
            notes=data.notes,
            status=OrderStatus.SUBMITTED,
        )
        session = self.repository.session
        session.add(order)
        reconciliation = await self._reconcile(order)
        await session.flush()
        emit(
            session,
            aggregate_type="jersey_order",
            aggregate_id=order.id,
            event_type=JERSEY_ORDER_SUBMITTED,
            payload=OrderSubmitted(order_id=order.id, tenant_id=order.tenant_id),
            tenant_id=order.tenant_id,
        )
        await session.commit()
        await session.refresh(order)
        return order, reconciliation

    async def mine(self, orderer: Orderer, *filters: StatementFilter) -> tuple[Sequence[JerseyOrder], int]:
        """The caller's own orders, newest first."""
        return await self.get_many_and_count(
            *filters,
            JerseyOrder.tenant_id == orderer.tenant_id,
            JerseyOrder.submitter_keycloak_sub == orderer.sub,
            order_by=NEWEST_FIRST,
        )

    async def cancel_mine(self, orderer: Orderer, order_id: UUID) -> JerseyOrder:
        """A user may cancel their own order while it is ``submitted`` (409 after); another user's is 404."""
        order = await self._locked(orderer.tenant_id, order_id, sub=orderer.sub)
        if order.status is not OrderStatus.SUBMITTED:
            raise StateConflictError(f"this order is {order.status.value}; only a submitted order can be cancelled")
        return await self._move(order, OrderStatus.CANCELLED, actor=orderer.actor)

    # ---- staff ---------------------------------------------------------------------------------------------

    async def search(self, criteria: OrderCriteria, *filters: StatementFilter) -> tuple[Sequence[JerseyOrder], int]:
        """The club's orders, newest first, narrowed by ``criteria``; ``filters`` page and search."""
        return await self.get_many_and_count(*filters, *criteria.clauses(), order_by=NEWEST_FIRST)

    async def export(self, criteria: OrderCriteria, *filters: StatementFilter) -> AsyncIterator[JerseyOrder]:
        """Every matching order, oldest first, streamed from one server-side cursor (one consistent snapshot,
        never all in memory)."""
        statement = select(JerseyOrder).where(*criteria.clauses())
        for each in filters:
            statement = each.append_to_statement(statement, JerseyOrder)
        statement = statement.order_by(JerseyOrder.created_at, JerseyOrder.id).execution_options(yield_per=500)
        async for order in await self.repository.session.stream_scalars(statement):
            yield order

    async def get_for(self, tenant_id: UUID, order_id: UUID) -> JerseyOrder:
        order = await self.get_one_or_none(JerseyOrder.id == order_id, JerseyOrder.tenant_id == tenant_id)
        if order is None:
            raise ResourceNotFoundError(f"no jersey order {order_id}")
        return order

    async def change(self, tenant_id: UUID, order_id: UUID, data: JerseyOrderUpdate, *, actor: str) -> JerseyOrder:
        """Apply staff changes under the row's lock, so of two concurrent status moves one wins and the
        other is a 409 (it sees the move already made)."""
        order = await self._locked(tenant_id, order_id)
        if data.parent_id is not UNSET:
            order.parent_id = await self._own(Parent, tenant_id, data.parent_id)
        if data.player_id is not UNSET:
            order.player_id = await self._own(Player, tenant_id, data.player_id)
        if data.notes is not UNSET:
            order.notes = data.notes
        if data.status is UNSET:
            await self.repository.session.commit()
            await self.repository.session.refresh(order)
            return order
        if data.status is order.status:
            raise StateConflictError(f"this order is already {order.status.value}")
        if data.status not in MOVES[order.status]:
            raise StateConflictError(f"a {order.status.value} order cannot become {data.status.value}")
        if data.status is OrderStatus.RECONCILED and (order.parent_id is None or order.player_id is None):
            raise StateConflictError("link the order to a parent and a player before marking it reconciled")
        return await self._move(order, data.status, actor=actor)

    async def reconcile_open(self, tenant_id: UUID) -> tuple[list[tuple[JerseyOrder, Reconciliation]], int]:
        """Link open orders that lack a parent or player (oldest first, at most :data:`RECONCILE_BATCH`);
        return them with their outcomes and how many such orders remain."""
        session = self.repository.session
        missing = (
            JerseyOrder.tenant_id == tenant_id,
            JerseyOrder.status.in_(OPEN),
            or_(JerseyOrder.parent_id.is_(None), JerseyOrder.player_id.is_(None)),
        )
        orders = list(
            await session.scalars(
                select(JerseyOrder)
                .where(*missing)
                .order_by(JerseyOrder.created_at, JerseyOrder.id)
                .limit(RECONCILE_BATCH)
                .with_for_update(skip_locked=True)  # an order being changed right now waits for the next call
            )
        )
        results = [(order, await self._reconcile(order)) for order in orders]
        await session.flush()
        remaining = await session.scalar(select(func.count()).select_from(JerseyOrder).where(*missing)) or 0
        await session.commit()
        return results, remaining

    # ---- shared --------------------------------------------------------------------------------------------

    async def _locked(self, tenant_id: UUID, order_id: UUID, *, sub: str | None = None) -> JerseyOrder:
        statement = select(JerseyOrder).where(JerseyOrder.id == order_id, JerseyOrder.tenant_id == tenant_id)
        if sub is not None:
            statement = statement.where(JerseyOrder.submitter_keycloak_sub == sub)
        order: JerseyOrder | None = await self.repository.session.scalar(
            statement.with_for_update().execution_options(populate_existing=True)
        )
        if order is None:
            raise ResourceNotFoundError(f"no jersey order {order_id}")
        return order

    async def _move(self, order: JerseyOrder, status: OrderStatus, *, actor: str) -> JerseyOrder:
        session = self.repository.session
        previous = order.status
        order.status = status
        emit(
            session,
            aggregate_type="jersey_order",
            aggregate_id=order.id,
            event_type=JERSEY_ORDER_STATUS_CHANGED,
            payload=OrderStatusChanged(
                order_id=order.id, tenant_id=order.tenant_id, previous_status=previous, status=status, changed_by=actor
            ),
            tenant_id=order.tenant_id,
        )
        await session.commit()
        await session.refresh(order)
        return order

    async def _own(self, model: type[Parent] | type[Player], tenant_id: UUID, row_id: UUID | None) -> UUID | None:
        if row_id is None:
            return None
        found = await self.repository.session.scalar(
            select(model.id).where(model.id == row_id, model.tenant_id == tenant_id)
        )
        if found is None:
            raise RuleViolationError(f"no {model.__tablename__.removesuffix('s')} {row_id} in this club")
        return row_id

    async def _reconcile(self, order: JerseyOrder) -> Reconciliation:
        parent = await self._link_parent(order)
        player = await self._link_player(order)
        return Reconciliation(parent=parent, player=player)

    async def _link_parent(self, order: JerseyOrder) -> LinkOutcome:
        """By the submitter's login (``parents.keycloak_sub``) first, else by the order's email, any case.
        Nothing on the parent changes."""
        if order.parent_id is not None:
            return LinkOutcome(outcome="kept", detail="the order was already linked to a parent")
        session = self.repository.session
        by_sub = list(
            await session.scalars(
                select(Parent)
                .where(Parent.tenant_id == order.tenant_id, Parent.keycloak_sub == order.submitter_keycloak_sub)
                .limit(2)
            )
        )
        if len(by_sub) > 1:
            return LinkOutcome(outcome="ambiguous", detail="more than one parent of the club signs in as this user")
        if by_sub:
            order.parent_id = by_sub[0].id
            return LinkOutcome(outcome="linked_by_sub", detail=f"{by_sub[0].name} signs in as the submitter")
        by_email = await session.scalar(
            select(Parent).where(Parent.tenant_id == order.tenant_id, func.lower(Parent.email) == order.email.lower())
        )
        if by_email is None:
            return LinkOutcome(outcome="not_found", detail="no parent of the club has this login or email")
        if by_email.keycloak_sub is not None and by_email.keycloak_sub != order.submitter_keycloak_sub:
            return LinkOutcome(
                outcome="ambiguous",
                detail=f"the email is {by_email.name}'s, but {by_email.name} signs in as another user",
            )
        order.parent_id = by_email.id
        return LinkOutcome(outcome="linked_by_email", detail=f"the email is {by_email.name}'s")

    async def _link_player(self, order: JerseyOrder) -> LinkOutcome:
        """The parent's player whose name matches, ignoring case, accents and extra spaces."""
        if order.player_id is not None:
            return LinkOutcome(outcome="kept", detail="the order was already linked to a player")
        if order.parent_id is None:
            return LinkOutcome(outcome="not_found", detail="no parent is linked, so no player can be matched")
        players = await self.repository.session.scalars(
            select(Player).where(Player.tenant_id == order.tenant_id, Player.parent_id == order.parent_id)
        )
        wanted = normalised_name(order.player_name)
        matches = [player for player in players if normalised_name(player.name) == wanted]
        if len(matches) > 1:
            return LinkOutcome(outcome="ambiguous", detail=f"{len(matches)} of the parent's players have this name")
        if not matches:
            return LinkOutcome(outcome="not_found", detail="none of the parent's players has this name")
        order.player_id = matches[0].id
        return LinkOutcome(outcome="linked_by_name", detail=f"the parent's player {matches[0].name}")
