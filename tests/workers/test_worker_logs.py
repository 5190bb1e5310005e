"""The worker's log: a routine cron run (the every-second outbox sweep) stays off it; failures and other jobs do not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest
from arq import create_pool, cron
from arq.connections import RedisSettings
from arq.worker import create_worker
from msgspec.structs import replace

from app.config import LogSettings, Settings
from app.core.logging import configure_logging
from workers import worker_settings

PRODUCTION = LogSettings(level="INFO", format="json")
DEV = LogSettings(level="DEBUG", format="console")  # what `rollcall dev` runs with

# arq.worker's format strings (arq/worker.py, Worker.run_job): a job's start, success, retry, failure.
STARTED = "%6.2fs → %s(%s)%s"
SUCCEEDED = "%6.2fs ← %s ● %s"
RETRYING = "%6.2fs ↻ %s retrying job in %0.2fs"
FAILED = "%6.2fs ! %s failed, %s: %s"
MAX_TRIES = "%6.2fs ! %s max retries %d exceeded"


async def nightly_report(ctx: dict[str, Any]) -> None:
    raise RuntimeError("the report broke")


def arq_lines(captured: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "arq.worker"]


@pytest.mark.parametrize("log", [PRODUCTION, DEV], ids=["production", "dev"])
async def test_a_running_worker_logs_its_jobs_and_failing_crons_but_not_the_sweep(
    settings: Settings, log: LogSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_cls = worker_settings(replace(settings, log=log))
    failing_cron = cron(nightly_report, hour={3}, minute={0}, second={0}, run_at_startup=True)
    pool = await create_pool(RedisSettings.from_dsn(settings.redis.url))
    await pool.enqueue_job("ping")
    seen_enough = asyncio.Event()

    async def after_job_end(ctx: dict[str, Any]) -> None:
        if worker.jobs_complete >= 2 and worker.jobs_failed >= 1:  # ping and a sweep done, the report failed
            seen_enough.set()

    worker = create_worker(
        settings_cls,
        poll_delay=0.05,
        handle_signals=False,
        cron_jobs=[*settings_cls.cron_jobs, failing_cron],  # type: ignore[attr-defined]
        after_job_end=after_job_end,
    )
    running = asyncio.create_task(worker.main())
    try:
        await asyncio.wait_for(seen_enough.wait(), timeout=10)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()
        await pool.aclose()
    err = capsys.readouterr().err
    if log.format == "json":  # the JSON renderer escapes arq's arrows; read the messages
        lines = arq_lines(err)
        assert {line["level"] for line in lines if ":ping" in line["event"]} == {"info"}
        assert {line["level"] for line in lines if "cron:nightly_report failed" in line["event"]} == {"error"}
        err = "\n".join(line["event"] for line in lines)
    assert "→ cron:outbox_sweep()" not in err
    assert "← cron:outbox_sweep ●" not in err
    assert "cron:nightly_report failed, RuntimeError: the report broke" in err
    assert "→ cron:nightly_report()" not in err  # a failing cron's start is as routine as any
    assert ":ping()" in err
    assert ":ping ● 'pong from" in err


@pytest.mark.parametrize("log", [PRODUCTION, DEV], ids=["production", "dev"])
def test_a_crons_start_and_success_are_not_logged(log: LogSettings, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(log)
    arq = logging.getLogger("arq.worker")
    arq.info(STARTED, 0.01, "cron:outbox_sweep", "", "")
    arq.info(SUCCEEDED, 0.0, "cron:outbox_sweep", "")
    assert capsys.readouterr().err == ""


def test_a_crons_start_and_success_log_at_debug_when_arq_debug_is_turned_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(LogSettings(level="DEBUG", format="json"))
    arq = logging.getLogger("arq.worker")
    arq.setLevel(logging.DEBUG)
    try:
        arq.info(STARTED, 0.01, "cron:outbox_sweep", "", "")
        arq.info(SUCCEEDED, 0.0, "cron:outbox_sweep", "")
    finally:
        arq.setLevel(logging.NOTSET)
    lines = arq_lines(capsys.readouterr().err)
    assert [(line["event"].strip(), line["level"]) for line in lines] == [
        ("0.01s → cron:outbox_sweep()", "debug"),
        ("0.00s ← cron:outbox_sweep ●", "debug"),
    ]


@pytest.mark.parametrize(
    ("level", "message", "args", "logged_level"),
    [
        (logging.INFO, STARTED, (0.01, "3f2a:ping", "", ""), "info"),
        (logging.INFO, SUCCEEDED, (0.0, "3f2a:ping", "'pong'"), "info"),
        (logging.INFO, RETRYING, (0.5, "cron:outbox_sweep", 5.0), "info"),
        (logging.ERROR, FAILED, (0.5, "cron:outbox_sweep", "RuntimeError", "boom"), "error"),
        (logging.WARNING, MAX_TRIES, (0.5, "cron:outbox_sweep", 5), "warning"),
    ],
    ids=["job-start", "job-success", "cron-retry", "cron-failure", "cron-out-of-tries"],
)
def test_other_arq_lines_keep_their_level(
    level: int, message: str, args: tuple[object, ...], logged_level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(PRODUCTION)
    logging.getLogger("arq.worker").log(level, message, *args)
    [line] = arq_lines(capsys.readouterr().err)
    assert line["event"] == message % args
    assert line["level"] == logged_level
