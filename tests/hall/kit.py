"""The registrations test kit: a hall's master data written straight to the database, the rules over a session
of their own, and readers for the trace and the events."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.core.db import alchemy_config
from app.hall.dispatch.requests import LaborRequestRules
from app.hall.dispatch.rules import DispatchRules
from app.hall.models import (
    BookRegistration,
    LaborRequest,
    Member,
    MemberClassification,
    MemberStatus,
    ReferralBook,
    RegistrationActivity,
)
from app.hall.registrations.rules import Actor, RegistrationRules
from app.tenants.models import Tenant
from app.tenants.services import TenantService

__all__ = ["HallKit", "hall"]

DISPATCHER_SUB = "dispatcher-1"


@dataclass
class HallKit:
    """demo-hall's data and rules; every call runs in a session of its own and commits."""

    settings: Settings
    tenant_id: UUID
    timezone: str
    session_maker: Any
    engine: AsyncEngine
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def actor(self, *, sub: str = DISPATCHER_SUB, admin: bool = False) -> Actor:
        return Actor(sub=sub, tenant_id=self.tenant_id, timezone=self.timezone, is_admin=admin)

    async def member(self, *, status: MemberStatus = MemberStatus.ACTIVE, sub: str | None = None) -> UUID:
        number = next(self.numbers)
        async with self.session_maker() as session:
            member = Member(
                tenant_id=self.tenant_id,
                member_number=f"M{number:05d}",
                first_name=f"First{number}",
                last_name=f"Last{number}",
                email=f"member{number}@example.org",
                keycloak_sub=sub,
                status=status,
                classification=MemberClassification.JOURNEYMAN,
            )
            session.add(member)
            await session.commit()
            return member.id

    async def book(self, code: str = "IW1", **columns: Any) -> UUID:
        async with self.session_maker() as session:
            book = ReferralBook(
                tenant_id=self.tenant_id,
                name=columns.pop("name", f"Book {code}"),
                code=code,
                classification=columns.pop("classification", "inside_wireperson"),
                region=columns.pop("region", "Bay Area"),
                book_number=columns.pop("book_number", 1),
                **columns,
            )
            session.add(book)
            await session.commit()
            return book.id

    async def labor_request(self, book_id: UUID, *, generates_check_mark: bool = True, **columns: Any) -> UUID:
        async with self.session_maker() as session:
            employer_id = (
                await session.execute(
                    text("INSERT INTO employers (tenant_id, name) VALUES (:t, 'Bright Electric') RETURNING id"),
                    {"t": self.tenant_id},
                )
            ).scalar_one()
            request = LaborRequest(
                tenant_id=self.tenant_id,
                employer_id=employer_id,
                book_id=book_id,
                request_number=columns.pop("request_number", f"REQ20261203-{next(self.numbers):04d}"),
                workers_requested=1,
                start_date=columns.pop("start_date", date(2026, 12, 7)),
                start_time=columns.pop("start_time", time(7, 0)),
                estimated_duration_days=columns.pop("estimated_duration_days", 20),
                generates_check_mark=generates_check_mark,
                **columns,
            )
            session.add(request)
            await session.commit()
            return request.id

    async def call(self, rule: str, *args: Any, **kwargs: Any) -> BookRegistration:
        """Run one rule method in a session of its own (it commits); the registration it returns."""
        actor = kwargs.pop("actor", None) or self.actor()
        async with self.session_maker() as session:
            return await getattr(RegistrationRules(session), rule)(actor, *args, **kwargs)  # type: ignore[no-any-return]

    async def employer(self, name: str = "Bright Electric") -> UUID:
        rows = await self.sql(
            "INSERT INTO employers (tenant_id, name) VALUES (:t, :n) RETURNING id", t=self.tenant_id, n=name
        )
        return UUID(str(rows[0].id))

    async def request(
        self, book_id: UUID, now: datetime, *, employer_id: UUID | None = None, **values: Any
    ) -> LaborRequest:
        """A labor request taken through rule 7 at ``now`` (defaults: 1 worker, starting 07:00 on 2026-12-07,
        20 working days)."""
        body = {
            "employer_id": employer_id or await self.employer(),
            "book_id": book_id,
            "workers_requested": 1,
            "start_date": date(2026, 12, 7),
            "start_time": time(7, 0),
            "estimated_duration_days": 20,
            **values,
        }
        return await self.requests("create", body, now=now)

    async def requests(self, rule: str, *args: Any, **kwargs: Any) -> Any:
        """Run one :class:`LaborRequestRules` method in a session of its own (it commits)."""
        actor = kwargs.pop("actor", None) or self.actor()
        async with self.session_maker() as session:
            return await getattr(LaborRequestRules(session), rule)(actor, *args, **kwargs)

    async def dispatching(self, rule: str, *args: Any, **kwargs: Any) -> Any:
        """Run one :class:`DispatchRules` method in a session of its own (it commits)."""
        actor = kwargs.pop("actor", None) or self.actor()
        async with self.session_maker() as session:
            return await getattr(DispatchRules(session), rule)(actor, *args, **kwargs)

    async def register(self, book_id: UUID, member_id: UUID, now: datetime) -> BookRegistration:
        async with self.session_maker() as session:
            placed = await RegistrationRules(session).register(self.actor(), book_id, member_id, now=now)
            return placed.registration

    async def registration(self, registration_id: UUID) -> BookRegistration:
        async with self.session_maker() as session:
            found = await session.get(BookRegistration, registration_id)
            assert found is not None
            return found

    async def activities(self, registration_id: UUID) -> list[RegistrationActivity]:
        async with self.session_maker() as session:
            return list(
                await session.scalars(
                    select(RegistrationActivity)
                    .where(RegistrationActivity.registration_id == registration_id)
                    .order_by(RegistrationActivity.seq)
                )
            )

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        rows = await self.sql(
            "SELECT aggregate_id, payload FROM outbox_events WHERE event_type = :t ORDER BY seq", t=event_type
        )
        return [{"aggregate_id": row.aggregate_id, **row.payload} for row in rows]

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.session_maker() as session:
            result = await session.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
            await session.commit()
            return rows

    async def apns(self, book_id: UUID) -> list[Decimal]:
        rows = await self.sql(
            "SELECT applicant_priority_number FROM book_registrations WHERE book_id = :b"
            " ORDER BY applicant_priority_number",
            b=book_id,
        )
        return [row.applicant_priority_number for row in rows]


@pytest.fixture
async def hall(settings: Settings, tenants: None) -> AsyncIterator[HallKit]:
    config = alchemy_config(settings.database)
    session_maker = config.create_session_maker()
    async with session_maker() as session:
        tenant = await TenantService(session=session).get_one(Tenant.slug == "demo-hall")
        tenant_id, timezone = tenant.id, tenant.timezone
    yield HallKit(settings, tenant_id, timezone, session_maker, config.get_engine())
    await config.get_engine().dispose()
