"""club roster: teams, parents, players (with their contract fields), player_teams, contract_audit_log

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parents",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("keycloak_sub", sa.String(length=255), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_parents_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parents")),
    )
    op.create_index(op.f("ix_parents_keycloak_sub"), "parents", ["keycloak_sub"], unique=False)
    op.create_index(op.f("ix_parents_tenant_id"), "parents", ["tenant_id"], unique=False)
    op.create_index("uq_parents_tenant_email", "parents", ["tenant_id", sa.literal_column("lower(email)")], unique=True)
    op.create_table(
        "teams",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("season", sa.String(length=20), nullable=False),
        sa.Column("program", sa.String(length=16), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("monthly_fee", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("groupme_group_id", sa.String(length=64), nullable=True),
        sa.Column("groupme_share_url", sa.String(length=500), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("monthly_fee >= 0", name=op.f("ck_teams_monthly_fee_not_negative")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_teams_tenant_id_tenants")),
        sa.CheckConstraint("program IN ('kings', 'queens')", name=op.f("ck_teams_program")),
        sa.CheckConstraint("tier IN ('elite', 'select', 'development')", name=op.f("ck_teams_tier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("tenant_id", "season", "name", name="uq_teams_tenant_season_name"),
    )
    op.create_index(op.f("ix_teams_tenant_id"), "teams", ["tenant_id"], unique=False)
    op.create_table(
        "players",
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("parent_id", postgresql.UUID(as_uuid=True), nullable=True),
        sa.Column("contract_status", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("contract_token", sa.String(length=64), nullable=True),
        sa.Column("monthly_fee", sa.Integer(), nullable=True),
        sa.Column("contract_offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contract_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contract_signed_by", sa.String(length=200), nullable=True),
        sa.Column("contract_signed_ip", sa.String(length=45), nullable=True),
        sa.Column("contract_signature", sa.String(length=500), nullable=True),
        sa.Column("contract_version", sa.String(length=20), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "contract_status <> 'offered' OR contract_token IS NOT NULL", name=op.f("ck_players_offer_has_token")
        ),
        sa.CheckConstraint(
            "contract_status <> 'signed' OR contract_signed_at IS NOT NULL", name=op.f("ck_players_signed_has_time")
        ),
        sa.CheckConstraint("birth_year BETWEEN 1900 AND 2100", name=op.f("ck_players_birth_year_plausible")),
        sa.CheckConstraint("monthly_fee IS NULL OR monthly_fee >= 0", name=op.f("ck_players_monthly_fee_not_negative")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["parents.id"], name=op.f("fk_players_parent_id_parents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_players_tenant_id_tenants")),
        sa.CheckConstraint(
            "contract_status IN ('none', 'offered', 'signed', 'declined')", name=op.f("ck_players_contract_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_players")),
        sa.UniqueConstraint("contract_token", name=op.f("uq_players_contract_token")),
    )
    op.create_index(op.f("ix_players_parent_id"), "players", ["parent_id"], unique=False)
    op.create_index(op.f("ix_players_tenant_id"), "players", ["tenant_id"], unique=False)
    op.create_table(
        "contract_audit_log",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("tenant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("player_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("old_state", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_state", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actor", sa.Text(), server_default=sa.text("'admin'"), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_contract_audit_log_player_id_players"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_contract_audit_log_tenant_id_tenants")),
        sa.CheckConstraint(
            "event_type IN ('offer', 're_offer', 'tier_change', 'signed', 'declined')",
            name=op.f("ck_contract_audit_log_audit_event"),
        ),
        sa.CheckConstraint("source IN ('api', 'cli', 'public_link')", name=op.f("ck_contract_audit_log_audit_source")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_audit_log")),
    )
    op.create_index("ix_contract_audit_log_player_ts", "contract_audit_log", ["player_id", "ts"], unique=False)
    op.create_index(op.f("ix_contract_audit_log_tenant_id"), "contract_audit_log", ["tenant_id"], unique=False)
    op.create_table(
        "player_teams",
        sa.Column("player_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("team_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["player_id"], ["players.id"], name=op.f("fk_player_teams_player_id_players"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_player_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("player_id", "team_id", name=op.f("pk_player_teams")),
    )
    op.create_index(op.f("ix_player_teams_team_id"), "player_teams", ["team_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_player_teams_team_id"), table_name="player_teams")
    op.drop_table("player_teams")
    op.drop_index(op.f("ix_contract_audit_log_tenant_id"), table_name="contract_audit_log")
    op.drop_index("ix_contract_audit_log_player_ts", table_name="contract_audit_log")
    op.drop_table("contract_audit_log")
    op.drop_index(op.f("ix_players_tenant_id"), table_name="players")
    op.drop_index(op.f("ix_players_parent_id"), table_name="players")
    op.drop_table("players")
    op.drop_index(op.f("ix_teams_tenant_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index("uq_parents_tenant_email", table_name="parents")
    op.drop_index(op.f("ix_parents_tenant_id"), table_name="parents")
    op.drop_index(op.f("ix_parents_keycloak_sub"), table_name="parents")
    op.drop_table("parents")
