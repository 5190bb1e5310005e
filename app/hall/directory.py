"""The hall's master data: members, employers and referral books, each scoped to the caller's hall.

Another hall's rows are "not found". Keys the database keeps unique (a member number, a login, a book code)
and rows other tables still point at (a member's registrations, an employer's labor requests, a book's
registrations) are refused by the database; the repositories turn each into a 409 that says why.
Every write records who made it (``created_by``, ``updated_by``: the caller's ``sub``).
"""

from __future__ import annotations

from typing import Generic, TypeVar
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository

from app.core.errors import constraint_messages
from app.core.services import TenantScopedService
from app.hall.models import Employer, Member, ReferralBook

__all__ = ["BookService", "EmployerService", "MemberService"]

ModelT = TypeVar("ModelT", Member, Employer, ReferralBook)

MEMBER_HAS_REGISTRATIONS = (
    "the member has registrations on a referral book, which keep the books' history: "
    "change their status instead of deleting them"
)
EMPLOYER_IS_REFERENCED = "the employer has labor requests or dispatches, which keep the hall's history"
BOOK_HAS_REGISTRATIONS = (
    "the book has registrations or labor requests, which keep its history: set is_active to false instead"
)


class _HallScoped(TenantScopedService[ModelT], Generic[ModelT]):
    """The hall's rows; every write records its author."""

    async def create_for(self, tenant_id: UUID, actor: str, data: msgspec.Struct) -> ModelT:
        """Insert and commit; ``actor`` (the caller's ``sub``) is its author."""
        fields = msgspec.structs.asdict(data)
        item = self.repository.model_type(tenant_id=tenant_id, created_by=actor, updated_by=actor, **fields)
        created = await self.create(item, auto_commit=True, auto_expunge=True)
        return await self.get_for(tenant_id, created.id)

    async def update_for(self, tenant_id: UUID, item_id: UUID, actor: str, changes: msgspec.Struct) -> ModelT:
        """Apply the fields ``changes`` sets (absent ones stay; ``null`` clears) and commit."""
        item = await self.get_for(tenant_id, item_id)
        self.apply(item, changes)
        item.updated_by = actor
        await self.update(item, auto_commit=True, auto_expunge=True)
        return await self.get_for(tenant_id, item_id)


class MemberService(_HallScoped[Member]):
    """Members by last name, first name, member number. Member numbers and logins are unique in a hall."""

    noun = "member"
    order = (Member.last_name.asc(), Member.first_name.asc(), Member.member_number.asc())

    class Repo(SQLAlchemyAsyncRepository[Member]):
        model_type = Member
        error_messages = constraint_messages(
            uq_members_tenant_member_number="a member with this member_number already exists",
            uq_members_tenant_keycloak_sub="another member already has this keycloak_sub (login)",
            fk_book_registrations_member_id_members=MEMBER_HAS_REGISTRATIONS,
            fk_registration_activities_member_id_members=MEMBER_HAS_REGISTRATIONS,
            fk_job_bids_member_id_members=MEMBER_HAS_REGISTRATIONS,
            fk_dispatches_member_id_members=MEMBER_HAS_REGISTRATIONS,
            fk_bidding_suspensions_member_id_members="the member has bidding suspensions on record: "
            "change their status instead of deleting them",
        )

    repository_type = Repo


class EmployerService(_HallScoped[Employer]):
    """Employers by name."""

    noun = "employer"
    order = (Employer.name.asc(), Employer.id.asc())

    class Repo(SQLAlchemyAsyncRepository[Employer]):
        model_type = Employer
        error_messages = constraint_messages(
            fk_labor_requests_employer_id_employers=EMPLOYER_IS_REFERENCED,
            fk_dispatches_employer_id_employers=EMPLOYER_IS_REFERENCED,
        )

    repository_type = Repo


class BookService(_HallScoped[ReferralBook]):
    """Referral books by name, then code (unique in a hall). A book's rules are its columns."""

    noun = "book"
    order = (ReferralBook.name.asc(), ReferralBook.code.asc())

    class Repo(SQLAlchemyAsyncRepository[ReferralBook]):
        model_type = ReferralBook
        error_messages = constraint_messages(
            uq_referral_books_tenant_code="a book with this code already exists",
            fk_book_registrations_book_id_referral_books=BOOK_HAS_REGISTRATIONS,
            fk_registration_activities_book_id_referral_books=BOOK_HAS_REGISTRATIONS,
            fk_labor_requests_book_id_referral_books=BOOK_HAS_REGISTRATIONS,
        )

    repository_type = Repo
