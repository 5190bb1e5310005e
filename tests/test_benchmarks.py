"""The benchmarks keep working: each runs small here and prints its JSON line (figures are not judged)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.xdist_group("benchmarks")
"""The benchmarks share a scratch database name and Redis db 12: under pytest-xdist they run in one process."""


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
    assert isinstance(result["kills"], int)
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


def test_the_hall_dispatch_benchmark_fills_every_place_and_verifies_clean(servers: tuple[str, str]) -> None:
    result = run_bench(
        "hall_dispatch.py", "--registrants", "400", "--requests", "40", "--bids", "60", env=bench_env(servers)
    )
    counts = {key: value for key, value in result.items() if isinstance(value, int) and not isinstance(value, bool)}
    assert (result["bench"], result["errors"]) == ("hall_dispatch", 0)
    assert (counts["registrants"], counts["requests"]) == (400, 40)
    assert 40 <= counts["workers_requested"] <= 120
    assert counts["referral_dispatches"] == counts["workers_requested"]
    # 60 bids, 10 on each of 6 requests of 1 to 3 places: every place goes to a bid, the other bids lose.
    assert (counts["bids"], counts["bid_requests"]) == (60, 6)
    assert counts["bid_dispatches"] == counts["bid_workers_requested"]
    assert counts["bid_dispatches"] + counts["bids_rejected"] == 60
    assert result["dispatches_by_method"] == {
        "morning_referral": counts["referral_dispatches"],
        "internet_bid": counts["bid_dispatches"],
    }
    assert result["bids_by_status"] == {"accepted": counts["bid_dispatches"], "rejected": counts["bids_rejected"]}
    assert result["verify_clean"] is True
    assert counts["verify_dispatches"] == counts["referral_dispatches"] + counts["bid_dispatches"]
    assert isinstance(result["goals"], dict)
    assert set(result["goals"]) == {"dispatches_per_s_500", "verify_clean_10s"}
    assert all(isinstance(result[key], float) for key in ("referral_dispatches_per_s", "bid_dispatches_per_s"))
