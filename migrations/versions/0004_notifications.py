"""notifications: email_log (one row per event, handler and recipient) and the tenants' email brand

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("brand_color", sa.String(length=7), nullable=True))
    op.add_column("tenants", sa.Column("logo_url", sa.String(length=500), nullable=True))
    op.create_check_constraint(op.f("ck_tenants_brand_color_format"), "tenants", "brand_color ~ '^#[0-9a-fA-F]{6}$'")
    op.create_table(
        "email_log",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("handler", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('sent', 'failed', 'skipped')", name=op.f("ck_email_log_email_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_email_log_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_log")),
        sa.UniqueConstraint("event_id", "handler", "recipient", name="uq_email_log_event_handler_recipient"),
    )
    op.create_index(op.f("ix_email_log_tenant_id"), "email_log", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_email_log_tenant_id"), table_name="email_log")
    op.drop_table("email_log")
    op.drop_constraint(op.f("ck_tenants_brand_color_format"), "tenants", type_="check")
    op.drop_column("tenants", "logo_url")
    op.drop_column("tenants", "brand_color")
