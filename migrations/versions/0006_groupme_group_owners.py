"""groupme group owners: a GroupMe group belongs to at most one tenant; a team links only its tenant's groups

Also ``tenants.groupme_access_token``, a club's own GroupMe account.

Existing links are recorded as owned by the tenant of the earliest team linked
to each group. Where teams of several tenants shared a group (two clubs'
"U12 Kings Elite 2026-27" matched to one chat), the other tenants' teams are
unlinked (group id and share URL cleared, each logged): their next
``rollcall groupme reconcile`` gives them a group of their own.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

_SHARED_LINKS = """
    SELECT n.slug, t.name, t.season, t.groupme_group_id
    FROM teams t JOIN groupme_groups g ON g.group_id = t.groupme_group_id JOIN tenants n ON n.id = t.tenant_id
    WHERE g.tenant_id <> t.tenant_id
    ORDER BY n.slug, t.season, t.name
"""


def upgrade() -> None:
    op.add_column("tenants", sa.Column("groupme_access_token", sa.String(length=200), nullable=True))
    op.create_check_constraint(
        op.f("ck_tenants_groupme_access_token_format"), "tenants", "groupme_access_token ~ '^[!-~]{1,200}$'"
    )
    op.create_table(
        "groupme_groups",
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_groupme_groups_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_groupme_groups")),
        sa.UniqueConstraint("tenant_id", "group_id", name="uq_groupme_groups_tenant_group"),
    )
    op.execute(
        "INSERT INTO groupme_groups (group_id, tenant_id)"
        " SELECT DISTINCT ON (groupme_group_id) groupme_group_id, tenant_id FROM teams"
        " WHERE groupme_group_id IS NOT NULL ORDER BY groupme_group_id, created_at, id"
    )
    if not context.is_offline_mode():
        for slug, name, season, group_id in op.get_bind().execute(sa.text(_SHARED_LINKS)):
            logger.warning(
                "unlinked team %s %s of tenant %s from GroupMe group %s: another tenant linked it first",
                name,
                season,
                slug,
                group_id,
            )
    op.execute(
        "UPDATE teams t SET groupme_group_id = NULL, groupme_share_url = NULL, updated_at = now()"
        " FROM groupme_groups g WHERE g.group_id = t.groupme_group_id AND g.tenant_id <> t.tenant_id"
    )
    op.create_foreign_key(
        "fk_teams_groupme_group_owned",
        "teams",
        "groupme_groups",
        ["tenant_id", "groupme_group_id"],
        ["tenant_id", "group_id"],
    )


def downgrade() -> None:
    op.drop_constraint("fk_teams_groupme_group_owned", "teams", type_="foreignkey")
    op.drop_table("groupme_groups")
    op.drop_constraint(op.f("ck_tenants_groupme_access_token_format"), "tenants", type_="check")
    op.drop_column("tenants", "groupme_access_token")
