"""Demo data for ``make dev``: demo-hall's two employers, two books and thirty members on them.

The books differ the way real ones do: Inside Wireperson book 1 works under the INSIDE agreement, the
Tradeshow book has no contract code at all. The registrations are carried over with the APNs they "had"
(rule 1's imports, over the past months), so the lists are in a realistic order and each has its trace.
One member, Ana Reyes, is linked to the login ``demo-member``:
``rollcall dev-token --tenant demo-hall --role member --sub demo-member`` shows her view.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.hall.clock import excel_serial
from app.hall.models import (
    SYSTEM,
    BookClassification,
    Employer,
    Member,
    MemberClassification,
    ReferralBook,
)
from app.hall.registrations.rules import Actor, RegistrationRules
from app.tenants.services import TenantService

__all__ = ["DEMO_HALL", "DEMO_MEMBER_SUB", "load_hall_demo"]

DEMO_HALL = "demo-hall"
DEMO_MEMBER_SUB = "demo-member"

_NAMES = (
    ("Ana", "Reyes"), ("Marcus", "Bell"), ("Priya", "Natarajan"), ("Tom", "Kowalski"), ("Lena", "Fischer"),
    ("Diego", "Alvarez"), ("Grace", "Okonkwo"), ("Sam", "Whitfield"), ("Mei", "Tanaka"), ("Jamal", "Carter"),
    ("Rosa", "Medina"), ("Owen", "Gallagher"), ("Fatima", "Haddad"), ("Luke", "Brennan"), ("Nina", "Petrova"),
    ("Hector", "Ruiz"), ("Ivy", "Chen"), ("Caleb", "Morris"), ("Sofia", "Lindqvist"), ("Andre", "Dubois"),
    ("Keisha", "Hart"), ("Victor", "Novak"), ("Hannah", "Schultz"), ("Raj", "Mehta"), ("Claire", "Dupont"),
    ("Ben", "Adeyemi"), ("Lucia", "Romero"), ("Pete", "Sandoval"), ("Yara", "Saleh"), ("Will", "Turner"),
)  # fmt: skip


async def load_hall_demo(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Create demo-hall's master data and registrations once (only while it has no book); idempotent."""
    tenants = TenantService(session=session)
    await tenants.ensure_demo_tenants()
    hall = await tenants.get_by_slug(DEMO_HALL)
    if hall is None:  # pragma: no cover  (ensure_demo_tenants just created it)
        return
    if await session.scalar(select(func.count()).select_from(ReferralBook).where(ReferralBook.tenant_id == hall.id)):
        return
    now = now or datetime.now(UTC)
    session.add_all(
        [
            Employer(tenant_id=hall.id, name="Bright Line Electric", contract_code="INSIDE"),
            Employer(tenant_id=hall.id, name="Expo Show Services", contract_code=None),
        ]
    )
    inside = ReferralBook(
        tenant_id=hall.id,
        name="Inside Wireperson",
        code="IW-1",
        classification=BookClassification.INSIDE_WIREPERSON,
        region="Bay Area",
        book_number=1,
        contract_code="INSIDE",
        internet_bidding_enabled=True,
    )
    tradeshow = ReferralBook(
        tenant_id=hall.id,
        name="Tradeshow",
        code="TS-1",
        classification=BookClassification.TRADESHOW,
        region="Bay Area",
        book_number=1,
        contract_code=None,  # tradeshow work has no collective agreement: the code is not the name
    )
    members = [
        Member(
            tenant_id=hall.id,
            member_number=f"{4100 + index}",
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@members.demo-hall.localhost",
            keycloak_sub=DEMO_MEMBER_SUB if index == 0 else None,
            classification=MemberClassification.APPRENTICE_3 if index % 7 == 6 else MemberClassification.JOURNEYMAN,
        )
        for index, (first, last) in enumerate(_NAMES)
    ]
    session.add_all([inside, tradeshow, *members])
    await session.commit()
    rules = RegistrationRules(session)
    actor = Actor(sub=SYSTEM, tenant_id=hall.id, timezone=hall.timezone)
    for index, member in enumerate(members):
        # Twenty on the inside book, ten on tradeshow (some on both), registered over the past four months.
        books = [inside] if index < 20 else [tradeshow]
        if index % 5 == 0:
            books.append(tradeshow if index < 20 else inside)
        registered_at = now - timedelta(days=120 - 4 * index, hours=index % 5)
        for book in books:
            day = registered_at.date()
            apn = Decimal(excel_serial(day)) + Decimal(1 + index % 3) / 100
            await rules.import_registration(
                actor,
                book.id,
                member.id,
                apn=apn,
                registered_at=registered_at,
                last_re_sign_at=now - timedelta(days=index % 20),
                now=now,
            )
