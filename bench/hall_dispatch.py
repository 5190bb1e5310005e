"""Hiring hall, part 2: dispatch by morning referral and by online bids, then the fairness replay (see
bench/README.md). Prints one JSON line.

Everything goes through the service as a hall would use it: a scratch database migrated from empty, the hall
tenant made with ``rollcall tenants create``, one ``rollcall serve`` process as in production (bench/_support.py's
``production_env``: every tuning setting at its default) trusting this script's issuer, and
``rollcall hall verify`` at the end. The steps:

0. Seeding (not timed): the hall's time zone (``PATCH /api/v1/admin/tenants/current``) set to an ``Etc/GMT±N``
   zone whose clock reads 01:xx now, so that today, in the hall, a request taken now counts from today (before
   15:00, rule 7) and online bidding on today's requests is open (17:30 yesterday to 07:00 today, rule 8); an
   employer; a book that takes online bids; ``--registrants`` members, each linked to a login (``keycloak_sub``);
   and their registrations on the book, carried over with their APNs (``…/registrations/import``: 50 a past
   day, in member order).
1. Morning referral: ``--requests`` labor requests starting today, 1 to 3 workers each (seeded random), taken
   first; then ``--clients`` clients (asyncio, each call on a kept-alive connection of ``KeepAliveClient``, a
   lean HTTP/1.1 client in bench/_support.py) take requests off one queue and fill each by calling
   ``POST /labor-requests/{id}/dispatches {"method": "morning_referral"}`` once per worker. Only the dispatch
   calls are timed: dispatches a second over the phase's wall time, latency p50/p99 per call.
2. The bidding window: requests that take online bids (``--bids-per-request`` bids each), then ``--bids`` bids,
   each by a different member still on the out-of-work list, with that member's own token (timed on their
   own), then ``POST …/process-bids`` on every request with a reason (before 07:00 that closes bidding early;
   timed: bid dispatches a second).
3. ``rollcall hall verify --tenant SLUG`` over the hall's whole history, timed as a subprocess.

Any unexpected HTTP status is counted; the run then exits 1 after its JSON line, as it does when verify finds
anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from app.hall.clock import excel_serial
from bench._support import (
    HttpError,
    Issuer,
    KeepAliveClient,
    api_server,
    asyncpg_url,
    drop_database,
    flush_redis,
    percentile,
    production_env,
    report,
    rollcall,
    scratch_database,
    servers,
)

T = TypeVar("T")

SLUG = "bench-dispatch"
HALL = "/api/v1/hall"
PER_DAY = 50
"""Imported registrations per past day (their APNs: the day's spreadsheet serial + k/100)."""
DISPATCHES_GOAL_PER_S = 500.0
VERIFY_GOAL_S = 10.0
LOCAL_HOUR = 1
"""The hall's wall clock at the start: 01:xx leaves six hours before bidding closes at 07:00."""
_VERIFY_SUMMARY = re.compile(r"(\d+) books, (\d+) trace rows, (\d+) dispatches replayed in ([0-9.]+)s")


def hall_zone(now: datetime) -> str:
    """An ``Etc/GMT±N`` zone whose clock reads ``LOCAL_HOUR``:xx at ``now``. Etc/GMT's signs are POSIX's,
    inverted: ``Etc/GMT-5`` is UTC+5. UTC-12 to UTC+14 covers every hour of the day."""
    offset = (LOCAL_HOUR - now.astimezone(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@dataclass
class Api:
    """The API's client: every call expects one status; anything else is counted as an error."""

    client: KeepAliveClient
    errors: int = 0
    messages: list[str] = field(default_factory=list)

    async def call(
        self, method: str, path: str, token: str, expected: int, body: dict[str, Any] | None = None
    ) -> tuple[Any, float] | None:
        """The answer's JSON and the call's seconds, or None (counted) for another status or no answer."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            status, answer = await self.client.request(
                method, path, headers, json.dumps(body).encode() if body else b""
            )
        except HttpError as error:
            self.fail(str(error))
            return None
        seconds = time.perf_counter() - started
        if status != expected:
            self.fail(f"{method} {path}: {status} {answer[:300].decode(errors='replace')}")
            return None
        return (json.loads(answer) if answer else None), seconds

    def fail(self, message: str) -> None:
        self.errors += 1
        if len(self.messages) < 10:
            self.messages.append(message)


async def drain(items: Iterable[T], clients: int, work: Callable[[T], Awaitable[None]]) -> float:
    """``clients`` tasks take the items off one queue and ``work`` each; the wall seconds until all are done."""
    queue: asyncio.Queue[T] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def client() -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await work(item)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


def sub_of(index: int) -> str:
    return f"bench-member-{index:06d}"


def milliseconds(values: list[float], fraction: float) -> float | None:
    return round(percentile(values, fraction) * 1000, 2) if values else None


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


@dataclass
class Hall:
    """What the seeding made: the book, the employer, the members (by index) and their registrations."""

    zone: str
    today: date
    book: str = ""
    employer: str = ""
    members: list[str] = field(default_factory=list)
    registrations: list[str] = field(default_factory=list)


async def seed(api: Api, issuer: Issuer, args: argparse.Namespace) -> Hall:
    """The time zone, the employer, the book, the members and their registrations (through the API)."""
    admin = issuer.token(tenant=SLUG, roles=["admin"], sub="bench-admin")
    dispatcher = issuer.token(tenant=SLUG, roles=["dispatcher"], sub="bench-dispatcher")
    zone = hall_zone(datetime.now(UTC))
    changed = await api.call("PATCH", "/api/v1/admin/tenants/current", admin, 200, {"timezone": zone})
    if changed is None or changed[0]["timezone"] != zone:
        raise SystemExit(f"could not set the hall's time zone: {api.messages}")
    hall = Hall(zone=zone, today=datetime.now(ZoneInfo(zone)).date())
    employer = await api.call("POST", f"{HALL}/employers", admin, 201, {"name": "Bench Electric Inc."})
    book = await api.call(
        "POST",
        f"{HALL}/books",
        admin,
        201,
        {
            "name": "Inside Wireperson Book 1",
            "code": "IW-1",
            "classification": "inside_wireperson",
            "region": "Bench County",
            "book_number": 1,
            "internet_bidding_enabled": True,
        },
    )
    if employer is None or book is None:
        raise SystemExit(f"could not create the employer and the book: {api.messages}")
    hall.employer, hall.book = employer[0]["id"], book[0]["id"]
    count = int(args.registrants)
    hall.members = [""] * count
    hall.registrations = [""] * count

    async def member(index: int) -> None:
        body = {
            "member_number": f"D{index:06d}",
            "first_name": ("Ana", "Ben", "Chen", "Dana", "Eli", "Fay", "Gus", "Hana", "Ines", "Jon")[index % 10],
            "last_name": f"Lastname{index * 7919 % 10007}",
            "classification": "journeyman",
            "keycloak_sub": sub_of(index),
        }
        answer = await api.call("POST", f"{HALL}/members", admin, 201, body)
        if answer is not None:
            hall.members[index] = answer[0]["id"]

    await drain(range(count), args.seed_clients, member)
    first_day = hall.today - timedelta(days=1 + (count - 1) // PER_DAY)
    zone_info = ZoneInfo(zone)

    async def registration(index: int) -> None:
        if not hall.members[index]:
            return
        day, k = first_day + timedelta(days=index // PER_DAY), index % PER_DAY + 1
        registered = datetime.combine(day, clock_time(7, 0), zone_info) + timedelta(minutes=6 * k)
        body = {
            "member_id": hall.members[index],
            "applicant_priority_number": f"{excel_serial(day)}.{k:02d}",
            "registered_at": registered.isoformat(),
        }
        answer = await api.call("POST", f"{HALL}/books/{hall.book}/registrations/import", dispatcher, 201, body)
        if answer is not None:
            hall.registrations[index] = answer[0]["id"]

    await drain(range(count), args.seed_clients, registration)
    # Requests are judged by the hall's clock: the one API process took the zone change, so it already uses it.
    return hall


async def labor_requests(
    api: Api, token: str, hall: Hall, workers: list[int], *, bidding: bool, clients: int
) -> list[tuple[str, int]]:
    """Requests of ``workers`` each starting today (not timed); (id, workers) of those taken."""
    taken: list[tuple[str, int]] = []

    async def create(count: int) -> None:
        body = {
            "employer_id": hall.employer,
            "book_id": hall.book,
            "workers_requested": count,
            "start_date": hall.today.isoformat(),
            "start_time": "07:00:00",
            "estimated_duration_days": 20,
            "allows_online_bidding": bidding,
        }
        answer = await api.call("POST", f"{HALL}/labor-requests", token, 201, body)
        if answer is not None:
            taken.append((answer[0]["id"], count))

    await drain(workers, clients, create)
    return taken


async def referral(api: Api, token: str, requests: list[tuple[str, int]], clients: int) -> dict[str, Any]:
    """Phase 1: every request filled by morning referral, one call per worker; the calls timed."""
    latencies: list[float] = []
    dispatched: list[str] = []

    async def fill(request: tuple[str, int]) -> None:
        request_id, workers = request
        for _ in range(workers):
            path = f"{HALL}/labor-requests/{request_id}/dispatches"
            answer = await api.call("POST", path, token, 201, {"method": "morning_referral"})
            if answer is not None:
                dispatched.append(answer[0]["member_id"])
                latencies.append(answer[1])

    seconds = await drain(requests, clients, fill)
    return {
        "dispatched": dispatched,
        "referral_dispatches": len(dispatched),
        "referral_seconds": round(seconds, 3),
        "referral_dispatches_per_s": rate(len(dispatched), seconds),
        "referral_p50_ms": milliseconds(latencies, 0.50),
        "referral_p99_ms": milliseconds(latencies, 0.99),
    }


async def bidding(
    api: Api, issuer: Issuer, token: str, hall: Hall, dispatched: set[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Phase 2: bidding requests, a bid each from members still on the list, then the bids processed."""
    rng = random.Random(args.seed + 1)  # noqa: S311  (test data, not secrets)
    bid_requests = math.ceil(args.bids / args.bids_per_request)
    workers = [rng.randint(1, 3) for _ in range(bid_requests)]
    requests = await labor_requests(api, token, hall, workers, bidding=True, clients=args.clients)
    waiting = [index for index, member in enumerate(hall.members) if member and member not in dispatched]
    if len(waiting) < args.bids:
        raise SystemExit(f"only {len(waiting)} registrants are left to bid, {args.bids} bids asked for")
    bidders = rng.sample(waiting, args.bids)
    tokens = {index: issuer.token(tenant=SLUG, roles=["member"], sub=sub_of(index)) for index in bidders}
    plan = [(requests[number % len(requests)][0], index) for number, index in enumerate(bidders)] if requests else []
    placed: dict[str, int] = {}
    bid_latencies: list[float] = []

    async def bid(item: tuple[str, int]) -> None:
        request_id, index = item
        answer = await api.call("POST", f"{HALL}/labor-requests/{request_id}/bids", tokens[index], 201)
        if answer is not None:
            placed[request_id] = placed.get(request_id, 0) + 1
            bid_latencies.append(answer[1])

    bid_seconds = await drain(plan, args.clients, bid)
    accepted = rejected = 0
    latencies: list[float] = []

    async def process(request: tuple[str, int]) -> None:
        nonlocal accepted, rejected
        request_id, places = request
        body = {"reason": "bench: the bidding window closes early"}
        answer = await api.call("POST", f"{HALL}/labor-requests/{request_id}/process-bids", token, 200, body)
        if answer is None:
            return
        outcome, seconds = answer
        latencies.append(seconds)
        accepted += len(outcome["accepted"])
        rejected += len(outcome["rejected"])
        expected = min(places, placed.get(request_id, 0))
        if len(outcome["accepted"]) != expected or outcome["workers_dispatched"] != expected:
            api.fail(f"process-bids {request_id}: {len(outcome['accepted'])} accepted, {expected} expected")

    seconds = await drain(requests, args.clients, process)
    return {
        "bid_requests": len(requests),
        "bid_workers_requested": sum(places for _, places in requests),
        "bids": sum(placed.values()),
        "bids_per_s": rate(sum(placed.values()), bid_seconds),
        "bid_p99_ms": milliseconds(bid_latencies, 0.99),
        "bid_dispatches": accepted,
        "bids_rejected": rejected,
        "process_seconds": round(seconds, 3),
        "bid_dispatches_per_s": rate(accepted, seconds),
        "process_p50_ms": milliseconds(latencies, 0.50),
        "process_p99_ms": milliseconds(latencies, 0.99),
    }


async def drive(base: str, issuer: Issuer, args: argparse.Namespace) -> tuple[dict[str, Any], Api]:
    """Seeding and the two timed phases against the running API."""
    client = KeepAliveClient(base, max(args.clients, args.seed_clients))
    async with contextlib.aclosing(client):
        api = Api(client)
        started = time.perf_counter()
        hall = await seed(api, issuer, args)
        seeded = round(time.perf_counter() - started, 1)
        dispatcher = issuer.token(tenant=SLUG, roles=["dispatcher"], sub="bench-dispatcher")
        rng = random.Random(args.seed)  # noqa: S311  (test data, not secrets)
        workers = [rng.randint(1, 3) for _ in range(args.requests)]
        requests = await labor_requests(api, dispatcher, hall, workers, bidding=False, clients=args.clients)
        phase1 = await referral(api, dispatcher, requests, args.clients)
        dispatched = set(phase1.pop("dispatched"))
        phase2 = await bidding(api, issuer, dispatcher, hall, dispatched, args)
        local = datetime.now(ZoneInfo(hall.zone))
    return {
        "timezone": hall.zone,
        "hall_day": hall.today.isoformat(),
        "hall_time_at_end": local.strftime("%H:%M"),
        "registrants": sum(1 for registration in hall.registrations if registration),
        "seed_s": seeded,
        "requests": len(requests),
        "workers_requested": sum(count for _, count in requests),
        **phase1,
        **phase2,
    }, api


async def recorded(database_url: str) -> dict[str, Any]:
    """What the database holds afterwards: dispatches by method, bids by status."""
    connection = await asyncpg.connect(asyncpg_url(database_url))
    try:
        methods = await connection.fetch("SELECT method::text, count(*) FROM dispatches GROUP BY 1")
        bids = await connection.fetch("SELECT status::text, count(*) FROM job_bids GROUP BY 1")
    finally:
        await connection.close()
    return {
        "dispatches_by_method": {row[0]: row[1] for row in methods},
        "bids_by_status": {row[0]: row[1] for row in bids},
    }


def verify(env: dict[str, str]) -> dict[str, Any]:
    """Phase 3: ``rollcall hall verify`` over the hall's history, timed as the operator's command."""
    started = time.perf_counter()
    done = rollcall(env, "hall", "verify", "--tenant", SLUG)
    seconds = time.perf_counter() - started
    output = (done.stdout + done.stderr).strip()
    summary = _VERIFY_SUMMARY.search(output)
    if done.returncode not in (0, 1) or summary is None:
        raise SystemExit(f"rollcall hall verify exited with {done.returncode}:\n{output[-3000:]}")
    result: dict[str, Any] = {
        "verify_seconds": round(seconds, 2),
        "verify_replay_s": float(summary.group(4)),
        "verify_trace_rows": int(summary.group(2)),
        "verify_dispatches": int(summary.group(3)),
        "verify_clean": done.returncode == 0,
    }
    if done.returncode:
        result["verify_findings"] = output.splitlines()[:10]
    return result


def run(server_url: str, redis_url: str, args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """One fresh database and server, the phases, verify; the database is dropped afterwards."""
    name = args.database or f"rollcall_bench_dispatch_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="rollcall-dispatch-"))
    try:
        database_url = scratch_database(server_url, name)
        issuer = Issuer()
        env = production_env(database_url, redis_url, work, issuer)
        made = rollcall(env, "tenants", "create", "--slug", SLUG, "--name", "Bench Dispatch Hall", "--kind", "hall")
        if made.returncode:
            raise SystemExit(f"rollcall tenants create: {made.stdout}{made.stderr}")
        with api_server(env, work / "serve.log") as base:
            result, api = asyncio.run(drive(base, issuer, args))
        result.update(asyncio.run(recorded(database_url)))
        result.update(verify(env))
        result["errors"] = api.errors
        return result, api.messages
    finally:
        if not args.keep:
            drop_database(server_url, name)
        shutil.rmtree(work, ignore_errors=True)


def problems(result: dict[str, Any], messages: list[str]) -> list[str]:
    """Why the run failed, if it did: unexpected answers, counts that do not add up, an unclean history."""
    found = [f"{result['errors']} unexpected answers, e.g.: " + " | ".join(messages)] if result["errors"] else []
    methods = result["dispatches_by_method"]
    if result["referral_dispatches"] != result["workers_requested"]:
        found.append(f"{result['referral_dispatches']} referral dispatches for {result['workers_requested']} places")
    if methods.get("morning_referral", 0) != result["referral_dispatches"]:
        found.append(f"the database holds {methods.get('morning_referral', 0)} morning referrals")
    if methods.get("internet_bid", 0) != result["bid_dispatches"]:
        found.append(f"the database holds {methods.get('internet_bid', 0)} internet dispatches")
    if result["bid_dispatches"] + result["bids_rejected"] != result["bids"]:
        found.append(f"{result['bids']} bids, {result['bid_dispatches']} accepted, {result['bids_rejected']} rejected")
    if not result["verify_clean"]:
        found.append("rollcall hall verify found: " + " | ".join(result.get("verify_findings", [])))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registrants", type=int, default=20_000, help="members registered on the book")
    parser.add_argument("--requests", type=int, default=1_000, help="labor requests filled by morning referral")
    parser.add_argument("--bids", type=int, default=2_000, help="bids, each by a different registrant")
    parser.add_argument("--bids-per-request", type=int, default=10, help="bids on each bidding request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients of the timed phases")
    parser.add_argument("--seed-clients", type=int, default=16, help="concurrent clients while seeding")
    parser.add_argument("--seed", type=int, default=20_261_203, help="seed of the workers per request")
    parser.add_argument("--database", default=None, help="scratch database name (default: one per process)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args()
    if min(args.registrants, args.requests, args.bids, args.bids_per_request, args.clients, args.seed_clients) < 1:
        parser.error("every count must be at least 1")
    if args.registrants < 3 * args.requests + args.bids:
        parser.error("--registrants must cover 3 workers per request and every bid (3 * requests + bids)")
    with servers() as (server_url, redis_url):
        try:
            result, messages = run(server_url, redis_url, args)
        finally:
            flush_redis(redis_url)  # the nudges no worker took
    goals = {
        "dispatches_per_s_500": result["referral_dispatches_per_s"] >= DISPATCHES_GOAL_PER_S,
        "verify_clean_10s": result["verify_clean"] and result["verify_seconds"] <= VERIFY_GOAL_S,
    }
    report(
        {
            "bench": "hall_dispatch",
            "target": "rollcall serve (1 process)",
            "clients": args.clients,
            **result,
            "goals": goals,
        }
    )
    found = problems(result, messages)
    if found:
        raise SystemExit("hall_dispatch failed:\n- " + "\n- ".join(found))


if __name__ == "__main__":
    main()
