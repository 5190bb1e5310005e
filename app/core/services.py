"""The base of a domain's CRUD services: every read and write limited to one tenant.

advanced-alchemy's repository service, plus what every tenant-owned resource needs: the tenant's rows in the
resource's order, one row or "not found" (another tenant's row is not found, never forbidden), delete, and the
fields a PATCH body sets. The club's roster and the hall's master data build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from advanced_alchemy.base import ModelProtocol
from advanced_alchemy.filters import StatementFilter
from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy import ColumnElement, UnaryExpression
from sqlalchemy.orm.interfaces import ORMOption

from app.core.errors import ResourceNotFoundError

__all__ = ["TenantScopedService"]

ModelT = TypeVar("ModelT", bound=ModelProtocol)


class TenantScopedService(SQLAlchemyAsyncRepositoryService[ModelT], Generic[ModelT]):
    """CRUD where every read and write is limited to one tenant (the model's ``tenant_id``)."""

    noun = "row"
    """What a "not found" names."""
    order: Sequence[UnaryExpression[Any]] = ()
    load: Sequence[ORMOption] = ()

    def _column(self, name: str) -> Any:
        return getattr(self.repository.model_type, name)

    async def list_for(
        self, tenant_id: UUID, clauses: Sequence[ColumnElement[bool]], *filters: StatementFilter
    ) -> tuple[Sequence[ModelT], int]:
        """The tenant's rows in the service's ``order``; ``filters`` page and search."""
        return await self.get_many_and_count(
            *filters, self._column("tenant_id") == tenant_id, *clauses, order_by=list(self.order), load=list(self.load)
        )

    async def get_for(self, tenant_id: UUID, item_id: UUID) -> ModelT:
        found = await self.get_one_or_none(
            self._column("id") == item_id, self._column("tenant_id") == tenant_id, load=list(self.load)
        )
        if found is None:
            raise ResourceNotFoundError(f"no {self.noun} {item_id}")
        return found

    async def delete_for(self, tenant_id: UUID, item_id: UUID) -> None:
        """Delete and commit; a row other rows still point at is a 409 with the repository's ``error_messages``."""
        found = await self.get_for(tenant_id, item_id)
        await self.delete(getattr(found, "id"), auto_commit=True)  # noqa: B009  (a model of the subclass)

    @staticmethod
    def apply(item: ModelT, changes: msgspec.Struct, *, skip: tuple[str, ...] = ()) -> None:
        """Set the fields ``changes`` sets (absent ones stay; ``null`` clears), except those in ``skip``."""
        for name in changes.__struct_fields__:
            value = getattr(changes, name)
            if value is not msgspec.UNSET and name not in skip:
                setattr(item, name, value)
