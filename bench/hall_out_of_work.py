"""Hiring hall, part 1: the out-of-work list and registration under load (see bench/README.md). Driver of
bench/hall_out_of_work.sh; prints one JSON line.

Each round builds a scratch database: a hall, its big book (20,000 registrants by APN over past days, with
20,000 rolled-off and dispatched registrations among them), empty books for the registration phase and
members nobody has registered yet. One ``rollcall serve`` process runs as in production (bench/_support.py's
``production_env``: default pool, log level and format) and trusts this script's issuer; wrk
(bench/hall_load.lua) plays 16 dispatchers' clients, each phase after a short unmeasured warm-up:

1. ``first_page``: ``GET /api/v1/hall/books/{book}/out-of-work?limit=50&offset=0``;
2. ``page_15000``: the same with ``offset=14999`` (positions 15,000 to 15,049);
3. ``register_spread``: ``POST /api/v1/hall/books/{book}/registrations``, a new member each time, the
   books taken in turn: what the registration path does per second when rule 1's cap is not in the way;
4. ``register_one_book``: the same on the big book only, without a warm-up (it would use up the day). Rule 1
   gives one book at most 99 registrations a hall day, so the first 99 get 201 and the rest 409; the JSON
   has both rates and, from the rows' ``registered_at``, how fast the 99 went (``burst_created_per_s``).

The goals of the issue: p99 ≤ 20 ms for both pages, ≥ 500 registrations a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx

from bench._support import (
    REPO,
    Issuer,
    _on_server,
    api_server,
    asyncpg_url,
    drop_database,
    flush_redis,
    production_env,
    report,
    scratch_database,
    servers,
    wrk,
)

SLUG = "bench-hall"
ZONE = "America/Los_Angeles"
SCRIPT = REPO / "bench" / "hall_load.lua"
DAILY_CAP = 99
"""Rule 1: k runs 1..99 per book and hall day (app/hall/registrations/rules.py)."""
WARMUP_BOOKS = 40
PAGE_GOAL_MS = 20.0
REGISTRATION_GOAL_PER_S = 500.0
PHASES = ("first_page", "page_15000", "register_spread", "register_one_book")


def prepare(url: str, args: argparse.Namespace) -> None:
    """The hall in plain SQL (fast): its tenant, the big book and its registrations, the empty books, the members.

    Member ``M0000001`` … hold the big book's registrations in APN order: ``per_day`` a day on past days, the
    oldest first, APN = the day's spreadsheet serial + k/100, ``registered_at`` that day from 07:00 every six
    minutes. Registered and other rows alternate evenly through the list (the others half rolled off, half
    dispatched); the registered ones re-signed (or registered) in the last 30 days, so their deadlines are
    ahead. The members after them are free.
    """
    total = int(args.registrants) + int(args.others)
    members = total + free_members(args)
    per_day = int(args.per_day)
    statements = [
        f"INSERT INTO tenants (slug, name, kind, timezone) VALUES ('{SLUG}', 'Bench Hall', 'hall', '{ZONE}')",  # noqa: S608
        "INSERT INTO referral_books (tenant_id, name, code, classification, region, book_number) "
        "SELECT id, 'Inside Wireperson Book 1', 'IW-1', 'inside_wireperson', 'Bench County', 1 FROM tenants",
        "INSERT INTO referral_books (tenant_id, name, code, classification, region, book_number) "  # noqa: S608
        "SELECT t.id, 'Spread book ' || g, 'S-' || g, 'tradeshow', 'Bench County', 1 + g % 4 "
        f"FROM tenants t, generate_series(1, {int(args.books)}) g",
        "INSERT INTO referral_books (tenant_id, name, code, classification, region, book_number) "  # noqa: S608
        "SELECT t.id, 'Warm-up book ' || g, 'W-' || g, 'residential', 'Bench County', 1 + g % 4 "
        f"FROM tenants t, generate_series(1, {WARMUP_BOOKS}) g",
        "INSERT INTO members (tenant_id, member_number, first_name, last_name, email, classification) "  # noqa: S608
        "SELECT t.id, 'M' || lpad(g::text, 7, '0'), "
        "(ARRAY['Ana','Ben','Chen','Dana','Eli','Fay','Gus','Hana','Ines','Jon'])[1 + g % 10], "
        "'Lastname' || (g * 7919 % 10007), 'm' || g || '@bench-hall.example', "
        "(ARRAY['journeyman','journeyman','journeyman','foreman','apprentice_5'])[1 + g % 5] "
        f"FROM tenants t, generate_series(1, {members}) g",
        f"""
        WITH numbered AS (
            SELECT id AS member_id, tenant_id, substr(member_number, 2)::int AS g FROM members
            WHERE substr(member_number, 2)::int <= {total}
        ), dated AS (
            SELECT n.*,
                   (now() AT TIME ZONE '{ZONE}')::date - 1 - ({total} - 1) / {per_day} + (n.g - 1) / {per_day} AS day,
                   (n.g - 1) % {per_day} + 1 AS k,
                   n.g::bigint * {int(args.registrants)} / {total}
                     > (n.g - 1)::bigint * {int(args.registrants)} / {total} AS waiting
            FROM numbered n
        ), placed AS (
            SELECT d.*, (d.day + time '07:00' + d.k * interval '6 minutes') AT TIME ZONE '{ZONE}' AS at,
                   greatest((d.day + time '07:00' + d.k * interval '6 minutes') AT TIME ZONE '{ZONE}',
                            now() - (29 - d.g % 30) * interval '1 day') AS re_signed
            FROM dated d
        )
        INSERT INTO book_registrations (tenant_id, member_id, book_id, applicant_priority_number, registered_at,
            status, last_re_sign_at, re_sign_deadline, check_marks, roll_off_at, roll_off_reason)
        SELECT p.tenant_id, p.member_id, b.id, (p.day - date '1899-12-30') + p.k / 100.0, p.at,
               CASE WHEN p.waiting THEN 'registered' WHEN p.g % 4 < 2 THEN 'rolled_off' ELSE 'dispatched' END,
               CASE WHEN p.waiting AND p.re_signed > p.at THEN p.re_signed END,
               CASE WHEN p.waiting THEN p.re_signed + interval '30 days' ELSE p.at + interval '30 days' END,
               CASE WHEN p.waiting THEN p.g % 3 ELSE 0 END,
               CASE WHEN NOT p.waiting AND p.g % 4 < 2 THEN (p.day + 20 + time '09:00') AT TIME ZONE '{ZONE}' END,
               CASE WHEN NOT p.waiting AND p.g % 4 < 2
                    THEN (ARRAY['failed_re_sign','check_marks','quit','manual'])[1 + p.g / 4 % 4] END
        FROM placed p, referral_books b WHERE b.code = 'IW-1'
        """,  # noqa: S608
        "VACUUM ANALYZE",  # statistics for the planner, and a visibility map for index-only scans
    ]
    _on_server(asyncpg_url(url), *statements)


def free_members(args: argparse.Namespace) -> int:
    """Members for the registrations: one for the check, the warm-up's, one a request on the spread books (as
    many as they can take), and the one-book phase's."""
    return 1 + WARMUP_BOOKS * DAILY_CAP + int(args.books) * DAILY_CAP + int(args.one_book_members)


async def _ids(url: str, args: argparse.Namespace) -> dict[str, list[str]]:
    total = int(args.registrants) + int(args.others)
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        books = await connection.fetch("SELECT code, id::text FROM referral_books ORDER BY code")
        free = await connection.fetch(
            "SELECT id::text FROM members WHERE substr(member_number, 2)::int > $1 ORDER BY member_number", total
        )
    finally:
        await connection.close()
    members = [row[0] for row in free]
    warm = 1 + WARMUP_BOOKS * DAILY_CAP
    spread = warm + int(args.books) * DAILY_CAP
    return {
        "book": [row[1] for row in books if row[0] == "IW-1"],
        "spread_books": [row[1] for row in books if row[0].startswith("S-")],
        "warmup_books": [row[1] for row in books if row[0].startswith("W-")],
        "check_member": members[:1],
        "warmup_members": members[1:warm],
        "spread_members": members[warm:spread],
        "one_book_members": members[spread:],
    }


def write_lines(path: Path, lines: list[str]) -> str:
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def check(base: str, token: str, book: str, member: str, warmup_book: str, registrants: int) -> None:
    """The routes answer as the load expects before any load: the pages with the right rows, a registration."""
    headers = {"Authorization": f"Bearer {token}"}
    for offset in (0, 14_999):
        answer = httpx.get(f"{base}{page_path(book, offset)}", headers=headers, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(f"GET out-of-work offset={offset}: {answer.status_code} {answer.text[:500]}")
        page = answer.json()
        expected = min(50, max(0, registrants - offset))
        positions = [item["position"] for item in page["items"]]
        if page["total"] != registrants or positions != list(range(offset + 1, offset + 1 + expected)):
            raise SystemExit(f"offset={offset}: total {page['total']}, positions {positions[:3]}…")
    answer = httpx.post(
        f"{base}/api/v1/hall/books/{warmup_book}/registrations", json={"member_id": member}, headers=headers, timeout=30
    )
    if answer.status_code != 201:
        raise SystemExit(f"POST registrations: {answer.status_code} {answer.text[:500]}")


def page_path(book: str, offset: int) -> str:
    return f"/api/v1/hall/books/{book}/out-of-work?limit=50&offset={offset}"


def measured(figures: dict[str, Any]) -> dict[str, Any]:
    """wrk's figures, with the registration phases' rates per status."""
    result = {name: figures[name] for name in ("rps", "p50_ms", "p99_ms", "non2xx", "errors")}
    if figures["created"] or figures["conflicts"]:
        seconds = figures["seconds"] or 1.0
        result.update(
            requests=figures["requests"],
            created=figures["created"],
            conflicts=figures["conflicts"],
            created_per_s=round(figures["created"] / seconds, 1),
            conflicts_per_s=round(figures["conflicts"] / seconds, 1),
        )
    result["other_status"] = figures["other"]
    return result


async def _burst(url: str, book: str, since: float) -> dict[str, Any]:
    """How fast the big book's registrations of the run went: their count over the span of ``registered_at``."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        row = await connection.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM max(registered_at) - min(registered_at)) AS span "
            "FROM book_registrations WHERE book_id = $1::uuid AND registered_at >= to_timestamp($2)",
            book,
            since,
        )
    finally:
        await connection.close()
    assert row is not None
    created, span = int(row["n"]), float(row["span"] or 0)
    per_s = round((created - 1) / span, 1) if created > 1 and span > 0 else None
    return {"burst_created": created, "burst_seconds": round(span, 3), "burst_created_per_s": per_s}


def run_round(server_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh database, one server, the four phases; the database is dropped afterwards."""
    name = f"rollcall_bench_hall_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="rollcall-hall-"))
    try:
        database_url = scratch_database(server_url, name)
        started = time.perf_counter()
        prepare(database_url, args)
        prepared_s = round(time.perf_counter() - started, 1)
        ids = asyncio.run(_ids(database_url, args))
        files = {key: write_lines(work / f"{key}.txt", value) for key, value in ids.items()}
        issuer = Issuer()
        env = production_env(database_url, redis_url, work, issuer)
        with api_server(env, work / "serve.log") as base:
            token = issuer.token(tenant=SLUG, roles=["dispatcher"])
            return {"prepare_s": prepared_s, **phases(base, token, ids, files, database_url, args)}
    finally:
        drop_database(server_url, name)
        shutil.rmtree(work, ignore_errors=True)


def phases(
    base: str,
    token: str,
    ids: dict[str, list[str]],
    files: dict[str, str],
    database_url: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The check, then the four phases (each read and the spread registrations after a warm-up)."""
    book = ids["book"][0]
    check(base, token, book, ids["check_member"][0], ids["warmup_books"][0], int(args.registrants))
    load = {"seconds": args.seconds, "connections": args.connections, "env": {"HALL_TOKEN": token}}
    warm = {**load, "seconds": args.warmup}
    result: dict[str, Any] = {}
    for phase, offset in (("first_page", 0), ("page_15000", 14_999)):
        read = ["read", page_path(book, offset)]
        if args.warmup:
            wrk(base, SCRIPT, script_args=read, **warm)
        result[phase] = measured(wrk(base, SCRIPT, script_args=read, **load))
    if args.warmup:
        wrk(base, SCRIPT, script_args=["register", files["warmup_books"], files["warmup_members"]], **warm)
    spread = ["register", files["spread_books"], files["spread_members"]]
    result["register_spread"] = {**measured(wrk(base, SCRIPT, script_args=spread, **load)), "books": args.books}
    since = time.time() - 1
    one_book = ["register", files["book"], files["one_book_members"]]
    result["register_one_book"] = measured(wrk(base, SCRIPT, script_args=one_book, **load))
    result["register_one_book"].update(asyncio.run(_burst(database_url, book, since)))
    return result


def summary(rounds: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each phase's figures: the median over the rounds (error counts: their sum)."""
    phases: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        runs = [run[phase] for run in rounds]
        figures: dict[str, Any] = {}
        for key, value in runs[0].items():
            values = [run.get(key) for run in runs]
            if key in ("non2xx", "errors", "other_status"):
                figures[key] = sum(v or 0 for v in values)
            elif all(isinstance(v, int | float) for v in values):
                middle = statistics.median(values)
                figures[key] = int(middle) if float(middle).is_integer() else round(middle, 2)
            else:
                figures[key] = value
        phases[phase] = figures
    return phases


def main() -> None:
    parser = argparse.ArgumentParser(description="Hiring hall out-of-work list and registration load test.")
    parser.add_argument("--registrants", type=int, default=20_000, help="registered on the big book")
    parser.add_argument("--others", type=int, default=20_000, help="rolled-off and dispatched among them")
    parser.add_argument("--per-day", type=int, default=50, help="the big book's registrations per past day (≤ 99)")
    parser.add_argument("--books", type=int, default=200, help="books of the spread registration phase")
    parser.add_argument("--one-book-members", type=int, default=20_000, help="members for the one-book phase")
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per phase")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each phase (0: none)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each on a fresh database and server")
    args = parser.parse_args()
    if not 1 <= args.per_day <= DAILY_CAP:
        parser.error(f"--per-day must be 1 to {DAILY_CAP}")
    if args.registrants < 15_049:
        print("note: fewer than 15,049 registrants: the page at 15,000 is short or empty", file=sys.stderr)
    rounds: list[dict[str, Any]] = []
    with servers() as (server_url, redis_url):
        try:
            for _ in range(args.rounds):
                rounds.append(run_round(server_url, redis_url, args))
        finally:
            flush_redis(redis_url)  # the nudges no worker took
    phases = summary(rounds)
    spread, one_book = phases["register_spread"], phases["register_one_book"]
    goals = {
        "first_page_p99_le_20ms": phases["first_page"]["p99_ms"] <= PAGE_GOAL_MS,
        "page_15000_p99_le_20ms": phases["page_15000"]["p99_ms"] <= PAGE_GOAL_MS,
        "registrations_ge_500_per_s": spread.get("created_per_s", 0) >= REGISTRATION_GOAL_PER_S,
        "one_book_burst_ge_500_per_s": (one_book.get("burst_created_per_s") or 0) >= REGISTRATION_GOAL_PER_S,
    }
    report(
        {
            "target": "rollcall serve (1 process)",
            "connections": args.connections,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "registrants": args.registrants,
            "others": args.others,
            **phases,
            "goals": goals,
            "by_round": rounds,
        }
    )


if __name__ == "__main__":
    main()
