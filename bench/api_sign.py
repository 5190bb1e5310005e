"""Driver of bench/api_sign.sh (see there). Prints one JSON line."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url

from bench._support import (
    REPO,
    _on_server,
    flush_redis,
    production_env,
    report,
    scratch_database,
    servers,
    stop,
    wait_ready,
    wrk,
)

DATABASE = "rollcall_bench_sign"
REFERENCE_DATABASE = "rollcall_bench_refstack"
REFSTACK = REPO.parent / "shared" / "bench" / "refstack"
SIGNATURE_B64 = (
    (REFSTACK / "sig.b64").read_text().strip()
    if (REFSTACK / "sig.b64").exists()
    else ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
)
"""The reference stack's signature image when it is beside the project, else a 1x1 PNG: both runs send the same."""


def prepare_players(database_url: str, players: int) -> None:
    """A club, a team and N offered players whose tokens are tok-1 … tok-N (SQL, for speed)."""
    sync_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    statements = [
        "INSERT INTO tenants (id, slug, name, kind, created_at, updated_at) "
        "VALUES (gen_random_uuid(), 'bench-club', 'Bench Club', 'club', now(), now())",
        "INSERT INTO teams (id, tenant_id, name, season, monthly_fee, created_at, updated_at) "
        "SELECT gen_random_uuid(), id, 'Bench Team', '2026-27', 10000, now(), now() FROM tenants",
        "INSERT INTO players (id, tenant_id, name, contract_status, contract_token, monthly_fee, contract_offered_at,"  # noqa: S608
        " created_at, updated_at) SELECT gen_random_uuid(), t.id, 'Player ' || g, 'offered', 'tok-' || g, 10000,"
        f" now(), now(), now() FROM tenants t, generate_series(1, {int(players)}) g",
        "INSERT INTO player_teams (player_id, team_id) SELECT p.id, t.id FROM players p, teams t",
        "ANALYZE",
    ]
    _on_server(sync_url, *statements)


def drive(base: str, path_format: str, seconds: int, connections: int, first_contract: int = 0) -> dict[str, Any]:
    """wrk with bench/sign_load.lua: every request signs its own contract (after ``first_contract``) from its
    own client address."""
    env = {"SIG_B64": SIGNATURE_B64, "FIRST_CONTRACT": str(first_contract)}
    return wrk(base, REPO / "bench" / "sign_load.lua", seconds=seconds, connections=connections,
               script_args=[path_format], env=env)  # fmt: skip


def run_rollcall(server_url: str, redis_url: str, args: argparse.Namespace) -> dict[str, Any]:
    database_url = scratch_database(server_url, DATABASE)
    prepare_players(database_url, args.players)
    port = 8611
    env = production_env(database_url, redis_url, Path(tempfile.mkdtemp(prefix="rollcall-sign-")))
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return serve_and_drive(command, REPO, env, port, "/health/ready", "/api/v1/contracts/tok-%d/sign", args)


def run_reference(server_url: str, args: argparse.Namespace) -> dict[str, Any]:
    _on_server(server_url, f'DROP DATABASE IF EXISTS "{REFERENCE_DATABASE}" WITH (FORCE)',
               f'CREATE DATABASE "{REFERENCE_DATABASE}"')  # fmt: skip
    dsn = make_url(server_url).set(drivername="postgresql+psycopg", database=REFERENCE_DATABASE)
    env = {**os.environ, "DSN": dsn.render_as_string(hide_password=False), "SIG_DIR": tempfile.mkdtemp()}
    subprocess.run([args.reference, "app.py", "setup", str(args.players)], cwd=REFSTACK, env=env, check=True,
                   capture_output=True)  # fmt: skip
    port = 8612
    command = [args.reference, "-m", "uvicorn", "app:app", "--port", str(port), "--no-access-log"]
    return serve_and_drive(command, REFSTACK, env, port, "/docs", "/contract/tok-%d/sign", args)


def serve_and_drive(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    port: int,
    ready_path: str,
    path_format: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Start a server, wait until it answers, warm it up (unmeasured, on the last tenth of the contracts),
    load it with wrk, stop it."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}{ready_path}", process)
        base = f"http://127.0.0.1:{port}"
        if args.warmup:
            drive(base, path_format, args.warmup, args.connections, first_contract=args.players - args.players // 10)
        return drive(base, path_format, args.seconds, args.connections)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description="Sign-endpoint load test (see bench/api_sign.sh).")
    parser.add_argument("--players", type=int, default=80_000, help="offered players to prepare (> requests)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each stack once a round; medians reported")
    parser.add_argument("--reference", help="python of a venv with the refstack's packages: run it too")
    args = parser.parse_args()
    rollcall_runs: list[dict[str, Any]] = []
    reference_runs: list[dict[str, Any]] = []
    with servers() as (server_url, redis_url):
        for _ in range(args.rounds):  # interleaved, so a slow spell of a shared machine hits both stacks
            flush_redis(redis_url)
            rollcall_runs.append(run_rollcall(server_url, redis_url, args))
            if args.reference:
                reference_runs.append(run_reference(server_url, args))
    rollcall = median_run(rollcall_runs)
    result: dict[str, Any] = {"target": "rollcall serve (1 process)", "connections": args.connections,
                              "seconds": args.seconds, "rounds": args.rounds, **rollcall,
                              "rps_by_round": [run["rps"] for run in rollcall_runs],
                              "p99_ms_by_round": [run["p99_ms"] for run in rollcall_runs]}  # fmt: skip
    if args.reference:
        reference = median_run(reference_runs)
        result["reference"] = {**reference, "rps_by_round": [run["rps"] for run in reference_runs]}
        result["rps_ratio"] = round(rollcall["rps"] / reference["rps"], 2) if reference["rps"] else None
    report(result)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (error counts: their sum)."""
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "non2xx": sum(run["non2xx"] for run in runs),
        "errors": sum(run["errors"] for run in runs),
    }


if __name__ == "__main__":
    main()
