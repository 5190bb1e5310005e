"""Rows that point at the master data, made with the ORM: the services that make them belong to later rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.models import BookRegistration, LaborRequest
from app.tenants.services import TenantService


async def hall_id(session: AsyncSession, slug: str = "demo-hall") -> UUID:
    tenant = await TenantService(session=session).get_by_slug(slug)
    assert tenant is not None
    return tenant.id


async def registration(session: AsyncSession, member_id: str, book_id: str) -> UUID:
    """A member registered on a book (rule 1's APN for 2012-02-27, the first that day)."""
    row = BookRegistration(
        tenant_id=await hall_id(session),
        member_id=UUID(member_id),
        book_id=UUID(book_id),
        applicant_priority_number=Decimal("40966.01"),
        re_sign_deadline=datetime(2012, 3, 28, 8, tzinfo=UTC),
    )
    session.add(row)
    await session.commit()
    return row.id


async def labor_request(session: AsyncSession, employer_id: str, book_id: str) -> UUID:
    """An employer's request for one worker from a book."""
    row = LaborRequest(
        tenant_id=await hall_id(session),
        employer_id=UUID(employer_id),
        book_id=UUID(book_id),
        request_number="REQ20260901-0001",
        workers_requested=1,
        start_date=date(2026, 9, 2),
        start_time=time(7, 0),
        estimated_duration_days=20,
    )
    session.add(row)
    await session.commit()
    return row.id
