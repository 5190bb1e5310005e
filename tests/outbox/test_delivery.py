"""Delivery end to end: the after-commit nudge through Redis publish/subscribe, the relay loop, a real worker
process, metrics."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from itertools import pairwise

import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar
from litestar.testing import AsyncTestClient
from msgspec.structs import replace
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import DatabaseSettings, Settings
from app.core.db import alchemy_config
from app.dev.embedded import redis_database
from app.outbox.emit import NUDGE_INTERVAL_SECONDS, Nudger, listen_for_nudges, nudge_channel, nudging
from app.outbox.models import OutboxStatus
from app.outbox.registry import Event, MissingResourceError
from app.outbox.relay import Relay
from tests.outbox.conftest import Kit, Note
from tests.processes import free_port, rollcall_process
from tests.waiting import wait_for
from workers.jobs import outbox_retention


async def emit_and_commit(settings: Settings, kit: Kit, nudger: Nudger, *, commit: bool = True) -> None:
    config = alchemy_config(settings.database, session_info=nudging(nudger))
    async with config.get_session() as session:
        kit.add_note(session, "A")
        if commit:
            await session.commit()
        else:
            await session.rollback()
    await nudger.drain()
    await config.get_engine().dispose()


class NudgeEar:
    """A subscriber on the nudge channel, as a worker is: collects what arrives."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis
        self.pubsub = redis.pubsub(ignore_subscribe_messages=True)
        self.heard: list[float] = []

    async def __aenter__(self) -> NudgeEar:
        await self.pubsub.subscribe(nudge_channel(self.redis))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.pubsub.aclose()

    async def listen(self, seconds: float) -> list[float]:
        """Collect nudges for ``seconds``; return their arrival times."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = await self.pubsub.get_message(timeout=left)
            if message is not None and message["type"] == "message":
                self.heard.append(time.monotonic())
        return self.heard


async def test_a_commit_with_events_publishes_one_nudge_on_the_channel(settings: Settings, kit: Kit) -> None:
    nudger = Nudger()
    nudger.pool = ArqRedis.from_url(settings.redis.url)
    async with NudgeEar(nudger.pool) as ear:
        await emit_and_commit(settings, kit, nudger)
        assert len(await ear.listen(0.3)) == 1
    await nudger.pool.aclose()


async def test_the_nudge_channel_names_the_redis_database(settings: Settings) -> None:
    """Publish/subscribe ignores Redis's databases: two deployments on one server must not share a channel."""
    first = ArqRedis.from_url(redis_database(settings.redis.url, 3))
    second = ArqRedis.from_url(redis_database(settings.redis.url, 4))
    assert nudge_channel(first) == "rollcall:outbox:nudge:3"
    assert nudge_channel(second) == "rollcall:outbox:nudge:4"
    await first.aclose()
    await second.aclose()


class DepartureLog:
    """The real Redis client, noting when each nudge leaves (the Nudger's promise is about departures:
    arrivals are a Redis round trip later, whose length varies)."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis
        self.connection_pool = redis.connection_pool
        self.departures: list[float] = []

    async def publish(self, channel: str, message: bytes) -> object:
        self.departures.append(time.monotonic())
        return await self.redis.publish(channel, message)


async def test_a_stream_of_commits_nudges_at_most_once_an_interval_and_last_after_the_last_commit(
    settings: Settings,
) -> None:
    nudger = Nudger()
    redis = ArqRedis.from_url(settings.redis.url)
    log = DepartureLog(redis)
    nudger.pool = log
    async with NudgeEar(ArqRedis.from_url(settings.redis.url)) as ear:
        started = time.monotonic()
        last_commit = started
        for _ in range(100):  # a commit every millisecond for a tenth of a second
            nudger.schedule()
            last_commit = time.monotonic()
            # The stream's pace, part of what is tested: commits spread over several nudge intervals.
            await asyncio.sleep(0.001)
        elapsed = time.monotonic() - started
        await nudger.drain()
        heard = await ear.listen(0.3)
        await ear.redis.aclose()
    await redis.aclose()
    assert len(heard) == len(log.departures)  # every nudge that left reached a subscriber
    assert 2 <= len(log.departures) <= elapsed / NUDGE_INTERVAL_SECONDS + 2
    gaps = [later - earlier for earlier, later in pairwise(log.departures)]
    assert min(gaps) >= NUDGE_INTERVAL_SECONDS - 0.002
    assert log.departures[-1] >= last_commit


async def test_a_rollback_nudges_nobody(settings: Settings, kit: Kit) -> None:
    nudger = Nudger()
    nudger.pool = ArqRedis.from_url(settings.redis.url)
    async with NudgeEar(nudger.pool) as ear:
        await emit_and_commit(settings, kit, nudger, commit=False)
        assert await ear.listen(0.3) == []
    await nudger.pool.aclose()


async def test_a_listener_wakes_on_each_nudge_and_subscribes_again_after_losing_redis(settings: Settings) -> None:
    name = f"nudge-listener-{secrets.token_hex(4)}"
    redis = ArqRedis.from_url(settings.redis.url, client_name=name)
    wakes: list[float] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(listen_for_nudges(redis, lambda: wakes.append(time.monotonic()), ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=5)
    assert len(wakes) == 1  # subscribing looks once: nudges sent before it were lost
    await redis.publish(nudge_channel(redis), b"")
    await wait_for(lambda: len(wakes) == 2, what="a wake for the nudge")
    # Redis drops the subscriber (as on a restart): the listener subscribes again and looks once more.
    ready.clear()
    clients = await redis.client_list(_type="pubsub")
    (subscriber,) = [client["id"] for client in clients if client["name"] == name]
    await redis.execute_command("CLIENT", "KILL", "ID", subscriber)
    await asyncio.wait_for(ready.wait(), timeout=5)
    await wait_for(lambda: len(wakes) == 3, what="a look after subscribing again")
    await redis.publish(nudge_channel(redis), b"")
    await wait_for(lambda: len(wakes) == 4, what="a wake for the nudge after subscribing again")
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)
    await redis.aclose()


async def test_a_failed_nudge_is_logged_and_the_commit_stands(
    settings: Settings, kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    nudger = Nudger()
    nudger.pool = ArqRedis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    await emit_and_commit(settings, kit, nudger)
    assert len(await kit.sql("SELECT id FROM outbox_events")) == 1
    captured = capsys.readouterr()
    assert "outbox_nudge_failed" in captured.out + captured.err
    await nudger.pool.aclose()


async def test_the_relay_delivers_on_a_wake_and_on_its_own_sweep(kit: Kit) -> None:
    delivered: list[str] = []

    @kit.registry.handler("test.note", name="collect")
    async def collect(event: Event[Note]) -> None:
        delivered.append(event.payload.text)

    relay = kit.relay(sweep_seconds=0.2)
    relay.start()
    await kit.emit("A", text="woken")
    relay.wake()
    await wait_for(lambda: delivered == ["woken"], what="the woken event")
    await kit.emit("B", text="swept")  # no wake: the sweep finds it
    await wait_for(lambda: delivered == ["woken", "swept"], what="the swept event")
    await relay.stop()


async def test_handlers_receive_the_resources_they_name_from_their_relay(kit: Kit) -> None:
    seen: list[tuple[str, object]] = []

    @kit.registry.handler("test.note", name="bulk")
    async def bulk(event: Event[Note], ledger: list[str]) -> None:
        ledger.append(f"bulk {event.payload.text}")
        seen.append(("bulk", ledger))

    @kit.registry.handler("test.note", name="transactional")
    async def transactional(event: Event[Note], session: AsyncSession, ledger: list[str], clock: str) -> None:
        ledger.append(f"{clock} {event.payload.text}")
        seen.append(("transactional", await session.scalar(text("SELECT 1"))))

    ledger: list[str] = []
    kit.resources.update(ledger=ledger, clock="tick")
    await kit.emit("A", text="one")
    assert await kit.relay().deliver_batch() == 1
    assert sorted(ledger) == ["bulk one", "tick one"]
    assert sorted(seen, key=str) == [("bulk", ledger), ("transactional", 1)]


async def test_a_relay_missing_a_resource_a_handler_names_refuses_to_start(kit: Kit) -> None:
    @kit.registry.handler("test.note", name="mails")
    async def mails(event: Event[Note], session: AsyncSession, notifier: object) -> None:
        raise AssertionError("never runs")

    with pytest.raises(MissingResourceError, match=r"mails \(notifier\)"):
        kit.relay().start()
    [event_id] = await kit.emit("A")
    await kit.relay(backoff_base_seconds=0).deliver_batch()  # driven by hand: the event fails, nothing is lost
    row = await kit.event(event_id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "MissingResourceError: handler 'mails' needs notifier" in (row.last_error or "")


async def test_the_relay_keeps_running_while_the_database_is_down(
    settings: Settings, kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    """A relay whose database is unreachable logs each failed round and tries again at its sweep; the same
    relay delivers once the database is back (no restart)."""
    delivered: list[str] = []

    @kit.registry.handler("test.note", name="collect")
    async def collect(event: Event[Note]) -> None:
        delivered.append(event.payload.text)

    down = alchemy_config(
        replace(settings.database, url=DatabaseSettings.from_env({"DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}).url)
    )
    down_sessions = down.create_session_maker()
    database = {"up": False, "refused": 0}

    def sessions() -> AsyncSession:
        if database["up"]:
            return kit.session_maker()
        database["refused"] += 1
        return down_sessions()

    relay = Relay(sessions, replace(settings.outbox, sweep_seconds=0.05), handlers=kit.registry)
    relay.start()
    try:
        # Each round asks for a session twice (the claim, then the next lease expiry): several failed rounds.
        await wait_for(lambda: database["refused"] >= 6, what="the relay to try the unreachable database again")
        assert "outbox_relay_error" in "".join(capsys.readouterr())  # logged, not raised: the loop goes on
        await kit.emit("A", text="after the outage")
        database["up"] = True
        await wait_for(lambda: delivered == ["after the outage"], what="the relay to deliver once the database is back")
    finally:
        await relay.stop(grace_seconds=2)
        await down.get_engine().dispose()


async def test_retention_job_deletes_in_batches(kit: Kit, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [(await kit.emit(f"agg-{i}"))[0] for i in range(5)]
    await kit.sql(
        "UPDATE outbox_events SET status = 'delivered', delivered_at = now() - interval '10 days' WHERE id = ANY(:ids)",
        ids=ids[:4],
    )
    monkeypatch.setattr("workers.jobs.RETENTION_BATCH", 3)
    assert await outbox_retention({"relay": kit.relay(retention_days=7)}) == 4
    assert [row.id for row in await kit.sql("SELECT id FROM outbox_events")] == [ids[4]]


@pytest.mark.usefixtures("tenants")
async def test_a_worker_process_delivers_an_admin_ping(
    env: dict[str, str], client: AsyncTestClient[Litestar], mint: Callable[..., str], kit: Kit
) -> None:
    port = free_port()
    with rollcall_process("worker", env={**env, "WORKER_METRICS_PORT": str(port)}):
        response = await client.post(
            "/api/v1/admin/outbox/ping", headers={"Authorization": f"Bearer {mint(roles=['admin'])}"}
        )
        assert response.status_code == 202
        event_id = response.json()["event_id"]

        async def delivered() -> bool:
            rows = await kit.sql("SELECT status FROM outbox_events WHERE id = :id", id=event_id)
            return bool(rows) and rows[0].status == OutboxStatus.DELIVERED.value

        await wait_for(delivered, what="the worker process to deliver the ping")
        assert await kit.deliveries(event_id) == {"noop": ("done", None)}
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'rollcall_outbox_delivered_total{event_type="system.ping"} 1.0' in text
        assert "rollcall_outbox_handler_duration_seconds_bucket" in text


@pytest.mark.usefixtures("tenants")
async def test_metrics_show_the_outbox_and_http_requests(
    client: AsyncTestClient[Litestar], kit: Kit, mint: Callable[..., str]
) -> None:
    await kit.emit("A", count=2)
    await client.get("/health/live")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "rollcall_outbox_pending_events 2.0" in text
    assert "rollcall_outbox_dead_events 0.0" in text
    assert "rollcall_outbox_oldest_pending_age_seconds" in text
    assert 'path="/health/live"' in text
    assert "rollcall_request_duration_seconds_bucket" in text


async def test_metrics_can_require_a_token(env: dict[str, str]) -> None:
    from app.asgi import create_app

    app = create_app(Settings.from_env({**env, "METRICS_TOKEN": "s3cret-scrape"}))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})).status_code == 200


async def test_a_burst_of_commits_coalesces_into_few_nudges(settings: Settings, kit: Kit) -> None:
    nudger = Nudger()
    nudger.pool = ArqRedis.from_url(settings.redis.url)
    config = alchemy_config(settings.database, session_info=nudging(nudger))

    async def commit_one(n: int) -> None:
        async with config.get_session() as session:
            kit.add_note(session, f"burst-{n}")
            await session.commit()

    async with NudgeEar(nudger.pool) as ear:
        await asyncio.gather(*(commit_one(n) for n in range(20)))
        await nudger.drain()
        assert 1 <= len(await ear.listen(0.3)) < 20
    assert len(await kit.sql("SELECT id FROM outbox_events")) == 20
    await nudger.pool.aclose()
    await config.get_engine().dispose()
