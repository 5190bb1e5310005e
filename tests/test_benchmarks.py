"""The benchmarks keep working: each runs small here and prints its JSON line (figures are not judged)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from tests.conftest import REPO


def run_bench(script: str, *arguments: str, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    parsed: dict[str, object] = json.loads(line)
    return parsed


def bench_env(servers: tuple[str, str]) -> dict[str, str]:
    return {"DATABASE_URL": servers[0], "REDIS_URL": servers[1]}


def test_the_chaos_run_loses_nothing_and_duplicates_nothing(servers: tuple[str, str]) -> None:
    result = run_bench(
        "outbox_chaos.py",
        "--events", "600", "--workers", "3", "--rate", "300", "--kill-every", "0.7", "--lease", "2",
        "--database", f"rollcall_chaos_{secrets.token_hex(3)}", "--drop",
        env=bench_env(servers),
    )  # fmt: skip
    assert result["kills"] >= 1
    assert result["flushall"] is True
    assert (result["delivered"], result["lost"], result["dead"]) == (600, 0, 0)
    assert (result["effects"], result["duplicate_effects"], result["missing_effects"]) == (600, 0, 0)


def test_the_throughput_benchmark_reports_its_figures(servers: tuple[str, str]) -> None:
    result = run_bench("outbox_throughput.py", "--events", "1000", "--workers", "1", env=bench_env(servers))
    assert (result["events"], result["workers"]) == (1000, 1)
    assert isinstance(result["events_per_s"], int)


def test_the_latency_benchmark_reports_its_percentiles(servers: tuple[str, str]) -> None:
    result = run_bench("outbox_latency.py", "--rate", "50", "--seconds", "1", env=bench_env(servers))
    assert (result["events"], result["missing"]) == (50, 0)
    assert set(result) >= {"p50_ms", "p95_ms", "p99_ms"}
