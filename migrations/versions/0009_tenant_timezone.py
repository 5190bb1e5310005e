"""tenant timezone: the zone a tenant's days and hours are in (a hall's crons, bidding windows, deadlines)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("timezone", sa.String(length=64), server_default="America/Los_Angeles", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("tenants", "timezone")
