"""server defaults: gen_random_uuid() for the ids and now() for the timestamps of tenants, teams, parents, players

The other tables had them from the start. With these, operators can import rows
with plain SQL (``INSERT INTO tenants (slug, name, kind) …``).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("tenants", "teams", "parents", "players")
DEFAULTS = (("id", "gen_random_uuid()"), ("created_at", "now()"), ("updated_at", "now()"))


def upgrade() -> None:
    for table in TABLES:
        for column, default in DEFAULTS:
            op.alter_column(table, column, server_default=sa.text(default))


def downgrade() -> None:
    for table in TABLES:
        for column, _ in DEFAULTS:
            op.alter_column(table, column, server_default=None)
