"""outbox fencing: outbox_events.claim_count, bumped by every claim and never reset

Finishing statements were fenced by ``attempts``, which a replay resets to 0, so a
worker from before the replay could hold the same value as the new owner. The
claim count only ever grows, so no two claims of an event share it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table. Rows in flight under the
    # previous release keep being fenced by attempts by the workers that hold them.
    op.add_column(
        "outbox_events", sa.Column("claim_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    op.create_check_constraint(op.f("ck_outbox_events_claim_count_not_negative"), "outbox_events", "claim_count >= 0")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_outbox_events_claim_count_not_negative"), "outbox_events", type_="check")
    op.drop_column("outbox_events", "claim_count")
