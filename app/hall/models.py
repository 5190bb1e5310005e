"""The hiring hall's tables (docs/hall.md): members, employers, referral books, registrations and their
append-only trace, labor requests, bids, dispatches and bidding suspensions.

Every table is tenant-owned (``tenant_id NOT NULL``, indexed) and carries the audit columns: ``created_at``
and ``updated_at`` (database default ``now()``), ``created_by`` and ``updated_by`` (the caller's ``sub``, or
``system`` for crons and plain-SQL imports). Every allowed value is a CHECK in the database. The APN and the
wage rate are ``NUMERIC(10,2)``, read as :class:`~decimal.Decimal`, never a float.

``dispatches.bid_id`` and ``job_bids.dispatch_id`` are two foreign-key paths between the same two tables:
each relationship names its ``foreign_keys``, and ``job_bids.dispatch_id`` is created after both tables
(``use_alter``), which breaks the cycle.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import DefaultBase
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.base import UUIDAuditBase
from app.core.columns import enum_column
from app.tenants.models import Tenant

__all__ = [
    "ACTIVE_REGISTRATION",
    "ActivityAction",
    "BidStatus",
    "BiddingSuspension",
    "BookClassification",
    "BookQueueSpan",
    "BookRegistration",
    "Dispatch",
    "DispatchMethod",
    "DispatchStatus",
    "DispatchType",
    "Employer",
    "ExemptReason",
    "JobBid",
    "LaborRequest",
    "LaborRequestStatus",
    "Member",
    "MemberClassification",
    "MemberStatus",
    "NoCheckMarkReason",
    "ReferralBook",
    "RegistrationActivity",
    "RegistrationStatus",
    "RollOffReason",
    "TermReason",
]

SYSTEM = "system"
"""``created_by`` / ``updated_by`` / ``performed_by`` of what no person did: crons and plain-SQL imports."""


class MemberStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"
    RETIRED = "retired"
    DECEASED = "deceased"


class MemberClassification(StrEnum):
    APPRENTICE_1 = "apprentice_1"
    APPRENTICE_2 = "apprentice_2"
    APPRENTICE_3 = "apprentice_3"
    APPRENTICE_4 = "apprentice_4"
    APPRENTICE_5 = "apprentice_5"
    JOURNEYMAN = "journeyman"
    FOREMAN = "foreman"
    RETIREE = "retiree"
    HONORARY = "honorary"


class BookClassification(StrEnum):
    INSIDE_WIREPERSON = "inside_wireperson"
    TRADESHOW = "tradeshow"
    SOUND_COMM = "sound_comm"
    MARINE = "marine"
    STOCKPERSON = "stockperson"
    LIGHT_FIXTURE = "light_fixture"
    RESIDENTIAL = "residential"
    TECHNICIAN = "technician"
    UTILITY_WORKER = "utility_worker"
    TERO_APPRENTICE = "tero_apprentice"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    ROLLED_OFF = "rolled_off"
    RESIGNED = "resigned"
    EXEMPT = "exempt"


ACTIVE_REGISTRATION = (RegistrationStatus.REGISTERED, RegistrationStatus.DISPATCHED, RegistrationStatus.EXEMPT)
"""A member holds at most one registration in these states per book (``uq_book_registrations_active``)."""


class ExemptReason(StrEnum):
    MILITARY = "military"
    UNION_BUSINESS = "union_business"
    SALTING = "salting"
    MEDICAL = "medical"
    JURY_DUTY = "jury_duty"
    UNDER_SCALE = "under_scale"
    TRAVELING = "traveling"
    OTHER = "other"


class RollOffReason(StrEnum):
    CHECK_MARKS = "check_marks"
    QUIT = "quit"
    DISCHARGED = "discharged"
    FAILED_RE_SIGN = "failed_re_sign"
    BID_REJECT_QUIT = "bid_reject_quit"
    MANUAL = "manual"


class ActivityAction(StrEnum):
    """What a ``registration_activities`` row records; each names the rule behind it (docs/hall.md)."""

    REGISTERED = "registered"
    """Rule 1: a new registration with a computed APN."""
    IMPORTED = "imported"
    """Rule 1: a registration carried over from another system with its APN."""
    RE_SIGNED = "re_signed"
    """Rule 3."""
    CHECK_MARK = "check_mark"
    """Rule 4: a missed call."""
    CHECK_MARK_RESTORED = "check_mark_restored"
    """Rule 4: a mark taken back, with a reason."""
    EXEMPTED = "exempted"
    """Rule 6: out of the queue for the exemption's period."""
    EXEMPTION_EXTENDED = "exemption_extended"
    """Rule 6: an admin moved the end of the exemption."""
    EXEMPTION_ENDED = "exemption_ended"
    """Rule 6: back in the queue with the same APN."""
    ROLLED_OFF = "rolled_off"
    """Rules 3, 4, 9, 11 and a manual roll-off: off the book, with ``roll_off_reason``."""
    DISPATCHED = "dispatched"
    """Rule 10."""
    REFERRAL_SKIPPED = "referral_skipped"
    """Rule 10: passed over by a morning referral, with the recorded reason."""
    RESTORED = "restored"
    """Rule 11: back on the book after a short call, with the original APN."""
    CLOSED = "closed"
    """Rule 11: the registration ends with the job (other termination reasons)."""


class NoCheckMarkReason(StrEnum):
    SHORT_CALL = "short_call"
    EARLY_START = "early_start"
    SPECIALTY = "specialty"
    MOU_JOBSITE = "mou_jobsite"
    UNDER_SCALE = "under_scale"


class LaborRequestStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class BidStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class DispatchMethod(StrEnum):
    MORNING_REFERRAL = "morning_referral"
    INTERNET_BID = "internet_bid"
    BY_NAME = "by_name"
    EMERGENCY = "emergency"


class DispatchType(StrEnum):
    NORMAL = "normal"
    SHORT_CALL = "short_call"
    EMERGENCY = "emergency"


class DispatchStatus(StrEnum):
    DISPATCHED = "dispatched"
    CHECKED_IN = "checked_in"
    WORKING = "working"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    NO_SHOW = "no_show"


class TermReason(StrEnum):
    RIF = "rif"
    QUIT = "quit"
    FIRED = "fired"
    LAID_OFF = "laid_off"
    SHORT_CALL_END = "short_call_end"
    CONTRACT_END = "contract_end"


class _HallBase(UUIDAuditBase):
    """A hall table: its tenant, and who created and last changed each row."""

    __abstract__ = True

    tenant_id: Mapped[UUID] = mapped_column(ForeignKey(Tenant.id), index=True, sort_order=-90)
    created_by: Mapped[str] = mapped_column(String(255), default=SYSTEM, server_default=SYSTEM, sort_order=3004)
    updated_by: Mapped[str] = mapped_column(String(255), default=SYSTEM, server_default=SYSTEM, sort_order=3005)


class Member(_HallBase):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_number", name="uq_members_tenant_member_number"),
        UniqueConstraint("tenant_id", "keycloak_sub", name="uq_members_tenant_keycloak_sub"),
    )

    member_number: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    keycloak_sub: Mapped[str | None] = mapped_column(String(255))
    """The member's login (the token's ``sub``): a member sees their own registrations and positions."""
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus, "status"), default=MemberStatus.ACTIVE, server_default=MemberStatus.ACTIVE.value
    )
    classification: Mapped[MemberClassification] = mapped_column(
        enum_column(MemberClassification, "classification", length=20)
    )


class Employer(_HallBase):
    __tablename__ = "employers"

    name: Mapped[str] = mapped_column(String(200))
    contract_code: Mapped[str | None] = mapped_column(String(40))


class ReferralBook(_HallBase):
    """One out-of-work list. Its rules are columns: how often to re-sign, the grace, the check marks allowed."""

    __tablename__ = "referral_books"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code", name="uq_referral_books_tenant_code"),
        CheckConstraint("book_number BETWEEN 1 AND 4", name="book_number_range"),
        CheckConstraint("re_sign_days BETWEEN 1 AND 365", name="re_sign_days_range"),
        CheckConstraint("grace_period_days BETWEEN 0 AND 90", name="grace_period_days_range"),
        CheckConstraint("max_check_marks BETWEEN 0 AND 10", name="max_check_marks_range"),
    )

    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(20))
    classification: Mapped[BookClassification] = mapped_column(
        enum_column(BookClassification, "classification", length=20)
    )
    region: Mapped[str] = mapped_column(String(100))
    book_number: Mapped[int] = mapped_column(SmallInteger)
    """1 to 4; book 1 is the local's own members, dispatched first."""
    contract_code: Mapped[str | None] = mapped_column(String(40))
    """The collective agreement the book's jobs fall under; none for tradeshow and TERO books. Not the name."""
    referral_start_time: Mapped[time] = mapped_column(Time, default=time(8, 0), server_default="08:00")
    """When the morning referral starts, in the hall's timezone."""
    re_sign_days: Mapped[int] = mapped_column(SmallInteger, default=30, server_default="30")
    grace_period_days: Mapped[int] = mapped_column(SmallInteger, default=3, server_default="3")
    max_check_marks: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    """The mark after these rolls the registration off (rule 4)."""
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    internet_bidding_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class BookRegistration(_HallBase):
    """A member's place on a book: the APN decides it (ties by ``registered_at``, then ``id``)."""

    __tablename__ = "book_registrations"
    __table_args__ = (
        Index(
            "uq_book_registrations_active",
            "member_id",
            "book_id",
            unique=True,
            postgresql_where=text("status IN ('registered', 'dispatched', 'exempt')"),
        ),
        Index("ix_book_registrations_book_status_apn", "book_id", "status", "applicant_priority_number"),
        Index("ix_book_registrations_book_apn", "book_id", "applicant_priority_number"),
        # The out-of-work list in its order (rule 2): a page or a place is a walk along it, never a sort.
        Index(
            "ix_book_registrations_queue",
            "book_id",
            "applicant_priority_number",
            "registered_at",
            "id",
            postgresql_where=text("status = 'registered'"),
        ),
        CheckConstraint("applicant_priority_number > 0", name="apn_positive"),
        CheckConstraint("check_marks >= 0", name="check_marks_not_negative"),
        CheckConstraint("short_call_restorations BETWEEN 0 AND 2", name="short_call_restorations_range"),
        CheckConstraint(
            "(exempt_reason IS NULL) = (exempt_start IS NULL) AND (exempt_start IS NULL) = (exempt_end IS NULL)",
            name="exemption_complete",
        ),
        CheckConstraint("exempt_end >= exempt_start", name="exemption_ends_after_start"),
        CheckConstraint(
            "(status = 'rolled_off') = (roll_off_reason IS NOT NULL AND roll_off_at IS NOT NULL)",
            name="rolled_off_with_reason",
        ),
    )

    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"), index=True)
    book_id: Mapped[UUID] = mapped_column(ForeignKey("referral_books.id"))
    applicant_priority_number: Mapped[Decimal] = mapped_column(Numeric(10, 2, asdecimal=True))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    status: Mapped[RegistrationStatus] = mapped_column(
        enum_column(RegistrationStatus, "status"),
        default=RegistrationStatus.REGISTERED,
        server_default=RegistrationStatus.REGISTERED.value,
    )
    last_re_sign_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    re_sign_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    check_marks: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    last_check_mark_on: Mapped[date | None] = mapped_column(Date)
    """The hall's day of the last mark: one mark per registration per day."""
    short_call_restorations: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    exempt_reason: Mapped[ExemptReason | None] = mapped_column(enum_column(ExemptReason, "exempt_reason", length=20))
    exempt_start: Mapped[date | None] = mapped_column(Date)
    exempt_end: Mapped[date | None] = mapped_column(Date)
    """The last day of the exemption (inclusive), in the hall's timezone."""
    roll_off_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    roll_off_reason: Mapped[RollOffReason | None] = mapped_column(
        enum_column(RollOffReason, "roll_off_reason", length=20)
    )
    re_sign_reminded_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The deadline the last ``registration.re_sign_due`` was sent for: one reminder per deadline."""

    member: Mapped[Member] = relationship(Member, foreign_keys=[member_id], lazy="raise")
    book: Mapped[ReferralBook] = relationship(ReferralBook, foreign_keys=[book_id], lazy="raise")


class BookQueueSpan(DefaultBase):
    """How many of a book's registrants wait on the out-of-work list with an APN in one span of eight days
    (``span`` = APN // 8). Kept by triggers on ``book_registrations`` (migration 0011), never by the
    application: a list's total is the sum of its spans, and a page or a place far down the list starts at its
    span instead of walking every registrant before it. A span nobody waits in has no row."""

    __tablename__ = "book_queue_spans"
    __table_args__ = (CheckConstraint("waiting >= 0", name="waiting_not_negative"),)

    book_id: Mapped[UUID] = mapped_column(ForeignKey("referral_books.id", ondelete="CASCADE"), primary_key=True)
    span: Mapped[int] = mapped_column(Integer, primary_key=True)
    waiting: Mapped[int] = mapped_column(Integer)


class RegistrationActivity(_HallBase):
    """The trace: one row per change of a registration, never updated or deleted (a trigger refuses both)."""

    __tablename__ = "registration_activities"
    __table_args__ = (
        Index("ix_registration_activities_registration_at", "registration_id", "at"),
        Index("ix_registration_activities_book_at", "book_id", "at"),
        # The skips recorded for a request (rule 10): read by every morning referral.
        Index(
            "ix_registration_activities_skips",
            "labor_request_id",
            "registration_id",
            postgresql_where=text("action = 'referral_skipped'"),
        ),
    )

    registration_id: Mapped[UUID] = mapped_column(ForeignKey("book_registrations.id"))
    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"))
    book_id: Mapped[UUID] = mapped_column(ForeignKey("referral_books.id"))
    action: Mapped[ActivityAction] = mapped_column(enum_column(ActivityAction, "action", length=30))
    previous_status: Mapped[RegistrationStatus | None] = mapped_column(
        enum_column(RegistrationStatus, "previous_status")
    )
    new_status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus, "new_status"))
    previous_position: Mapped[int | None] = mapped_column(Integer)
    """The 1-based place on the out-of-work list before the change; null when not on it."""
    new_position: Mapped[int | None] = mapped_column(Integer)
    labor_request_id: Mapped[UUID | None] = mapped_column(ForeignKey("labor_requests.id"))
    dispatch_id: Mapped[UUID | None] = mapped_column(ForeignKey("dispatches.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    performed_by: Mapped[str] = mapped_column(String(255))
    """The caller's ``sub``, or ``system``."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    """When the rule applied."""
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    """The order rows were written in: a replay of the trace follows it (several rows can share ``at``)."""


class LaborRequest(_HallBase):
    """An employer's order for workers from one book."""

    __tablename__ = "labor_requests"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_number", name="uq_labor_requests_tenant_request_number"),
        CheckConstraint("request_number ~ '^REQ[0-9]{8}-[0-9]{4}$'", name="request_number_format"),
        CheckConstraint("workers_requested >= 1", name="workers_requested_positive"),
        CheckConstraint("workers_dispatched BETWEEN 0 AND workers_requested", name="workers_dispatched_range"),
        CheckConstraint("estimated_duration_days >= 1", name="estimated_duration_days_positive"),
        CheckConstraint("wage_rate >= 0", name="wage_rate_not_negative"),
        CheckConstraint("generates_check_mark OR no_check_mark_reason IS NOT NULL", name="no_check_mark_has_reason"),
        Index("ix_labor_requests_book_status", "book_id", "status"),
    )

    employer_id: Mapped[UUID] = mapped_column(ForeignKey("employers.id"), index=True)
    book_id: Mapped[UUID] = mapped_column(ForeignKey("referral_books.id"))
    request_number: Mapped[str] = mapped_column(String(20))
    """``REQyyyymmdd-NNNN``: the day received and that day's count, unique per tenant."""
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    workers_requested: Mapped[int] = mapped_column(Integer)
    workers_dispatched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    start_date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    estimated_duration_days: Mapped[int] = mapped_column(Integer)
    is_short_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    generates_check_mark: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    no_check_mark_reason: Mapped[NoCheckMarkReason | None] = mapped_column(
        enum_column(NoCheckMarkReason, "no_check_mark_reason", length=20)
    )
    is_specialty: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_mou_jobsite: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_under_scale: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    allows_online_bidding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    bidding_opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bidding_closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worksite_name: Mapped[str | None] = mapped_column(String(200))
    worksite_address: Mapped[str | None] = mapped_column(String(500))
    report_to: Mapped[str | None] = mapped_column(String(200))
    """Whom the member reports to on site."""
    wage_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2, asdecimal=True))
    contract_code: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[LaborRequestStatus] = mapped_column(
        enum_column(LaborRequestStatus, "status"),
        default=LaborRequestStatus.OPEN,
        server_default=LaborRequestStatus.OPEN.value,
    )
    notes: Mapped[str | None] = mapped_column(Text)

    employer: Mapped[Employer] = relationship(Employer, foreign_keys=[employer_id], lazy="raise")
    book: Mapped[ReferralBook] = relationship(ReferralBook, foreign_keys=[book_id], lazy="raise")


class JobBid(_HallBase):
    """A member's online bid for a labor request (rule 8)."""

    __tablename__ = "job_bids"
    __table_args__ = (
        Index(
            "uq_job_bids_active",
            "labor_request_id",
            "member_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'accepted')"),
        ),
    )

    labor_request_id: Mapped[UUID] = mapped_column(ForeignKey("labor_requests.id"), index=True)
    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"), index=True)
    registration_id: Mapped[UUID] = mapped_column(ForeignKey("book_registrations.id"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    queue_position_at_bid: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[BidStatus] = mapped_column(
        enum_column(BidStatus, "status"), default=BidStatus.PENDING, server_default=BidStatus.PENDING.value
    )
    dispatch_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("dispatches.id", use_alter=True, name="fk_job_bids_dispatch_id_dispatches")
    )
    rejected_by_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    labor_request: Mapped[LaborRequest] = relationship(LaborRequest, foreign_keys=[labor_request_id], lazy="raise")
    member: Mapped[Member] = relationship(Member, foreign_keys=[member_id], lazy="raise")
    registration: Mapped[BookRegistration] = relationship(
        BookRegistration, foreign_keys=[registration_id], lazy="raise"
    )
    dispatch: Mapped[Dispatch | None] = relationship(
        "Dispatch", foreign_keys=[dispatch_id], post_update=True, lazy="raise"
    )


class Dispatch(_HallBase):
    """A member sent to an employer for a labor request (rule 10), and how the job ended (rule 11)."""

    __tablename__ = "dispatches"
    __table_args__ = (
        CheckConstraint("days_worked >= 0", name="days_worked_not_negative"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ends_after_start"),
        CheckConstraint("(status = 'terminated') = (term_reason IS NOT NULL)", name="terminated_with_reason"),
        Index("ix_dispatches_member_employer", "member_id", "employer_id"),
    )

    labor_request_id: Mapped[UUID] = mapped_column(ForeignKey("labor_requests.id"), index=True)
    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"))
    registration_id: Mapped[UUID] = mapped_column(ForeignKey("book_registrations.id"), index=True)
    bid_id: Mapped[UUID | None] = mapped_column(ForeignKey("job_bids.id"))
    employer_id: Mapped[UUID] = mapped_column(ForeignKey("employers.id"))
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    method: Mapped[DispatchMethod] = mapped_column(enum_column(DispatchMethod, "method", length=20))
    type: Mapped[DispatchType] = mapped_column(
        enum_column(DispatchType, "type", length=20), default=DispatchType.NORMAL, server_default="normal"
    )
    status: Mapped[DispatchStatus] = mapped_column(
        enum_column(DispatchStatus, "status", length=20),
        default=DispatchStatus.DISPATCHED,
        server_default=DispatchStatus.DISPATCHED.value,
    )
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a by-name or emergency dispatch went outside the queue."""
    check_in_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    term_reason: Mapped[TermReason | None] = mapped_column(enum_column(TermReason, "term_reason", length=20))
    days_worked: Mapped[int | None] = mapped_column(Integer)

    labor_request: Mapped[LaborRequest] = relationship(LaborRequest, foreign_keys=[labor_request_id], lazy="raise")
    member: Mapped[Member] = relationship(Member, foreign_keys=[member_id], lazy="raise")
    registration: Mapped[BookRegistration] = relationship(
        BookRegistration, foreign_keys=[registration_id], lazy="raise"
    )
    employer: Mapped[Employer] = relationship(Employer, foreign_keys=[employer_id], lazy="raise")
    bid: Mapped[JobBid | None] = relationship(JobBid, foreign_keys=[bid_id], lazy="raise")


class BiddingSuspension(_HallBase):
    """A period in which a member may not bid (rule 9: a second rejection within 12 months)."""

    __tablename__ = "bidding_suspensions"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    member_id: Mapped[UUID] = mapped_column(ForeignKey("members.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)

    member: Mapped[Member] = relationship(Member, foreign_keys=[member_id], lazy="raise")
