"""jersey public orders: jersey_public_orders (docs/club.md "Jersey orders"), nothing else

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "jersey_public_orders"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("submitter_keycloak_sub", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("player_name", sa.String(length=200), nullable=False),
        sa.Column("jersey_number", sa.SmallInteger(), nullable=True),
        sa.Column("size", sa.String(length=10), nullable=False),
        sa.Column("kq", sa.String(length=10), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="submitted", nullable=False),
        sa.Column("parent_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("player_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("jersey_number BETWEEN 0 AND 99", name=op.f("ck_jersey_public_orders_jersey_number_range")),
        sa.CheckConstraint(
            "size IN ('YS', 'YM', 'YL', 'YXL', 'AS', 'AM', 'AL', 'AXL', 'A2XL')",
            name=op.f("ck_jersey_public_orders_size"),
        ),
        sa.CheckConstraint("kq IN ('kings', 'queens')", name=op.f("ck_jersey_public_orders_kq")),
        sa.CheckConstraint("tier IN ('elite', 'select', 'development')", name=op.f("ck_jersey_public_orders_tier")),
        sa.CheckConstraint(
            "status IN ('submitted', 'reconciled', 'paid', 'fulfilled', 'cancelled')",
            name=op.f("ck_jersey_public_orders_status"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_jersey_public_orders_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["parents.id"], name=op.f("fk_jersey_public_orders_parent_id_parents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_jersey_public_orders_player_id_players"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jersey_public_orders")),
    )
    op.create_index("ix_jersey_public_orders_tenant_status", TABLE, ["tenant_id", "status"], unique=False)
    op.create_index(op.f("ix_jersey_public_orders_submitter_keycloak_sub"), TABLE, ["submitter_keycloak_sub"])
    op.create_index(op.f("ix_jersey_public_orders_email"), TABLE, ["email"])


def downgrade() -> None:
    op.drop_table(TABLE)  # its indexes and constraints go with it; nothing else is touched
