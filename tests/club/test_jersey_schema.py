"""``jersey_public_orders`` is exactly the spec's table, in a migration of its own, and the database itself
refuses what the spec does not allow."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from tests.test_migrations import _dsn, _tables, empty_database  # noqa: F401  (the fixture)

TABLE = "jersey_public_orders"
REVISION = "0008"
"""The migration that adds the table (later ones add other tables: the round trip stops at this one)."""

COLUMNS = {
    "id": ("uuid", "NO", None, "gen_random_uuid()"),
    "tenant_id": ("uuid", "NO", None, None),
    "submitter_keycloak_sub": ("character varying", "NO", 255, None),
    "email": ("character varying", "NO", 255, None),
    "player_name": ("character varying", "NO", 200, None),
    "jersey_number": ("smallint", "YES", None, None),
    "size": ("character varying", "NO", 10, None),
    "kq": ("character varying", "NO", 10, None),
    "tier": ("character varying", "NO", 20, None),
    "status": ("character varying", "NO", 20, "'submitted'::character varying"),
    "parent_id": ("uuid", "YES", None, None),
    "player_id": ("uuid", "YES", None, None),
    "notes": ("text", "YES", None, None),
    "created_at": ("timestamp with time zone", "NO", None, "now()"),
    "updated_at": ("timestamp with time zone", "NO", None, "now()"),
}
FOREIGN_KEYS = {
    ("tenant_id", "tenants", "NO ACTION"),
    ("parent_id", "parents", "SET NULL"),
    ("player_id", "players", "SET NULL"),
}
INDEXES = {
    "pk_jersey_public_orders": "(id)",
    "ix_jersey_public_orders_tenant_status": "(tenant_id, status)",
    "ix_jersey_public_orders_submitter_keycloak_sub": "(submitter_keycloak_sub)",
    "ix_jersey_public_orders_email": "(email)",
}


async def describe(dsn: str) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(
            "SELECT column_name, data_type, is_nullable, character_maximum_length, column_default "
            "FROM information_schema.columns WHERE table_name = $1",
            TABLE,
        )
        keys = await connection.fetch(
            """SELECT a.attname AS column_name, f.relname AS target, c.confdeltype AS on_delete
               FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class f ON f.oid = c.confrelid
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
               WHERE t.relname = $1 AND c.contype = 'f'""",
            TABLE,
        )
        checks = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = $1 AND c.contype = 'c'",
            TABLE,
        )
        indexes = await connection.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1", TABLE)
    finally:
        await connection.close()
    actions = {"a": "NO ACTION", "n": "SET NULL", "c": "CASCADE", "r": "RESTRICT", "d": "SET DEFAULT"}
    return {
        "columns": {
            row["column_name"]: (
                row["data_type"],
                row["is_nullable"],
                row["character_maximum_length"],
                row["column_default"],
            )
            for row in columns
        },
        "foreign_keys": {
            (
                row["column_name"],
                row["target"],
                actions[row["on_delete"].decode() if isinstance(row["on_delete"], bytes) else row["on_delete"]],
            )
            for row in keys
        },
        "checks": {row["conname"]: row["definition"] for row in checks},
        "indexes": {row["indexname"]: row["indexdef"].split(" USING btree ")[1] for row in indexes},
    }


def assert_exactly_the_spec(found: dict[str, Any]) -> None:
    assert found["columns"] == COLUMNS
    assert found["foreign_keys"] == FOREIGN_KEYS
    assert found["indexes"] == INDEXES
    checks = found["checks"]
    assert set(checks) == {
        "ck_jersey_public_orders_jersey_number_range",
        "ck_jersey_public_orders_size",
        "ck_jersey_public_orders_kq",
        "ck_jersey_public_orders_tier",
        "ck_jersey_public_orders_status",
    }
    for value in ("YS", "YM", "YL", "YXL", "AS", "AM", "AL", "AXL", "A2XL"):
        assert f"'{value}'" in checks["ck_jersey_public_orders_size"]
    assert "'kings'" in checks["ck_jersey_public_orders_kq"]
    assert "'queens'" in checks["ck_jersey_public_orders_kq"]


@pytest.fixture
async def migrated(empty_database: str) -> str:  # noqa: F811
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    await asyncio.to_thread(commands.upgrade)
    return _dsn(empty_database)


async def test_upgrade_creates_exactly_the_table_and_downgrade_drops_only_it(
    empty_database: str,  # noqa: F811
) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    dsn = _dsn(empty_database)
    await asyncio.to_thread(commands.upgrade, REVISION)
    assert_exactly_the_spec(await describe(dsn))
    everything = await _tables(dsn)

    await asyncio.to_thread(commands.downgrade, "-1")
    assert await _tables(dsn) == everything - {TABLE}
    assert (await describe(dsn))["columns"] == {}

    await asyncio.to_thread(commands.upgrade, REVISION)
    assert await _tables(dsn) == everything
    assert_exactly_the_spec(await describe(dsn))

    await asyncio.to_thread(commands.upgrade)  # and the later migrations leave it as it is
    assert_exactly_the_spec(await describe(dsn))


async def plain_insert(dsn: str, **values: Any) -> asyncpg.Record:
    """An order written with SQL alone (as an operator's import would), for a new tenant."""
    connection = await asyncpg.connect(dsn)
    try:
        tenant = await connection.fetchval(
            "INSERT INTO tenants (slug, name, kind) VALUES ('c-' || gen_random_uuid(), 'Club', 'club') RETURNING id"
        )
        row = {
            "tenant_id": tenant,
            "submitter_keycloak_sub": "u-1",
            "email": "dana@example.org",
            "player_name": "Avery",
            "size": "YM",
            "kq": "kings",
            "tier": "elite",
            **values,
        }
        names = ", ".join(row)
        places = ", ".join(f"${number}" for number in range(1, len(row) + 1))
        inserted: asyncpg.Record = await connection.fetchrow(
            f"INSERT INTO {TABLE} ({names}) VALUES ({places}) RETURNING *",  # noqa: S608  (the test's own names)
            *row.values(),
        )
        return inserted
    finally:
        await connection.close()


async def test_the_database_fills_the_id_timestamps_and_status(migrated: str) -> None:
    row = await plain_insert(migrated, jersey_number=None)
    assert row["id"] is not None
    assert row["created_at"] is not None
    assert row["updated_at"] == row["created_at"]
    assert row["status"] == "submitted"


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("kq", "kingdoms", "ck_jersey_public_orders_kq"),
        ("tier", "gold", "ck_jersey_public_orders_tier"),
        ("jersey_number", 100, "ck_jersey_public_orders_jersey_number_range"),
        ("jersey_number", -1, "ck_jersey_public_orders_jersey_number_range"),
        ("status", "shipped", "ck_jersey_public_orders_status"),
        ("size", "XXL", "ck_jersey_public_orders_size"),
    ],
)
async def test_the_database_refuses_what_the_spec_does_not_allow(
    migrated: str, column: str, value: Any, constraint: str
) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await plain_insert(migrated, **{column: value})
    assert refused.value.constraint_name == constraint


async def test_the_bounds_are_allowed(migrated: str) -> None:
    assert (await plain_insert(migrated, jersey_number=0))["jersey_number"] == 0
    assert (await plain_insert(migrated, jersey_number=99, kq="queens", tier="development"))["jersey_number"] == 99


async def test_deleting_a_parent_or_player_empties_the_link_only(migrated: str) -> None:
    connection = await asyncpg.connect(migrated)
    try:
        order = await plain_insert(migrated)
        tenant = order["tenant_id"]
        parent = await connection.fetchval(
            "INSERT INTO parents (tenant_id, name, email) VALUES ($1, 'Dana', 'd@example.org') RETURNING id", tenant
        )
        player = await connection.fetchval(
            "INSERT INTO players (tenant_id, name, parent_id) VALUES ($1, 'Avery', $2) RETURNING id", tenant, parent
        )
        await connection.execute(
            f"UPDATE {TABLE} SET parent_id = $1, player_id = $2 WHERE id = $3",  # noqa: S608
            parent,
            player,
            order["id"],
        )
        await connection.execute("DELETE FROM players WHERE id = $1", player)
        await connection.execute("DELETE FROM parents WHERE id = $1", parent)
        row = await connection.fetchrow(f"SELECT * FROM {TABLE} WHERE id = $1", order["id"])  # noqa: S608
    finally:
        await connection.close()
    assert row is not None
    assert (row["parent_id"], row["player_id"], row["player_name"]) == (None, None, "Avery")
