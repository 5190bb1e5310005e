"""hiring hall: members, employers, referral_books, book_registrations, registration_activities (append-only),
labor_requests, job_bids, dispatches and bidding_suspensions (docs/hall.md), all of them now

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = (
    "employers",
    "members",
    "referral_books",
    "bidding_suspensions",
    "book_registrations",
    "labor_requests",
    "job_bids",
    "dispatches",
    "registration_activities",
)
"""In creation order; the downgrade drops them in reverse."""

APPEND_ONLY = (
    """
CREATE FUNCTION registration_activities_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'registration_activities is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege', HINT = 'record a new activity instead';
END
$$
""",
    """
CREATE TRIGGER registration_activities_append_only
    BEFORE UPDATE OR DELETE ON registration_activities
    FOR EACH ROW EXECUTE FUNCTION registration_activities_append_only()
""",
)
"""The database refuses to change or remove the trace (asyncpg runs one statement at a time)."""


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contract_code", sa.String(length=40), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_employers_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employers")),
    )
    op.create_index(op.f("ix_employers_tenant_id"), "employers", ["tenant_id"], unique=False)
    op.create_table(
        "members",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("keycloak_sub", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "inactive",
                "suspended",
                "retired",
                "deceased",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="active",
            nullable=False,
        ),
        sa.Column(
            "classification",
            sa.Enum(
                "apprentice_1",
                "apprentice_2",
                "apprentice_3",
                "apprentice_4",
                "apprentice_5",
                "journeyman",
                "foreman",
                "retiree",
                "honorary",
                name="classification",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_members_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("tenant_id", "keycloak_sub", name="uq_members_tenant_keycloak_sub"),
        sa.UniqueConstraint("tenant_id", "member_number", name="uq_members_tenant_member_number"),
    )
    op.create_index(op.f("ix_members_tenant_id"), "members", ["tenant_id"], unique=False)
    op.create_table(
        "referral_books",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column(
            "classification",
            sa.Enum(
                "inside_wireperson",
                "tradeshow",
                "sound_comm",
                "marine",
                "stockperson",
                "light_fixture",
                "residential",
                "technician",
                "utility_worker",
                "tero_apprentice",
                name="classification",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("book_number", sa.SmallInteger(), nullable=False),
        sa.Column("contract_code", sa.String(length=40), nullable=True),
        sa.Column("referral_start_time", sa.Time(), server_default="08:00", nullable=False),
        sa.Column("re_sign_days", sa.SmallInteger(), server_default="30", nullable=False),
        sa.Column("grace_period_days", sa.SmallInteger(), server_default="3", nullable=False),
        sa.Column("max_check_marks", sa.SmallInteger(), server_default="2", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("internet_bidding_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.CheckConstraint("book_number BETWEEN 1 AND 4", name=op.f("ck_referral_books_book_number_range")),
        sa.CheckConstraint(
            "grace_period_days BETWEEN 0 AND 90", name=op.f("ck_referral_books_grace_period_days_range")
        ),
        sa.CheckConstraint("max_check_marks BETWEEN 0 AND 10", name=op.f("ck_referral_books_max_check_marks_range")),
        sa.CheckConstraint("re_sign_days BETWEEN 1 AND 365", name=op.f("ck_referral_books_re_sign_days_range")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_referral_books_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_books")),
        sa.UniqueConstraint("tenant_id", "code", name="uq_referral_books_tenant_code"),
    )
    op.create_index(op.f("ix_referral_books_tenant_id"), "referral_books", ["tenant_id"], unique=False)
    op.create_table(
        "bidding_suspensions",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_bidding_suspensions_ends_after_start")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_bidding_suspensions_member_id_members")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_bidding_suspensions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bidding_suspensions")),
    )
    op.create_index(op.f("ix_bidding_suspensions_member_id"), "bidding_suspensions", ["member_id"], unique=False)
    op.create_index(op.f("ix_bidding_suspensions_tenant_id"), "bidding_suspensions", ["tenant_id"], unique=False)
    op.create_table(
        "book_registrations",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("book_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("applicant_priority_number", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "registered",
                "dispatched",
                "rolled_off",
                "resigned",
                "exempt",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="registered",
            nullable=False,
        ),
        sa.Column("last_re_sign_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("re_sign_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_marks", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("last_check_mark_on", sa.Date(), nullable=True),
        sa.Column("short_call_restorations", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column(
            "exempt_reason",
            sa.Enum(
                "military",
                "union_business",
                "salting",
                "medical",
                "jury_duty",
                "under_scale",
                "traveling",
                "other",
                name="exempt_reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("exempt_start", sa.Date(), nullable=True),
        sa.Column("exempt_end", sa.Date(), nullable=True),
        sa.Column("roll_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "roll_off_reason",
            sa.Enum(
                "check_marks",
                "quit",
                "discharged",
                "failed_re_sign",
                "bid_reject_quit",
                "manual",
                name="roll_off_reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("re_sign_reminded_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.CheckConstraint(
            "(status = 'rolled_off') = (roll_off_reason IS NOT NULL AND roll_off_at IS NOT NULL)",
            name=op.f("ck_book_registrations_rolled_off_with_reason"),
        ),
        sa.CheckConstraint(
            "(exempt_reason IS NULL) = (exempt_start IS NULL) AND (exempt_start IS NULL) = (exempt_end IS NULL)",
            name=op.f("ck_book_registrations_exemption_complete"),
        ),
        sa.CheckConstraint("applicant_priority_number > 0", name=op.f("ck_book_registrations_apn_positive")),
        sa.CheckConstraint("check_marks >= 0", name=op.f("ck_book_registrations_check_marks_not_negative")),
        sa.CheckConstraint("exempt_end >= exempt_start", name=op.f("ck_book_registrations_exemption_ends_after_start")),
        sa.CheckConstraint(
            "short_call_restorations BETWEEN 0 AND 2", name=op.f("ck_book_registrations_short_call_restorations_range")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"], ["referral_books.id"], name=op.f("fk_book_registrations_book_id_referral_books")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_book_registrations_member_id_members")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_book_registrations_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book_registrations")),
    )
    op.create_index(
        "ix_book_registrations_book_apn", "book_registrations", ["book_id", "applicant_priority_number"], unique=False
    )
    op.create_index(
        "ix_book_registrations_queue",
        "book_registrations",
        ["book_id", "applicant_priority_number", "registered_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'registered'"),
    )
    op.create_index(
        "ix_book_registrations_book_status_apn",
        "book_registrations",
        ["book_id", "status", "applicant_priority_number"],
        unique=False,
    )
    op.create_index(op.f("ix_book_registrations_member_id"), "book_registrations", ["member_id"], unique=False)
    op.create_index(
        op.f("ix_book_registrations_re_sign_deadline"), "book_registrations", ["re_sign_deadline"], unique=False
    )
    op.create_index(op.f("ix_book_registrations_tenant_id"), "book_registrations", ["tenant_id"], unique=False)
    op.create_index(
        "uq_book_registrations_active",
        "book_registrations",
        ["member_id", "book_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('registered', 'dispatched', 'exempt')"),
    )
    op.create_table(
        "labor_requests",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("employer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("book_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("request_number", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("workers_requested", sa.Integer(), nullable=False),
        sa.Column("workers_dispatched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("estimated_duration_days", sa.Integer(), nullable=False),
        sa.Column("is_short_call", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("generates_check_mark", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "no_check_mark_reason",
            sa.Enum(
                "short_call",
                "early_start",
                "specialty",
                "mou_jobsite",
                "under_scale",
                name="no_check_mark_reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("is_specialty", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_mou_jobsite", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_under_scale", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("allows_online_bidding", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("bidding_opens_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bidding_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worksite_name", sa.String(length=200), nullable=True),
        sa.Column("worksite_address", sa.String(length=500), nullable=True),
        sa.Column("report_to", sa.String(length=200), nullable=True),
        sa.Column("wage_rate", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("contract_code", sa.String(length=40), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "partially_filled",
                "filled",
                "cancelled",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.CheckConstraint(
            "request_number ~ '^REQ[0-9]{8}-[0-9]{4}$'", name=op.f("ck_labor_requests_request_number_format")
        ),
        sa.CheckConstraint(
            "estimated_duration_days >= 1", name=op.f("ck_labor_requests_estimated_duration_days_positive")
        ),
        sa.CheckConstraint(
            "generates_check_mark OR no_check_mark_reason IS NOT NULL",
            name=op.f("ck_labor_requests_no_check_mark_has_reason"),
        ),
        sa.CheckConstraint("wage_rate >= 0", name=op.f("ck_labor_requests_wage_rate_not_negative")),
        sa.CheckConstraint(
            "workers_dispatched BETWEEN 0 AND workers_requested",
            name=op.f("ck_labor_requests_workers_dispatched_range"),
        ),
        sa.CheckConstraint("workers_requested >= 1", name=op.f("ck_labor_requests_workers_requested_positive")),
        sa.ForeignKeyConstraint(
            ["book_id"], ["referral_books.id"], name=op.f("fk_labor_requests_book_id_referral_books")
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.id"], name=op.f("fk_labor_requests_employer_id_employers")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_labor_requests_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labor_requests")),
        sa.UniqueConstraint("tenant_id", "request_number", name="uq_labor_requests_tenant_request_number"),
    )
    op.create_index("ix_labor_requests_book_status", "labor_requests", ["book_id", "status"], unique=False)
    op.create_index(op.f("ix_labor_requests_employer_id"), "labor_requests", ["employer_id"], unique=False)
    op.create_index(op.f("ix_labor_requests_tenant_id"), "labor_requests", ["tenant_id"], unique=False)
    op.create_table(
        "job_bids",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("labor_request_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("registration_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("queue_position_at_bid", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "rejected",
                "withdrawn",
                "expired",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("dispatch_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("rejected_by_member", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.ForeignKeyConstraint(
            ["labor_request_id"], ["labor_requests.id"], name=op.f("fk_job_bids_labor_request_id_labor_requests")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_job_bids_member_id_members")),
        sa.ForeignKeyConstraint(
            ["registration_id"], ["book_registrations.id"], name=op.f("fk_job_bids_registration_id_book_registrations")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_job_bids_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_bids")),
    )
    op.create_index(op.f("ix_job_bids_labor_request_id"), "job_bids", ["labor_request_id"], unique=False)
    op.create_index(op.f("ix_job_bids_member_id"), "job_bids", ["member_id"], unique=False)
    op.create_index(op.f("ix_job_bids_tenant_id"), "job_bids", ["tenant_id"], unique=False)
    op.create_index(
        "uq_job_bids_active",
        "job_bids",
        ["labor_request_id", "member_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )
    op.create_table(
        "dispatches",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("labor_request_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("registration_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("bid_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("employer_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "morning_referral",
                "internet_bid",
                "by_name",
                "emergency",
                name="method",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "type",
            sa.Enum(
                "normal", "short_call", "emergency", name="type", native_enum=False, create_constraint=True, length=20
            ),
            server_default="normal",
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "dispatched",
                "checked_in",
                "working",
                "completed",
                "terminated",
                "no_show",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            server_default="dispatched",
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("check_in_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "term_reason",
            sa.Enum(
                "rif",
                "quit",
                "fired",
                "laid_off",
                "short_call_end",
                "contract_end",
                name="term_reason",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("days_worked", sa.Integer(), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.CheckConstraint(
            "(status = 'terminated') = (term_reason IS NOT NULL)", name=op.f("ck_dispatches_terminated_with_reason")
        ),
        sa.CheckConstraint("days_worked >= 0", name=op.f("ck_dispatches_days_worked_not_negative")),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name=op.f("ck_dispatches_ends_after_start")),
        sa.ForeignKeyConstraint(["bid_id"], ["job_bids.id"], name=op.f("fk_dispatches_bid_id_job_bids")),
        sa.ForeignKeyConstraint(["employer_id"], ["employers.id"], name=op.f("fk_dispatches_employer_id_employers")),
        sa.ForeignKeyConstraint(
            ["labor_request_id"], ["labor_requests.id"], name=op.f("fk_dispatches_labor_request_id_labor_requests")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_dispatches_member_id_members")),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["book_registrations.id"],
            name=op.f("fk_dispatches_registration_id_book_registrations"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_dispatches_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatches")),
    )
    op.create_index(op.f("ix_dispatches_labor_request_id"), "dispatches", ["labor_request_id"], unique=False)
    op.create_index("ix_dispatches_member_employer", "dispatches", ["member_id", "employer_id"], unique=False)
    op.create_index(op.f("ix_dispatches_registration_id"), "dispatches", ["registration_id"], unique=False)
    op.create_index(op.f("ix_dispatches_tenant_id"), "dispatches", ["tenant_id"], unique=False)
    # The other half of the job_bids <-> dispatches cycle, now that both tables exist (use_alter).
    op.create_foreign_key("fk_job_bids_dispatch_id_dispatches", "job_bids", "dispatches", ["dispatch_id"], ["id"])
    op.create_table(
        "registration_activities",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("registration_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("member_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("book_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "registered",
                "imported",
                "re_signed",
                "check_mark",
                "check_mark_restored",
                "exempted",
                "exemption_extended",
                "exemption_ended",
                "rolled_off",
                "dispatched",
                "referral_skipped",
                "restored",
                "closed",
                name="action",
                native_enum=False,
                create_constraint=True,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column(
            "previous_status",
            sa.Enum(
                "registered",
                "dispatched",
                "rolled_off",
                "resigned",
                "exempt",
                name="previous_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "new_status",
            sa.Enum(
                "registered",
                "dispatched",
                "rolled_off",
                "resigned",
                "exempt",
                name="new_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("previous_position", sa.Integer(), nullable=True),
        sa.Column("new_position", sa.Integer(), nullable=True),
        sa.Column("labor_request_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("dispatch_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("performed_by", sa.String(length=255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=255), server_default="system", nullable=False),
        sa.Column("updated_by", sa.String(length=255), server_default="system", nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"], ["referral_books.id"], name=op.f("fk_registration_activities_book_id_referral_books")
        ),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatches.id"], name=op.f("fk_registration_activities_dispatch_id_dispatches")
        ),
        sa.ForeignKeyConstraint(
            ["labor_request_id"],
            ["labor_requests.id"],
            name=op.f("fk_registration_activities_labor_request_id_labor_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_registration_activities_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["book_registrations.id"],
            name=op.f("fk_registration_activities_registration_id_book_registrations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_registration_activities_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_activities")),
        sa.UniqueConstraint("seq", name=op.f("uq_registration_activities_seq")),
    )
    op.create_index("ix_registration_activities_book_at", "registration_activities", ["book_id", "at"], unique=False)
    op.create_index(
        "ix_registration_activities_registration_at", "registration_activities", ["registration_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_registration_activities_tenant_id"), "registration_activities", ["tenant_id"], unique=False
    )

    for statement in APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    op.drop_constraint("fk_job_bids_dispatch_id_dispatches", "job_bids", type_="foreignkey")  # the cycle first
    for table in reversed(TABLES):
        op.drop_table(table)  # its indexes, constraints and trigger go with it
    op.execute("DROP FUNCTION registration_activities_append_only()")
