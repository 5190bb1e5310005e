"""The arq worker built from settings: it connects, runs its jobs and its lifecycle hooks."""

from __future__ import annotations

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import create_worker

from app.config import Settings
from workers import worker_settings


async def test_a_worker_runs_the_ping_job(settings: Settings) -> None:
    settings_cls = worker_settings(settings)
    pool = await create_pool(RedisSettings.from_dsn(settings.redis.url))
    job = await pool.enqueue_job("ping")
    assert job is not None
    # Burst mode ends when the queue is empty; the every-second sweep cron would keep it busy.
    worker = create_worker(settings_cls, burst=True, poll_delay=0.05, handle_signals=False, cron_jobs=[])
    try:
        await worker.main()
        assert worker.jobs_complete == 1
        assert worker.jobs_failed == 0
        assert (await job.result(timeout=5)).startswith("pong from ")
        assert "session_maker" in worker.ctx
    finally:
        await worker.close()
        await pool.aclose()


def test_worker_settings_point_at_the_configured_redis(settings: Settings) -> None:
    settings_cls = worker_settings(settings)
    assert settings_cls.redis_settings == RedisSettings.from_dsn(settings.redis.url)  # type: ignore[attr-defined]
    functions = {getattr(f, "name", getattr(f, "__name__", None)) for f in settings_cls.functions}  # type: ignore[attr-defined]
    assert functions == {"ping", "outbox_nudge", "outbox_retention"}
    crons = {job.name for job in settings_cls.cron_jobs}  # type: ignore[attr-defined]
    assert crons == {"cron:outbox_sweep", "cron:outbox_retention", "cron:hall_daily"}
    assert settings_cls.poll_delay == settings.outbox.poll_seconds  # type: ignore[attr-defined]
