"""The hall's tables are exactly the spec's (docs SPEC-hall "Entities" and "Audit columns"), migration 0010 adds
and removes only them, and the database itself refuses what the spec does not allow: values outside an enum,
a second active registration of a member on a book, a change to the append-only trace.

Everything here talks to PostgreSQL with plain SQL (asyncpg), as an operator's import or a psql session would:
what the database refuses, no code path can write.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Enum, ForeignKeyConstraint, Numeric, inspect
from sqlalchemy.orm import RelationshipDirection, configure_mappers

from app.config import DatabaseSettings
from app.core.db import alembic_commands
from app.hall import models
from tests.test_migrations import _dsn, _tables, empty_database  # noqa: F401  (the fixture)

HALL_TABLES = frozenset(
    {
        "members",
        "employers",
        "referral_books",
        "book_registrations",
        "registration_activities",
        "labor_requests",
        "job_bids",
        "dispatches",
        "bidding_suspensions",
    }
)
APPEND_ONLY_FUNCTION = "registration_activities_append_only"
SPAN_TRIGGERS = frozenset({"book_queue_spans_on_insert", "book_queue_spans_on_update", "book_queue_spans_on_delete"})
"""Migration 0011's triggers on book_registrations, which keep the derived book_queue_spans (test_queue_spans.py)."""

# Columns: (type, is_nullable, default). varchar(n) and numeric(p,s) carry their size.

_KEYS = {
    "id": ("uuid", "NO", "gen_random_uuid()"),
    "tenant_id": ("uuid", "NO", None),
}
_AUDIT = {
    "sa_orm_sentinel": ("integer", "YES", None),
    "created_at": ("timestamptz", "NO", "now()"),
    "updated_at": ("timestamptz", "NO", "now()"),
    "created_by": ("varchar(255)", "NO", "'system'::character varying"),
    "updated_by": ("varchar(255)", "NO", "'system'::character varying"),
}


def _table(**business: tuple[str, str, str | None]) -> dict[str, tuple[str, str, str | None]]:
    return {**_KEYS, **business, **_AUDIT}


COLUMNS = {
    "members": _table(
        member_number=("varchar(20)", "NO", None),
        first_name=("varchar(100)", "NO", None),
        last_name=("varchar(100)", "NO", None),
        email=("varchar(255)", "YES", None),
        phone=("varchar(40)", "YES", None),
        keycloak_sub=("varchar(255)", "YES", None),
        status=("varchar(16)", "NO", "'active'::character varying"),
        classification=("varchar(20)", "NO", None),
    ),
    "employers": _table(
        name=("varchar(200)", "NO", None),
        contract_code=("varchar(40)", "YES", None),
    ),
    "referral_books": _table(
        name=("varchar(100)", "NO", None),
        code=("varchar(20)", "NO", None),
        classification=("varchar(20)", "NO", None),
        region=("varchar(100)", "NO", None),
        book_number=("smallint", "NO", None),
        contract_code=("varchar(40)", "YES", None),
        referral_start_time=("time", "NO", "'08:00:00'::time without time zone"),
        re_sign_days=("smallint", "NO", "'30'::smallint"),
        grace_period_days=("smallint", "NO", "'3'::smallint"),
        max_check_marks=("smallint", "NO", "'2'::smallint"),
        is_active=("boolean", "NO", "true"),
        internet_bidding_enabled=("boolean", "NO", "false"),
    ),
    "book_registrations": _table(
        member_id=("uuid", "NO", None),
        book_id=("uuid", "NO", None),
        applicant_priority_number=("numeric(10,2)", "NO", None),
        registered_at=("timestamptz", "NO", "now()"),
        status=("varchar(16)", "NO", "'registered'::character varying"),
        last_re_sign_at=("timestamptz", "YES", None),
        re_sign_deadline=("timestamptz", "NO", None),
        check_marks=("smallint", "NO", "'0'::smallint"),
        last_check_mark_on=("date", "YES", None),
        short_call_restorations=("smallint", "NO", "'0'::smallint"),
        exempt_reason=("varchar(20)", "YES", None),
        exempt_start=("date", "YES", None),
        exempt_end=("date", "YES", None),
        roll_off_at=("timestamptz", "YES", None),
        roll_off_reason=("varchar(20)", "YES", None),
        re_sign_reminded_for=("timestamptz", "YES", None),
    ),
    "registration_activities": _table(
        registration_id=("uuid", "NO", None),
        member_id=("uuid", "NO", None),
        book_id=("uuid", "NO", None),
        action=("varchar(30)", "NO", None),
        previous_status=("varchar(16)", "YES", None),
        new_status=("varchar(16)", "NO", None),
        previous_position=("integer", "YES", None),
        new_position=("integer", "YES", None),
        labor_request_id=("uuid", "YES", None),
        dispatch_id=("uuid", "YES", None),
        reason=("text", "YES", None),
        performed_by=("varchar(255)", "NO", None),
        at=("timestamptz", "NO", "now()"),
        seq=("bigint", "NO", None),  # an identity: the order the trace was written in
    ),
    "labor_requests": _table(
        employer_id=("uuid", "NO", None),
        book_id=("uuid", "NO", None),
        request_number=("varchar(20)", "NO", None),
        received_at=("timestamptz", "NO", "now()"),
        workers_requested=("integer", "NO", None),
        workers_dispatched=("integer", "NO", "0"),
        start_date=("date", "NO", None),
        start_time=("time", "NO", None),
        estimated_duration_days=("integer", "NO", None),
        is_short_call=("boolean", "NO", "false"),
        generates_check_mark=("boolean", "NO", "true"),
        no_check_mark_reason=("varchar(20)", "YES", None),
        is_specialty=("boolean", "NO", "false"),
        is_mou_jobsite=("boolean", "NO", "false"),
        is_under_scale=("boolean", "NO", "false"),
        allows_online_bidding=("boolean", "NO", "false"),
        bidding_opens_at=("timestamptz", "YES", None),
        bidding_closes_at=("timestamptz", "YES", None),
        worksite_name=("varchar(200)", "YES", None),
        worksite_address=("varchar(500)", "YES", None),
        report_to=("varchar(200)", "YES", None),
        wage_rate=("numeric(10,2)", "YES", None),
        contract_code=("varchar(40)", "YES", None),
        status=("varchar(16)", "NO", "'open'::character varying"),
        notes=("text", "YES", None),
    ),
    "job_bids": _table(
        labor_request_id=("uuid", "NO", None),
        member_id=("uuid", "NO", None),
        registration_id=("uuid", "NO", None),
        submitted_at=("timestamptz", "NO", "now()"),
        queue_position_at_bid=("integer", "YES", None),
        status=("varchar(16)", "NO", "'pending'::character varying"),
        dispatch_id=("uuid", "YES", None),
        rejected_by_member=("boolean", "NO", "false"),
        rejection_reason=("text", "YES", None),
    ),
    "dispatches": _table(
        labor_request_id=("uuid", "NO", None),
        member_id=("uuid", "NO", None),
        registration_id=("uuid", "NO", None),
        bid_id=("uuid", "YES", None),
        employer_id=("uuid", "NO", None),
        dispatched_at=("timestamptz", "NO", "now()"),
        method=("varchar(20)", "NO", None),
        type=("varchar(20)", "NO", "'normal'::character varying"),
        status=("varchar(20)", "NO", "'dispatched'::character varying"),
        reason=("text", "YES", None),
        check_in_deadline=("timestamptz", "YES", None),
        checked_in_at=("timestamptz", "YES", None),
        start_date=("date", "NO", None),
        end_date=("date", "YES", None),
        term_reason=("varchar(20)", "YES", None),
        days_worked=("integer", "YES", None),
    ),
    "bidding_suspensions": _table(
        member_id=("uuid", "NO", None),
        starts_on=("date", "NO", None),
        ends_on=("date", "NO", None),
        reason=("text", "NO", None),
    ),
}

FOREIGN_KEYS = {  # (column, target table, on delete)
    "members": {("tenant_id", "tenants", "NO ACTION")},
    "employers": {("tenant_id", "tenants", "NO ACTION")},
    "referral_books": {("tenant_id", "tenants", "NO ACTION")},
    "book_registrations": {
        ("tenant_id", "tenants", "NO ACTION"),
        ("member_id", "members", "NO ACTION"),
        ("book_id", "referral_books", "NO ACTION"),
    },
    "registration_activities": {
        ("tenant_id", "tenants", "NO ACTION"),
        ("registration_id", "book_registrations", "NO ACTION"),
        ("member_id", "members", "NO ACTION"),
        ("book_id", "referral_books", "NO ACTION"),
        ("labor_request_id", "labor_requests", "NO ACTION"),
        ("dispatch_id", "dispatches", "NO ACTION"),
    },
    "labor_requests": {
        ("tenant_id", "tenants", "NO ACTION"),
        ("employer_id", "employers", "NO ACTION"),
        ("book_id", "referral_books", "NO ACTION"),
    },
    "job_bids": {
        ("tenant_id", "tenants", "NO ACTION"),
        ("labor_request_id", "labor_requests", "NO ACTION"),
        ("member_id", "members", "NO ACTION"),
        ("registration_id", "book_registrations", "NO ACTION"),
        ("dispatch_id", "dispatches", "NO ACTION"),  # the cycle's second half (use_alter)
    },
    "dispatches": {
        ("tenant_id", "tenants", "NO ACTION"),
        ("labor_request_id", "labor_requests", "NO ACTION"),
        ("member_id", "members", "NO ACTION"),
        ("registration_id", "book_registrations", "NO ACTION"),
        ("bid_id", "job_bids", "NO ACTION"),  # the cycle's first half
        ("employer_id", "employers", "NO ACTION"),
    },
    "bidding_suspensions": {("tenant_id", "tenants", "NO ACTION"), ("member_id", "members", "NO ACTION")},
}

ACTIVE = "((status)::text = ANY ((ARRAY['registered'::character varying, 'dispatched'::character varying, 'exempt'::character varying])::text[]))"  # noqa: E501
INDEXES = {  # besides the primary key; a unique index reads "UNIQUE (...)"
    "members": {
        "ix_members_tenant_id": "(tenant_id)",
        "uq_members_tenant_member_number": "UNIQUE (tenant_id, member_number)",
        "uq_members_tenant_keycloak_sub": "UNIQUE (tenant_id, keycloak_sub)",
    },
    "employers": {"ix_employers_tenant_id": "(tenant_id)"},
    "referral_books": {
        "ix_referral_books_tenant_id": "(tenant_id)",
        "uq_referral_books_tenant_code": "UNIQUE (tenant_id, code)",
    },
    "book_registrations": {
        "ix_book_registrations_tenant_id": "(tenant_id)",
        "ix_book_registrations_member_id": "(member_id)",
        "ix_book_registrations_re_sign_deadline": "(re_sign_deadline)",
        "ix_book_registrations_book_apn": "(book_id, applicant_priority_number)",
        "ix_book_registrations_queue": "(book_id, applicant_priority_number, registered_at, id)"
        " WHERE ((status)::text = 'registered'::text)",
        "ix_book_registrations_book_status_apn": "(book_id, status, applicant_priority_number)",
        "uq_book_registrations_active": f"UNIQUE (member_id, book_id) WHERE {ACTIVE}",
    },
    "registration_activities": {
        "ix_registration_activities_tenant_id": "(tenant_id)",
        "ix_registration_activities_registration_at": "(registration_id, at)",
        "ix_registration_activities_book_at": "(book_id, at)",
        "uq_registration_activities_seq": "UNIQUE (seq)",
    },
    "labor_requests": {
        "ix_labor_requests_tenant_id": "(tenant_id)",
        "ix_labor_requests_employer_id": "(employer_id)",
        "ix_labor_requests_book_status": "(book_id, status)",
        "uq_labor_requests_tenant_request_number": "UNIQUE (tenant_id, request_number)",
    },
    "job_bids": {
        "ix_job_bids_tenant_id": "(tenant_id)",
        "ix_job_bids_labor_request_id": "(labor_request_id)",
        "ix_job_bids_member_id": "(member_id)",
        "uq_job_bids_active": "UNIQUE (labor_request_id, member_id) WHERE ((status)::text = ANY "
        "((ARRAY['pending'::character varying, 'accepted'::character varying])::text[]))",
    },
    "dispatches": {
        "ix_dispatches_tenant_id": "(tenant_id)",
        "ix_dispatches_labor_request_id": "(labor_request_id)",
        "ix_dispatches_registration_id": "(registration_id)",
        "ix_dispatches_member_employer": "(member_id, employer_id)",
    },
    "bidding_suspensions": {
        "ix_bidding_suspensions_tenant_id": "(tenant_id)",
        "ix_bidding_suspensions_member_id": "(member_id)",
    },
}

REGISTRATION_STATUS = ("registered", "dispatched", "rolled_off", "resigned", "exempt")
ENUMS = {  # (table, column): the spec's values; the CHECK is named ck_<table>_<column>
    ("members", "status"): ("active", "inactive", "suspended", "retired", "deceased"),
    ("members", "classification"): (
        *(f"apprentice_{year}" for year in range(1, 6)),
        "journeyman",
        "foreman",
        "retiree",
        "honorary",
    ),
    ("referral_books", "classification"): (
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
    ),
    ("book_registrations", "status"): REGISTRATION_STATUS,
    ("book_registrations", "exempt_reason"): (
        "military",
        "union_business",
        "salting",
        "medical",
        "jury_duty",
        "under_scale",
        "traveling",
        "other",
    ),
    ("book_registrations", "roll_off_reason"): (
        "check_marks",
        "quit",
        "discharged",
        "failed_re_sign",
        "bid_reject_quit",
        "manual",
    ),
    ("registration_activities", "action"): (
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
    ),
    ("registration_activities", "previous_status"): REGISTRATION_STATUS,
    ("registration_activities", "new_status"): REGISTRATION_STATUS,
    ("labor_requests", "status"): ("open", "partially_filled", "filled", "cancelled", "expired"),
    ("labor_requests", "no_check_mark_reason"): (  # rule 5
        "short_call",
        "early_start",
        "specialty",
        "mou_jobsite",
        "under_scale",
    ),
    ("job_bids", "status"): ("pending", "accepted", "rejected", "withdrawn", "expired"),
    ("dispatches", "method"): ("morning_referral", "internet_bid", "by_name", "emergency"),
    ("dispatches", "type"): ("normal", "short_call", "emergency"),
    ("dispatches", "status"): ("dispatched", "checked_in", "working", "completed", "terminated", "no_show"),
    ("dispatches", "term_reason"): ("rif", "quit", "fired", "laid_off", "short_call_end", "contract_end"),
}

OTHER_CHECKS = {
    "referral_books": {"book_number_range", "re_sign_days_range", "grace_period_days_range", "max_check_marks_range"},
    "book_registrations": {
        "apn_positive",
        "check_marks_not_negative",
        "short_call_restorations_range",
        "exemption_complete",
        "exemption_ends_after_start",
        "rolled_off_with_reason",
    },
    "labor_requests": {
        "request_number_format",
        "workers_requested_positive",
        "workers_dispatched_range",
        "estimated_duration_days_positive",
        "wage_rate_not_negative",
        "no_check_mark_has_reason",
    },
    "dispatches": {"days_worked_not_negative", "ends_after_start", "terminated_with_reason"},
    "bidding_suspensions": {"ends_after_start"},
}
CHECKS = {
    table: {f"ck_{table}_{column}" for (owner, column) in ENUMS if owner == table}
    | {f"ck_{table}_{name}" for name in OTHER_CHECKS.get(table, ())}
    for table in HALL_TABLES
}

TRIGGERS = {
    ("registration_activities", APPEND_ONLY_FUNCTION): "BEFORE DELETE OR UPDATE ON public.registration_activities"
    f" FOR EACH ROW EXECUTE FUNCTION {APPEND_ONLY_FUNCTION}()",
}

REQUIRED = {  # the business columns a plain-SQL import must name (NOT NULL, no default), besides tenant_id
    "members": {"member_number", "first_name", "last_name", "classification"},
    "employers": {"name"},
    "referral_books": {"name", "code", "classification", "region", "book_number"},
    "book_registrations": {"member_id", "book_id", "applicant_priority_number", "re_sign_deadline"},
    "registration_activities": {"registration_id", "member_id", "book_id", "action", "new_status", "performed_by"},
    "labor_requests": {
        "employer_id",
        "book_id",
        "request_number",
        "workers_requested",
        "start_date",
        "start_time",
        "estimated_duration_days",
    },
    "job_bids": {"labor_request_id", "member_id", "registration_id"},
    "dispatches": {"labor_request_id", "member_id", "registration_id", "employer_id", "method", "start_date"},
    "bidding_suspensions": {"member_id", "starts_on", "ends_on", "reason"},
}

_SHORT_TYPES = {"timestamp with time zone": "timestamptz", "time without time zone": "time"}
_ON_DELETE = {"a": "NO ACTION", "n": "SET NULL", "c": "CASCADE", "r": "RESTRICT", "d": "SET DEFAULT"}


def _column_type(row: asyncpg.Record) -> str:
    kind: str = row["data_type"]
    if kind == "character varying":
        return f"varchar({row['character_maximum_length']})"
    if kind == "numeric":
        return f"numeric({row['numeric_precision']},{row['numeric_scale']})"
    return _SHORT_TYPES.get(kind, kind)


def _char(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def describe(dsn: str) -> dict[str, Any]:
    """The hall's tables as the database has them: columns, foreign keys, checks, indexes and the trigger."""
    connection = await asyncpg.connect(dsn)
    try:
        tables = sorted(HALL_TABLES)
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length,"
            " numeric_precision, numeric_scale, column_default"
            " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY($1)",
            tables,
        )
        keys = await connection.fetch(
            """SELECT t.relname AS table_name, a.attname AS column_name, f.relname AS target,
                      c.confdeltype AS on_delete
               FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class f ON f.oid = c.confrelid
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
               WHERE t.relname = ANY($1) AND c.contype = 'f'""",
            tables,
        )
        checks = await connection.fetch(
            "SELECT t.relname AS table_name, conname, pg_get_constraintdef(c.oid) AS definition"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE t.relname = ANY($1) AND c.contype = 'c'",
            tables,
        )
        indexes = await connection.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = 'public' AND tablename = ANY($1) AND indexname NOT LIKE 'pk\\_%'",
            tables,
        )
        triggers = await connection.fetch(
            "SELECT c.relname AS table_name, tgname, pg_get_triggerdef(t.oid) AS definition"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname = ANY($1)",
            tables,
        )
    finally:
        await connection.close()
    found: dict[str, Any] = {
        "columns": {table: {} for table in tables},
        "foreign_keys": {table: set() for table in tables},
        "checks": {table: {} for table in tables},
        "indexes": {table: {} for table in tables},
    }
    for row in columns:
        found["columns"][row["table_name"]][row["column_name"]] = (
            _column_type(row),
            row["is_nullable"],
            row["column_default"],
        )
    for row in keys:
        found["foreign_keys"][row["table_name"]].add(
            (row["column_name"], row["target"], _ON_DELETE[_char(row["on_delete"])])
        )
    for row in checks:
        found["checks"][row["table_name"]][row["conname"]] = row["definition"]
    for row in indexes:
        unique = "UNIQUE " if row["indexdef"].startswith("CREATE UNIQUE INDEX") else ""
        found["indexes"][row["tablename"]][row["indexname"]] = unique + row["indexdef"].split(" USING btree ")[1]
    found["triggers"] = {
        (row["table_name"], row["tgname"]): row["definition"].split(f"TRIGGER {row['tgname']} ")[1] for row in triggers
    }
    return found


def _allowed(definition: str) -> set[str]:
    """The values an enum CHECK (``col = ANY (ARRAY['a'::character varying, ...])``) allows."""
    return set(re.findall(r"'([^']*)'::character varying", definition))


LATER_INDEXES = {
    "registration_activities": {
        "ix_registration_activities_skips": "(labor_request_id, registration_id)"
        " WHERE ((action)::text = 'referral_skipped'::text)",
    },
}
"""Indexes later migrations add for speed (0012: the skips a morning referral reads); no column or rule changes."""


def assert_exactly_the_spec(found: dict[str, Any], *, later: bool = False) -> None:
    """The spec's schema; with ``later``, plus the indexes later migrations add (``LATER_INDEXES``)."""
    assert found["columns"] == COLUMNS
    assert found["foreign_keys"] == FOREIGN_KEYS
    expected = (
        {table: {**indexes, **LATER_INDEXES.get(table, {})} for table, indexes in INDEXES.items()} if later else INDEXES
    )
    assert found["indexes"] == expected
    assert {key: value for key, value in found["triggers"].items() if key[1] not in SPAN_TRIGGERS} == TRIGGERS
    assert {table: set(checks) for table, checks in found["checks"].items()} == CHECKS
    for (table, column), values in ENUMS.items():
        assert _allowed(found["checks"][table][f"ck_{table}_{column}"]) == set(values), (table, column)


# The schema, read back from the migrated test database.


async def test_the_hall_tables_are_exactly_the_spec(database_url: str) -> None:
    assert_exactly_the_spec(await describe(_dsn(database_url)), later=True)


async def _information_schema_column(dsn: str, table: str, column: str) -> tuple[Any, ...]:
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT data_type, numeric_precision, numeric_scale, is_nullable, character_maximum_length,"
            " column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
            table,
            column,
        )
    finally:
        await connection.close()
    assert row is not None, f"{table}.{column} is missing"
    return tuple(row)


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        # The APN is NUMERIC(10,2) NOT NULL: never an integer, never a float.
        ("book_registrations", "applicant_priority_number", ("numeric", 10, 2, "NO", None, None)),
        ("labor_requests", "wage_rate", ("numeric", 10, 2, "YES", None, None)),
        # A book's contract is not its name, and tradeshow and TERO books have none.
        ("referral_books", "contract_code", ("character varying", None, None, "YES", 40, None)),
        ("labor_requests", "contract_code", ("character varying", None, None, "YES", 40, None)),
        ("employers", "contract_code", ("character varying", None, None, "YES", 40, None)),
        # 0009: the zone a tenant's days and hours are in.
        (
            "tenants",
            "timezone",
            ("character varying", None, None, "NO", 64, "'America/Los_Angeles'::character varying"),
        ),
    ],
)
async def test_the_spec_s_column_types_read_back_from_information_schema(
    database_url: str, table: str, column: str, expected: tuple[Any, ...]
) -> None:
    assert await _information_schema_column(_dsn(database_url), table, column) == expected


def test_the_models_read_the_apn_and_the_wage_rate_as_decimals() -> None:
    for column in (
        models.BookRegistration.__table__.c.applicant_priority_number,
        models.LaborRequest.__table__.c.wage_rate,
    ):
        assert isinstance(column.type, Numeric)
        assert (column.type.precision, column.type.scale, column.type.asdecimal) == (10, 2, True)
    assert models.BookRegistration.__table__.c.applicant_priority_number.nullable is False


def test_the_models_allow_exactly_the_spec_s_enum_values() -> None:
    tables = models.Member.metadata.tables
    for (table, column), values in ENUMS.items():
        kind = tables[table].c[column].type
        assert isinstance(kind, Enum), (table, column)
        assert set(kind.enums) == set(values), (table, column)


async def test_every_hall_table_has_the_audit_columns_and_an_id_default(database_url: str) -> None:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ANY($1)"
            " AND column_name IN ('id', 'created_at', 'updated_at', 'created_by', 'updated_by')",
            sorted(HALL_TABLES),
        )
    finally:
        await connection.close()
    found = {(row["table_name"], row["column_name"]): (row["is_nullable"], row["column_default"]) for row in rows}
    expected = {
        (table, column): ("NO", default)
        for table in HALL_TABLES
        for column, default in (
            ("id", "gen_random_uuid()"),
            ("created_at", "now()"),
            ("updated_at", "now()"),
            ("created_by", "'system'::character varying"),
            ("updated_by", "'system'::character varying"),
        )
    }
    assert found == expected


async def test_an_import_names_only_the_business_columns(database_url: str) -> None:
    """Every NOT NULL column without a default is a business column the spec names, not an id or audit one."""
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = ANY($1) AND is_nullable = 'NO'"
            " AND column_default IS NULL AND is_identity = 'NO'",
            sorted(HALL_TABLES),
        )
    finally:
        await connection.close()
    required: dict[str, set[str]] = {table: set() for table in HALL_TABLES}
    for row in rows:
        required[row["table_name"]].add(row["column_name"])
    assert required == {table: {"tenant_id", *columns} for table, columns in REQUIRED.items()}


# The ORM: the two paths between job_bids and dispatches.

RELATIONSHIPS = {  # (model, relationship): the foreign-key column it names
    ("BookRegistration", "member"): "member_id",
    ("BookRegistration", "book"): "book_id",
    ("LaborRequest", "employer"): "employer_id",
    ("LaborRequest", "book"): "book_id",
    ("JobBid", "labor_request"): "labor_request_id",
    ("JobBid", "member"): "member_id",
    ("JobBid", "registration"): "registration_id",
    ("JobBid", "dispatch"): "dispatch_id",
    ("Dispatch", "labor_request"): "labor_request_id",
    ("Dispatch", "member"): "member_id",
    ("Dispatch", "registration"): "registration_id",
    ("Dispatch", "employer"): "employer_id",
    ("Dispatch", "bid"): "bid_id",
    ("BiddingSuspension", "member"): "member_id",
}


def _hall_mappers() -> list[Any]:
    configure_mappers()
    return [
        mapper
        for mapper in models.Member.registry.mappers
        if mapper.class_.__module__ == models.__name__ and not mapper.class_.__dict__.get("__abstract__")
    ]


def test_the_models_are_the_nine_hall_tables_and_the_derived_span_counts() -> None:
    assert {mapper.local_table.name for mapper in _hall_mappers()} == HALL_TABLES | {"book_queue_spans"}


def test_every_relationship_names_its_foreign_keys() -> None:
    found = {}
    for mapper in _hall_mappers():
        for relationship in mapper.relationships:
            named = relationship._user_defined_foreign_keys  # what foreign_keys=[...] was given, resolved
            assert named, f"{mapper.class_.__name__}.{relationship.key} does not name its foreign_keys"
            assert relationship.direction is RelationshipDirection.MANYTOONE
            assert set(relationship.local_columns) == set(named)
            found[(mapper.class_.__name__, relationship.key)] = ",".join(sorted(column.name for column in named))
    assert found == RELATIONSHIPS


def test_the_bid_cycle_is_broken_by_use_alter_on_job_bids() -> None:
    def constraint(table: str, column: str) -> ForeignKeyConstraint:
        (key,) = models.Member.metadata.tables[table].c[column].foreign_keys
        assert key.constraint is not None
        return key.constraint  # type: ignore[return-value]

    assert constraint("job_bids", "dispatch_id").use_alter is True
    assert constraint("job_bids", "dispatch_id").name == "fk_job_bids_dispatch_id_dispatches"
    assert constraint("dispatches", "bid_id").use_alter is False
    assert inspect(models.JobBid).relationships["dispatch"].post_update is True


# Behaviour: rows written with plain SQL, as an operator's import would.


class Hall:
    """One hall tenant on a plain asyncpg connection. ``insert`` names only the required business columns
    (and any given), creating each row it refers to the same way."""

    def __init__(self, connection: asyncpg.Connection[Any], tenant_id: Any) -> None:
        self.connection = connection
        self.tenant_id = tenant_id
        self._serial = itertools.count(1)

    async def insert(self, table: str, **given: Any) -> asyncpg.Record:
        row = {"tenant_id": self.tenant_id, **await self._required(table, given), **given}
        names = ", ".join(row)
        places = ", ".join(f"${number}" for number in range(1, len(row) + 1))
        inserted: asyncpg.Record = await self.connection.fetchrow(
            f"INSERT INTO {table} ({names}) VALUES ({places}) RETURNING *",  # noqa: S608  (the test's own names)
            *row.values(),
        )
        return inserted

    async def fetch(self, table: str, id_: Any) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(f"SELECT * FROM {table} WHERE id = $1", id_)  # noqa: S608
        return row

    async def _ref(self, given: dict[str, Any], column: str, table: str) -> Any:
        return given[column] if column in given else (await self.insert(table))["id"]

    async def _registration(self, given: dict[str, Any]) -> dict[str, Any]:
        """A registration and its member (the row's own, unless given)."""
        if "registration_id" in given:
            return {"registration_id": given["registration_id"], "member_id": given.get("member_id")}
        registration = await self.insert(
            "book_registrations", **({"member_id": given["member_id"]} if "member_id" in given else {})
        )
        return {"registration_id": registration["id"], "member_id": registration["member_id"]}

    async def _required(self, table: str, given: dict[str, Any]) -> dict[str, Any]:
        serial = next(self._serial)
        if table == "members":
            return {
                "member_number": f"A-{serial:05d}",
                "first_name": "Avery",
                "last_name": "Quinn",
                "classification": "journeyman",
            }
        if table == "employers":
            return {"name": "Bay Electric"}
        if table == "referral_books":
            return {
                "name": "Inside Wireperson",
                "code": f"IW-{serial}",
                "classification": "inside_wireperson",
                "region": "San Francisco",
                "book_number": 1,
            }
        if table == "book_registrations":
            return {
                "member_id": await self._ref(given, "member_id", "members"),
                "book_id": await self._ref(given, "book_id", "referral_books"),
                "applicant_priority_number": Decimal("40966.01"),
                "re_sign_deadline": datetime(2026, 3, 29, 8, tzinfo=UTC),
            }
        if table == "registration_activities":
            registration = await self._registration(given)
            book = await self.fetch("book_registrations", registration["registration_id"])
            return {
                "registration_id": registration["registration_id"],
                "member_id": book["member_id"],
                "book_id": book["book_id"],
                "action": "registered",
                "new_status": "registered",
                "performed_by": "system",
            }
        if table == "labor_requests":
            return {
                "employer_id": await self._ref(given, "employer_id", "employers"),
                "book_id": await self._ref(given, "book_id", "referral_books"),
                "request_number": f"REQ20260302-{serial:04d}",
                "workers_requested": 2,
                "start_date": date(2026, 3, 3),
                "start_time": time(7, 0),
                "estimated_duration_days": 20,
            }
        if table in {"job_bids", "dispatches"}:
            registration = await self._registration(given)
            request = await self._ref(given, "labor_request_id", "labor_requests")
            row = {"labor_request_id": request, **registration}
            if table == "dispatches":
                employer = (await self.fetch("labor_requests", request))["employer_id"]
                row |= {"employer_id": employer, "method": "morning_referral", "start_date": date(2026, 3, 3)}
            return row
        if table == "bidding_suspensions":
            return {
                "member_id": await self._ref(given, "member_id", "members"),
                "starts_on": date(2026, 3, 1),
                "ends_on": date(2027, 2, 28),
                "reason": "rule 9: a second rejection within 12 months",
            }
        raise AssertionError(f"not a hall table: {table}")


@pytest.fixture
async def hall(database_url: str) -> AsyncIterator[Hall]:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        tenant = await connection.fetchval(
            "INSERT INTO tenants (slug, name, kind) VALUES ('h-' || gen_random_uuid(), 'Local 6', 'hall') RETURNING id"
        )
        yield Hall(connection, tenant)
    finally:
        await connection.close()


@pytest.mark.parametrize("table", sorted(HALL_TABLES))
async def test_a_row_is_imported_with_plain_sql_naming_only_the_business_columns(hall: Hall, table: str) -> None:
    row = await hall.insert(table)
    assert row["id"] is not None
    assert row["created_at"] is not None
    assert row["updated_at"] == row["created_at"]
    assert (row["created_by"], row["updated_by"]) == ("system", "system")


async def test_the_database_fills_the_spec_s_defaults(hall: Hall) -> None:
    book = await hall.insert("referral_books", contract_code=None)
    assert (book["re_sign_days"], book["grace_period_days"], book["max_check_marks"]) == (30, 3, 2)
    assert (book["referral_start_time"], book["is_active"], book["internet_bidding_enabled"]) == (
        time(8, 0),
        True,
        False,
    )
    assert book["contract_code"] is None
    registration = await hall.insert("book_registrations", book_id=book["id"])
    assert (registration["status"], registration["check_marks"], registration["short_call_restorations"]) == (
        "registered",
        0,
        0,
    )
    assert registration["registered_at"] is not None
    request = await hall.insert("labor_requests", book_id=book["id"], contract_code=None)
    assert (request["status"], request["workers_dispatched"], request["generates_check_mark"]) == ("open", 0, True)
    assert request["contract_code"] is None
    dispatch = await hall.insert("dispatches", labor_request_id=request["id"])
    assert (dispatch["status"], dispatch["type"]) == ("dispatched", "normal")
    assert (await hall.insert("members"))["status"] == "active"
    assert (await hall.insert("job_bids"))["status"] == "pending"
    tenant = await hall.connection.fetchrow("SELECT timezone FROM tenants WHERE id = $1", hall.tenant_id)
    assert tenant is not None
    assert tenant["timezone"] == "America/Los_Angeles"


async def test_the_apn_keeps_exactly_two_decimals(hall: Hall) -> None:
    registration = await hall.insert("book_registrations", applicant_priority_number=Decimal("40966.015"))
    assert registration["applicant_priority_number"] == Decimal("40966.02")
    assert isinstance(registration["applicant_priority_number"], Decimal)
    assert (await hall.insert("book_registrations", applicant_priority_number=Decimal("99999999.99")))[
        "applicant_priority_number"
    ] == Decimal("99999999.99")
    with pytest.raises(asyncpg.NumericValueOutOfRangeError):
        await hall.insert("book_registrations", applicant_priority_number=Decimal("100000000.00"))
    with pytest.raises(asyncpg.NotNullViolationError):
        await hall.insert("book_registrations", applicant_priority_number=None)


_EXEMPT = {"exempt_start": date(2026, 3, 1), "exempt_end": date(2026, 6, 1)}
_ROLLED_OFF = {"status": "rolled_off", "roll_off_at": datetime(2026, 3, 2, tzinfo=UTC)}
_BAD_ENUM = {  # what else the row needs so that the enum's CHECK alone refuses it
    ("book_registrations", "exempt_reason"): _EXEMPT,
    ("book_registrations", "roll_off_reason"): _ROLLED_OFF,
    ("dispatches", "term_reason"): {"status": "terminated"},
}


@pytest.mark.parametrize(("table", "column"), list(ENUMS), ids=[f"{table}.{column}" for table, column in ENUMS])
async def test_every_enum_column_refuses_a_value_outside_its_enum(hall: Hall, table: str, column: str) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await hall.insert(table, **{column: "bogus", **_BAD_ENUM.get((table, column), {})})
    assert refused.value.constraint_name == f"ck_{table}_{column}"


@pytest.mark.parametrize(
    ("table", "values", "constraint"),
    [
        ("referral_books", {"book_number": 0}, "book_number_range"),
        ("referral_books", {"book_number": 5}, "book_number_range"),
        ("referral_books", {"re_sign_days": 0}, "re_sign_days_range"),
        ("referral_books", {"grace_period_days": -1}, "grace_period_days_range"),
        ("referral_books", {"max_check_marks": 11}, "max_check_marks_range"),
        ("book_registrations", {"applicant_priority_number": Decimal(0)}, "apn_positive"),
        ("book_registrations", {"check_marks": -1}, "check_marks_not_negative"),
        ("book_registrations", {"short_call_restorations": 3}, "short_call_restorations_range"),
        ("book_registrations", {"exempt_reason": "medical"}, "exemption_complete"),
        (
            "book_registrations",
            {"exempt_reason": "medical", "exempt_start": date(2026, 3, 2), "exempt_end": date(2026, 3, 1)},
            "exemption_ends_after_start",
        ),
        ("book_registrations", {"status": "rolled_off"}, "rolled_off_with_reason"),
        (
            "book_registrations",
            {"roll_off_reason": "quit", "roll_off_at": _ROLLED_OFF["roll_off_at"]},
            "rolled_off_with_reason",
        ),
        ("labor_requests", {"request_number": "REQ-1"}, "request_number_format"),
        ("labor_requests", {"request_number": "REQ2026030-00001"}, "request_number_format"),
        ("labor_requests", {"workers_requested": 0}, "workers_requested_positive"),
        ("labor_requests", {"workers_dispatched": 3}, "workers_dispatched_range"),
        ("labor_requests", {"estimated_duration_days": 0}, "estimated_duration_days_positive"),
        ("labor_requests", {"wage_rate": Decimal("-0.01")}, "wage_rate_not_negative"),
        ("labor_requests", {"generates_check_mark": False}, "no_check_mark_has_reason"),
        ("dispatches", {"days_worked": -1}, "days_worked_not_negative"),
        ("dispatches", {"end_date": date(2026, 3, 2)}, "ends_after_start"),
        ("dispatches", {"status": "terminated"}, "terminated_with_reason"),
        ("dispatches", {"term_reason": "quit"}, "terminated_with_reason"),
        ("bidding_suspensions", {"ends_on": date(2026, 2, 28)}, "ends_after_start"),
    ],
)
async def test_the_other_checks_refuse_what_the_spec_does_not_allow(
    hall: Hall, table: str, values: dict[str, Any], constraint: str
) -> None:
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await hall.insert(table, **values)
    assert refused.value.constraint_name == f"ck_{table}_{constraint}"


async def test_the_bounds_and_the_complete_states_are_allowed(hall: Hall) -> None:
    assert (await hall.insert("referral_books", book_number=1, re_sign_days=1, grace_period_days=0))["book_number"] == 1
    assert (await hall.insert("referral_books", book_number=4, re_sign_days=365, max_check_marks=10))[
        "book_number"
    ] == 4
    await hall.insert("book_registrations", exempt_reason="traveling", status="exempt", **_EXEMPT)
    await hall.insert("book_registrations", roll_off_reason="quit", **_ROLLED_OFF)
    await hall.insert("book_registrations", short_call_restorations=2, applicant_priority_number=Decimal("0.01"))
    await hall.insert("labor_requests", generates_check_mark=False, no_check_mark_reason="short_call")
    await hall.insert("labor_requests", workers_requested=1, workers_dispatched=1, wage_rate=Decimal("0"))
    await hall.insert("dispatches", status="terminated", term_reason="short_call_end", end_date=date(2026, 3, 3))
    await hall.insert("bidding_suspensions", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 1))


async def test_a_member_holds_one_active_registration_per_book(hall: Hall) -> None:
    first = await hall.insert("book_registrations")
    same = {"member_id": first["member_id"], "book_id": first["book_id"]}
    for status, extra in (("registered", {}), ("dispatched", {}), ("exempt", {"exempt_reason": "medical", **_EXEMPT})):
        with pytest.raises(asyncpg.UniqueViolationError) as refused:
            await hall.insert("book_registrations", status=status, **extra, **same)
        assert refused.value.constraint_name == "uq_book_registrations_active"

    # On another book, or another member on this book: allowed. Closed registrations may repeat.
    await hall.insert("book_registrations", member_id=first["member_id"])
    await hall.insert("book_registrations", book_id=first["book_id"])
    await hall.insert("book_registrations", status="resigned", **same)
    await hall.insert("book_registrations", roll_off_reason="quit", **_ROLLED_OFF, **same)
    await hall.insert("book_registrations", roll_off_reason="check_marks", **_ROLLED_OFF, **same)

    # Once the first is rolled off, the member registers again on the book (a new APN), and only once.
    await hall.connection.execute(
        "UPDATE book_registrations SET status = 'rolled_off', roll_off_reason = 'check_marks', roll_off_at = now()"
        " WHERE id = $1",
        first["id"],
    )
    second = await hall.insert("book_registrations", applicant_priority_number=Decimal("46082.01"), **same)
    assert second["status"] == "registered"
    with pytest.raises(asyncpg.UniqueViolationError):
        await hall.insert("book_registrations", **same)
    # Nor may the rolled-off one come back while the new one is active.
    with pytest.raises(asyncpg.UniqueViolationError):
        await hall.connection.execute(
            "UPDATE book_registrations SET status = 'registered', roll_off_reason = NULL, roll_off_at = NULL"
            " WHERE id = $1",
            first["id"],
        )


async def test_the_out_of_work_index_leads_with_book_status_and_apn(database_url: str) -> None:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        columns = await connection.fetchval(
            "SELECT array_agg(a.attname ORDER BY k.ordinality) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ordinality)"
            " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
            " WHERE c.relname = 'ix_book_registrations_book_status_apn'"
        )
        active = await connection.fetchrow(
            "SELECT i.indisunique, pg_get_expr(i.indpred, i.indrelid) AS predicate FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'uq_book_registrations_active'"
        )
    finally:
        await connection.close()
    assert columns == ["book_id", "status", "applicant_priority_number"]
    assert active is not None
    assert active["indisunique"] is True
    assert _allowed(active["predicate"]) == {"registered", "dispatched", "exempt"}


async def test_the_trace_refuses_update_and_delete(hall: Hall) -> None:
    activity = await hall.insert("registration_activities", reason="rule 1: registered", new_position=7)
    before = await hall.fetch("registration_activities", activity["id"])

    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only: UPDATE is refused"):
        await hall.connection.execute(
            "UPDATE registration_activities SET new_position = 1, reason = 'moved up' WHERE id = $1", activity["id"]
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only: DELETE is refused"):
        await hall.connection.execute("DELETE FROM registration_activities WHERE id = $1", activity["id"])
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # not even through the registration
        await hall.connection.execute(
            "UPDATE registration_activities SET performed_by = 'someone' WHERE registration_id = $1",
            activity["registration_id"],
        )

    after = await hall.fetch("registration_activities", activity["id"])
    assert dict(after) == dict(before)
    assert (after["new_position"], after["reason"]) == (7, "rule 1: registered")
    # A new activity is how the trace changes.
    await hall.insert("registration_activities", registration_id=activity["registration_id"], action="re_signed")
    count = await hall.connection.fetchval(
        "SELECT count(*) FROM registration_activities WHERE registration_id = $1", activity["registration_id"]
    )
    assert count == 2


async def test_a_bid_and_its_dispatch_refer_to_each_other(hall: Hall) -> None:
    bid = await hall.insert("job_bids")
    dispatch = await hall.insert(
        "dispatches",
        labor_request_id=bid["labor_request_id"],
        registration_id=bid["registration_id"],
        member_id=bid["member_id"],
        bid_id=bid["id"],
        method="internet_bid",
    )
    await hall.connection.execute(
        "UPDATE job_bids SET status = 'accepted', dispatch_id = $1 WHERE id = $2", dispatch["id"], bid["id"]
    )
    assert (await hall.fetch("job_bids", bid["id"]))["dispatch_id"] == dispatch["id"]

    nowhere = await hall.connection.fetchval("SELECT gen_random_uuid()")
    with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
        await hall.connection.execute("UPDATE job_bids SET dispatch_id = $1 WHERE id = $2", nowhere, bid["id"])
    assert refused.value.constraint_name == "fk_job_bids_dispatch_id_dispatches"
    with pytest.raises(asyncpg.ForeignKeyViolationError) as refused:
        await hall.connection.execute("UPDATE dispatches SET bid_id = $1 WHERE id = $2", nowhere, dispatch["id"])
    assert refused.value.constraint_name == "fk_dispatches_bid_id_job_bids"


# Migrations 0010 and 0009, on a database of their own.


async def snapshot(dsn: str) -> dict[str, Any]:
    """The whole public schema: tables, columns, constraints, indexes, triggers and functions."""
    connection = await asyncpg.connect(dsn)
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name, data_type, is_nullable, character_maximum_length, numeric_precision,"
            " numeric_scale, column_default FROM information_schema.columns WHERE table_schema = 'public'"
        )
        constraints = await connection.fetch(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c"
            " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE n.nspname = 'public'"
        )
        indexes = await connection.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        )
        triggers = await connection.fetch(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        )
        functions = await connection.fetch(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
        )
        version = await connection.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    return {
        "tables": await _tables(dsn),
        "columns": {(row["table_name"], row["column_name"]): tuple(row)[2:] for row in columns},
        "constraints": {(row["relname"], row["conname"]): row["definition"] for row in constraints},
        "indexes": {(row["tablename"], row["indexname"]): row["indexdef"] for row in indexes},
        "triggers": {(row["relname"], row["tgname"]): row["definition"] for row in triggers},
        "functions": {row["proname"] for row in functions},
        "version": version,
    }


def _without_hall(found: dict[str, Any]) -> dict[str, Any]:
    """What ``found`` is without the hall's nine tables (and everything on them) and the trigger function."""
    return {
        "tables": found["tables"] - HALL_TABLES,
        **{
            part: {key: value for key, value in found[part].items() if key[0] not in HALL_TABLES}
            for part in ("columns", "constraints", "indexes", "triggers")
        },
        "functions": found["functions"] - {APPEND_ONLY_FUNCTION},
    }


async def test_0010_downgrade_drops_exactly_the_hall_and_upgrade_rebuilds_it(empty_database: str) -> None:  # noqa: F811
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    dsn = _dsn(empty_database)
    await asyncio.to_thread(commands.upgrade, "0010")
    at_0010 = await snapshot(dsn)
    assert at_0010["version"] == "0010"
    assert at_0010["tables"] >= HALL_TABLES
    assert APPEND_ONLY_FUNCTION in at_0010["functions"]
    assert_exactly_the_spec(await describe(dsn))

    await asyncio.to_thread(commands.downgrade, "-1")
    downgraded = await snapshot(dsn)
    assert downgraded["version"] == "0009"
    assert at_0010["tables"] - downgraded["tables"] == HALL_TABLES
    assert at_0010["functions"] - downgraded["functions"] == {APPEND_ONLY_FUNCTION}
    assert {key: value for key, value in downgraded.items() if key != "version"} == _without_hall(at_0010)

    await asyncio.to_thread(commands.upgrade, "0010")
    assert await snapshot(dsn) == at_0010
    assert_exactly_the_spec(await describe(dsn))


async def test_0009_adds_only_the_tenant_timezone(empty_database: str) -> None:  # noqa: F811
    commands = alembic_commands(DatabaseSettings(url=empty_database, pool_size=0))
    dsn = _dsn(empty_database)
    await asyncio.to_thread(commands.upgrade, "0008")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("INSERT INTO tenants (slug, name, kind) VALUES ('older-club', 'Older', 'club')")
        before = await snapshot(dsn)
        await asyncio.to_thread(commands.upgrade, "0009")
        after = await snapshot(dsn)
        existing = await connection.fetchval("SELECT timezone FROM tenants WHERE slug = 'older-club'")
        await asyncio.to_thread(commands.downgrade, "0008")
        undone = await snapshot(dsn)
    finally:
        await connection.close()

    assert existing == "America/Los_Angeles"  # a tenant from before 0009 gets the default zone
    timezone = ("character varying", "NO", 64, None, None, "'America/Los_Angeles'::character varying")
    assert after["columns"] == {**before["columns"], ("tenants", "timezone"): timezone}
    assert {key: value for key, value in after.items() if key not in {"columns", "version"}} == {
        key: value for key, value in before.items() if key not in {"columns", "version"}
    }
    assert {key: value for key, value in undone.items() if key != "version"} == {
        key: value for key, value in before.items() if key != "version"
    }
