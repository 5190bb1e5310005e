"""The schema comes only from the migrations, and they match the models both ways."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from tests.conftest import create_database, drop_database


@pytest.fixture
async def empty_database(servers: tuple[str, str]) -> AsyncIterator[str]:
    """A database of this test alone, without any schema yet; dropped afterwards."""
    name = f"rollcall_migrations_{secrets.token_hex(4)}"
    url = await create_database(servers[0], name)
    yield url
    await drop_database(servers[0], name)


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    # `alembic check` compares the migrated test database with the models' metadata.
    commands = alembic_commands(DatabaseSettings(url=database_url, pool_size=0))
    await asyncio.to_thread(commands.check)


async def test_every_migration_downgrades_and_upgrades_again(empty_database: str) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    await asyncio.to_thread(commands.upgrade)
    dsn = _dsn(empty_database)
    assert await _tables(dsn) >= {"tenants", "outbox_events", "players", "contract_audit_log", "alembic_version"}
    await asyncio.to_thread(commands.downgrade, "base")
    assert await _tables(dsn) == {"alembic_version"}
    await asyncio.to_thread(commands.upgrade)
    assert "tenants" in await _tables(dsn)


async def _tables(dsn: str) -> set[str]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


# Server defaults: operators import rows with plain SQL, naming only the business columns.

SERVER_DEFAULTS_0005 = {
    (table, column): default
    for table in ("tenants", "teams", "parents", "players")
    for column, default in (("id", "gen_random_uuid()"), ("created_at", "now()"), ("updated_at", "now()"))
}
"""What migration 0005 adds: the tables built on advanced-alchemy's audit base had only Python-side defaults."""


async def _column_defaults(dsn: str) -> dict[tuple[str, str], str | None]:
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        )
    finally:
        await connection.close()
    return {(row["table_name"], row["column_name"]): row["column_default"] for row in rows}


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


BUSINESS_TIMESTAMPS = {("book_registrations", "re_sign_deadline")}
"""Required timestamps that are business data, not audit: an import names them, and no database default could be
right (a registration's deadline follows its book's ``re_sign_days``; ``now()`` would put it past due at once)."""


async def test_every_uuid_id_and_every_required_timestamp_has_a_database_default(database_url: str) -> None:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
            " AND ((column_name = 'id' AND data_type = 'uuid')"
            "      OR (data_type = 'timestamp with time zone' AND is_nullable = 'NO'))"
        )
    finally:
        await connection.close()
    missing = [
        f"{row['table_name']}.{row['column_name']}: {row['column_default']}"
        for row in columns
        if row["column_default"] != ("gen_random_uuid()" if row["column_name"] == "id" else "now()")
        and (row["table_name"], row["column_name"]) not in BUSINESS_TIMESTAMPS
    ]
    assert len(columns) > 10
    assert missing == []


async def test_operators_import_a_row_into_every_table_with_plain_sql(database_url: str) -> None:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        filled: dict[str, Any] = {}

        async def insert(table: str, statement: str, *arguments: object) -> Any:
            row = await connection.fetchrow(f"INSERT INTO {table} {statement} RETURNING *", *arguments)
            assert row is not None
            filled[table] = row
            return row

        tenant = await insert("tenants", "(slug, name, kind) VALUES ('imported-club', 'Imported Club', 'club')")
        team = await insert("teams", "(tenant_id, name, season) VALUES ($1, 'U12 Kings', '2026-27')", tenant["id"])
        parent = await insert(
            "parents", "(tenant_id, name, email) VALUES ($1, 'Dana', 'dana@example.org')", tenant["id"]
        )
        player = await insert(
            "players", "(tenant_id, name, parent_id) VALUES ($1, 'Sam', $2)", tenant["id"], parent["id"]
        )
        await insert("player_teams", "(player_id, team_id) VALUES ($1, $2)", player["id"], team["id"])
        await insert(
            "contract_audit_log",
            "(tenant_id, player_id, event_type, new_state, source) VALUES ($1, $2, 'offer', '{}', 'cli')",
            tenant["id"],
            player["id"],
        )
        await insert(
            "email_log",
            "(event_id, handler, recipient, type, subject, status)"
            " VALUES (gen_random_uuid(), 'import', 'dana@example.org', 'welcome', 'Hi', 'sent')",
        )
        event = await insert(
            "outbox_events",
            "(aggregate_type, aggregate_id, event_type, payload) VALUES ('player', 'p-1', 'import.test', '{}')",
        )
        await insert("outbox_deliveries", "(event_id, handler, outcome) VALUES ($1, 'import', 'done')", event["id"])
        await insert("groupme_groups", "(group_id, tenant_id) VALUES ('91234', $1)", tenant["id"])
        await insert(
            "jersey_public_orders",
            "(tenant_id, submitter_keycloak_sub, email, player_name, size, kq, tier)"
            " VALUES ($1, 'kc-1', 'dana@example.org', 'Sam', 'YM', 'kings', 'elite')",
            tenant["id"],
        )
        hall = await insert("tenants", "(slug, name, kind) VALUES ('imported-hall', 'Imported Hall', 'hall')")
        member = await insert(
            "members",
            "(tenant_id, member_number, first_name, last_name, classification)"
            " VALUES ($1, 'A-1001', 'Avery', 'Quinn', 'journeyman')",
            hall["id"],
        )
        employer = await insert("employers", "(tenant_id, name) VALUES ($1, 'Bay Electric')", hall["id"])
        book = await insert(
            "referral_books",
            "(tenant_id, name, code, classification, region, book_number)"
            " VALUES ($1, 'Inside Wireperson', 'IW-1', 'inside_wireperson', 'San Francisco', 1)",
            hall["id"],
        )
        registration = await insert(
            "book_registrations",
            "(tenant_id, member_id, book_id, applicant_priority_number, re_sign_deadline)"
            " VALUES ($1, $2, $3, 40966.01, timestamptz '2012-03-28 08:00-07')",
            hall["id"],
            member["id"],
            book["id"],
        )
        # book_queue_spans is derived (migration 0011): nobody imports it, the registration's import counted it.
        spans = await connection.fetchrow("SELECT * FROM book_queue_spans WHERE book_id = $1", book["id"])
        assert spans is not None
        assert (spans["span"], spans["waiting"]) == (40966 // 8, 1)
        filled["book_queue_spans"] = spans
        request = await insert(
            "labor_requests",
            "(tenant_id, employer_id, book_id, request_number, workers_requested, start_date, start_time,"
            " estimated_duration_days) VALUES ($1, $2, $3, 'REQ20260302-0001', 1, '2026-03-03', '07:00', 20)",
            hall["id"],
            employer["id"],
            book["id"],
        )
        bid = await insert(
            "job_bids",
            "(tenant_id, labor_request_id, member_id, registration_id) VALUES ($1, $2, $3, $4)",
            hall["id"],
            request["id"],
            member["id"],
            registration["id"],
        )
        dispatch = await insert(
            "dispatches",
            "(tenant_id, labor_request_id, member_id, registration_id, bid_id, employer_id, method, start_date)"
            " VALUES ($1, $2, $3, $4, $5, $6, 'internet_bid', '2026-03-03')",
            hall["id"],
            request["id"],
            member["id"],
            registration["id"],
            bid["id"],
            employer["id"],
        )
        await insert(
            "registration_activities",
            "(tenant_id, registration_id, member_id, book_id, action, previous_status, new_status, dispatch_id,"
            " performed_by) VALUES ($1, $2, $3, $4, 'dispatched', 'registered', 'dispatched', $5, 'import')",
            hall["id"],
            registration["id"],
            member["id"],
            book["id"],
            dispatch["id"],
        )
        await insert(
            "bidding_suspensions",
            "(tenant_id, member_id, starts_on, ends_on, reason) VALUES ($1, $2, '2026-03-01', '2027-02-28', 'rule 9')",
            hall["id"],
            member["id"],
        )
        tables = {
            row["tablename"]
            for row in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        }
    finally:
        await connection.close()

    assert set(filled) == tables  # a new table needs its plain-SQL import here
    for table, row in filled.items():
        values = dict(row)
        for column in (
            "id",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "ts",
            "available_at",
            "delivered_at",
        ):
            if column in values and not (table == "outbox_events" and column == "delivered_at"):
                assert values[column] is not None, f"{table}.{column}"


async def test_migration_0005_adds_exactly_the_id_and_timestamp_defaults_and_its_downgrade_removes_them(
    empty_database: str,
) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    await asyncio.to_thread(commands.upgrade, "0004")
    before = await _column_defaults(_dsn(empty_database))
    await asyncio.to_thread(commands.upgrade, "0005")
    after = await _column_defaults(_dsn(empty_database))
    await asyncio.to_thread(commands.downgrade, "0004")
    undone = await _column_defaults(_dsn(empty_database))
    await asyncio.to_thread(commands.upgrade)

    added = {key: value for key, value in after.items() if before.get(key) != value}
    assert added == SERVER_DEFAULTS_0005
    assert undone == before


async def test_migration_0006_gives_a_group_linked_by_two_clubs_to_the_first_and_unlinks_the_others(
    empty_database: str,
) -> None:
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    await asyncio.to_thread(commands.upgrade, "0005")
    connection = await asyncpg.connect(_dsn(empty_database))
    try:
        await connection.execute(
            "INSERT INTO tenants (slug, name, kind)"
            " VALUES ('first-club', 'First', 'club'), ('late-club', 'Late', 'club');"
            " INSERT INTO teams (tenant_id, name, season, groupme_group_id, groupme_share_url, created_at)"
            " SELECT t.id, v.name, '2026-27', v.group_id, 'https://groupme.com/g/' || v.group_id, v.created"
            " FROM (VALUES ('first-club', 'U12 Kings', '111', timestamptz '2026-01-01'),"
            "              ('late-club', 'U12 Kings', '111', timestamptz '2026-02-01'),"
            "              ('first-club', 'U14 Kings', '111', timestamptz '2026-03-01'),"
            "              ('late-club', 'U10 Queens', '222', timestamptz '2026-04-01'),"
            "              ('late-club', 'U8', NULL, timestamptz '2026-05-01'))"
            " AS v(slug, name, group_id, created) JOIN tenants t ON t.slug = v.slug"
        )
        await asyncio.to_thread(commands.upgrade, "0006")
        owners = await connection.fetch(
            "SELECT g.group_id, t.slug FROM groupme_groups g JOIN tenants t ON t.id = g.tenant_id ORDER BY 1"
        )
        links = await connection.fetch(
            "SELECT t.slug, m.name, m.groupme_group_id, m.groupme_share_url"
            " FROM teams m JOIN tenants t ON t.id = m.tenant_id ORDER BY m.created_at"
        )
        await asyncio.to_thread(commands.downgrade, "0005")
        await asyncio.to_thread(commands.upgrade)
    finally:
        await connection.close()

    assert [tuple(row) for row in owners] == [("111", "first-club"), ("222", "late-club")]
    assert [tuple(row)[:3] for row in links] == [
        ("first-club", "U12 Kings", "111"),
        ("late-club", "U12 Kings", None),
        ("first-club", "U14 Kings", "111"),
        ("late-club", "U10 Queens", "222"),
        ("late-club", "U8", None),
    ]
    assert links[1]["groupme_share_url"] is None
