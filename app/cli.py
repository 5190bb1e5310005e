"""The ``rollcall`` command: run the API and workers, migrate, mint dev tokens, manage tenants."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import click
from msgspec.structs import replace
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import AuthSettings, DatabaseSettings, ServerSettings, Settings, SettingsError
from app.config import RedisSettings as AppRedisSettings

T = TypeVar("T")

__all__ = ["main"]


def _settings() -> Settings:
    return _read(Settings.from_env)


def _database() -> DatabaseSettings:
    return _read(DatabaseSettings.from_env)


def _read(reader: Callable[[], T]) -> T:
    try:
        return reader()
    except SettingsError as error:
        raise click.ClickException(f"invalid setting {error}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """rollcall: operations backend for youth sports clubs and union hiring halls."""


@main.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")
@click.option("--port", type=int, default=None, help="Port (default: $PORT, else 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
def serve(host: str, port: int | None, workers: int) -> None:
    """Run the API with production settings (what the container's `api` command runs)."""
    import uvicorn

    settings = _settings()
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several processes: /metrics must add up all of them (prometheus_client's multiprocess mode).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rollcall-metrics-")
    uvicorn.run(
        "app.asgi:create_app",
        factory=True,
        host=host,
        port=port or settings.server.port,
        workers=workers,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=20,
    )


@main.command("worker")
def worker() -> None:
    """Run one arq worker (same as `arq workers.WorkerSettings`)."""
    _settings()
    from arq.worker import run_worker

    from workers import WorkerSettings

    run_worker(WorkerSettings)


@main.command("dev")
@click.option("--port", type=int, default=None, help="API port (default: $PORT, else 8000).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Default: $DATA_DIR or .rollcall")
def dev_command(port: int | None, data_dir: Path | None) -> None:
    """Run everything locally: embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set."""
    from app.dev.runner import run_dev

    server = _read(lambda: ServerSettings.from_env(is_dev=True))
    sys.exit(run_dev(port=port or server.port, data_dir=data_dir or server.data_dir))


@main.command("dev-token")
@click.option("--tenant", required=True, help="Tenant slug, e.g. demo-club.")
@click.option("--role", "roles", multiple=True, help="Realm role; repeat for several (admin, dispatcher).")
@click.option("--sub", default="dev-user", show_default=True, help="Subject (user id).")
@click.option("--email", default="dev@rollcall.localhost", show_default=True, help="Email claim; '' for none.")
@click.option("--ttl", type=click.IntRange(1, 30 * 86400), default=8 * 3600, show_default=True, help="Seconds.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Default: $DATA_DIR or .rollcall")
def dev_token(tenant: str, roles: tuple[str, ...], sub: str, email: str, ttl: int, data_dir: Path | None) -> None:
    """Print a token the dev server accepts (last line of output)."""
    from app.dev.keys import ensure_dev_key

    directory = data_dir or _read(lambda: ServerSettings.from_env(is_dev=True)).data_dir
    # The claims the dev server checks: AUTH_TENANT_CLAIM and AUTH_AUDIENCE apply to dev tokens too.
    auth = _read(lambda: AuthSettings.from_env(is_dev=True, data_dir=directory))
    key = ensure_dev_key(directory)
    token = key.mint(
        tenant=tenant,
        roles=list(roles),
        sub=sub,
        email=email or None,
        ttl_seconds=ttl,
        tenant_claim=auth.tenant_claim,
        audience=auth.audience,
    )
    click.echo(
        f"# tenant={tenant} roles={','.join(roles) or '-'} sub={sub} expires in {ttl}s; "
        "send as 'Authorization: Bearer <token>'",
        err=True,
    )
    click.echo(token)


@main.group()
def db() -> None:
    """Schema migrations (Alembic); the schema is created only by these."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def db_upgrade(revision: str, sql: bool) -> None:
    """Apply migrations up to REVISION."""
    from app.core.db import alembic_commands

    alembic_commands(_database()).upgrade(revision=revision, sql=sql)


@db.command("downgrade")
@click.option("--revision", default="-1", show_default=True, help="Target revision; 'base' removes everything.")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def db_downgrade(revision: str, sql: bool) -> None:
    """Undo migrations down to REVISION."""
    from app.core.db import alembic_commands

    alembic_commands(_database()).downgrade(revision=revision, sql=sql)


@db.command("current")
def db_current() -> None:
    """Show the database's revision."""
    from app.core.db import alembic_commands

    alembic_commands(_database()).current(verbose=True)


@db.command("history")
def db_history() -> None:
    """List the migrations."""
    from app.core.db import alembic_commands

    alembic_commands(_database()).history(verbose=False)


@db.command("check")
def db_check() -> None:
    """Fail when the models differ from the migrated schema (a migration is missing)."""
    from app.core.db import alembic_commands

    alembic_commands(_database()).check()


@main.group()
def tenants() -> None:
    """Create and list tenants."""


@tenants.command("create")
@click.option("--slug", required=True, help="Lower-case letters, digits, dashes (the token's tenant claim).")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["club", "hall"]), required=True)
def tenants_create(slug: str, name: str, kind: str) -> None:
    """Create a tenant (nothing changes if the slug exists)."""
    from app.tenants.models import TenantKind
    from app.tenants.services import TenantService

    async def create() -> None:
        async with _session() as session:
            await TenantService(session=session).ensure_tenants(((slug, name, TenantKind(kind)),))

    asyncio.run(create())
    click.echo(f"tenant {slug} ready")


@tenants.command("list")
def tenants_list() -> None:
    """List every tenant."""
    from app.tenants.services import TenantService

    async def listing() -> None:
        async with _session() as session:
            for tenant in await TenantService(session=session).get_many(order_by=("slug", False)):
                click.echo(f"{tenant.slug}\t{tenant.kind.value}\t{tenant.name}\t{tenant.id}")

    asyncio.run(listing())


@main.command("demo-data")
def demo_data() -> None:
    """Load the demo tenants, the demo club's roster with one open offer and the demo hall's books; safe to run
    again."""
    from app.club.demo import load_demo_data
    from app.hall.demo import load_hall_demo

    async def load() -> str | None:
        async with _session() as session:
            token = await load_demo_data(session)
            await load_hall_demo(session)
            return token

    token = asyncio.run(load())
    click.echo("demo data ready" + (f"; open signing link token: {token}" if token else ""))


@asynccontextmanager
async def _session() -> AsyncIterator[AsyncSession]:
    """A session on a throw-away engine, for one CLI command."""
    from app.core.db import alchemy_config

    config = alchemy_config(replace(_database(), pool_size=0))
    try:
        async with config.get_session() as session:
            yield session
    finally:
        await config.get_engine().dispose()


@main.command("worker-ping")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for an answer.")
def worker_ping(timeout: float) -> None:
    """Enqueue a ping job and wait for a worker to answer it (is any worker consuming?)."""
    from arq import create_pool
    from arq.connections import RedisSettings

    async def round_trip() -> str:
        pool = await create_pool(RedisSettings.from_dsn(_read(AppRedisSettings.from_env).url))
        try:
            job = await pool.enqueue_job("ping")
            if job is None:
                raise click.ClickException("could not enqueue the ping job")
            answer: str = await job.result(timeout=timeout)
            return answer
        finally:
            await pool.aclose()

    try:
        click.echo(asyncio.run(round_trip()))
    except TimeoutError:
        raise click.ClickException(f"no worker answered within {timeout:g}s") from None


# The container image's commands: `api`, `worker`, `migrate` (see Containerfile).
main.add_command(serve, name="api")
main.add_command(db_upgrade, name="migrate")


# --- hall: the hiring hall's fairness record ---


@main.group()
def hall() -> None:
    """The hiring hall's books."""


@hall.command("verify")
@click.option("--tenant", "tenant_slug", required=True, metavar="SLUG", help="The hall's tenant slug.")
def hall_verify(tenant_slug: str) -> None:
    """Replay every book's trace from the start and check each place and each dispatch against the rules.

    Lists any dispatch that passed over an eligible registrant without a recorded reason, and any position
    change with no rule behind it; exits 1 if there is one, 0 when the hall's history is clean.
    """
    import time

    from sqlalchemy import select

    from app.hall.dispatch.fairness import VerifyReport, verify
    from app.tenants.models import Tenant, TenantKind

    async def run() -> VerifyReport:
        async with _session() as session:
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
            if tenant is None or tenant.kind != TenantKind.HALL:
                raise click.ClickException(f"no hall tenant {tenant_slug!r}")
            return await verify(session, tenant.id)

    started = time.perf_counter()
    report = asyncio.run(run())
    elapsed = time.perf_counter() - started
    for finding in report.findings:
        click.echo(str(finding))
    summary = (
        f"{tenant_slug}: {report.books} books, {report.activities} trace rows, {report.dispatches} dispatches "
        f"replayed in {elapsed:.2f}s: "
    )
    if report.clean:
        click.echo(summary + "clean")
        return
    click.echo(summary + f"{len(report.findings)} findings", err=True)
    sys.exit(1)


# --- groupme: keep each team's GroupMe group in step with the roster (rules in app.club.groupme) ---


@main.group()
def groupme() -> None:
    """The club's GroupMe groups, one per team."""


@groupme.command("reconcile")
@click.option("--tenant", "tenant_slug", required=True, metavar="SLUG", help="The club's tenant slug.")
@click.option("--dry-run", is_flag=True, help="Show the plan; call no GroupMe write endpoint, write nothing.")
def groupme_reconcile(tenant_slug: str, dry_run: bool) -> None:
    """Match the account's groups to the club's teams by name, create missing ones, add the staff members.

    Stores each team's group id and share URL; running it again changes nothing.
    """
    import logging

    from app.club.groupme import GroupMeReconciler, ReconcileError, ReconcileReport, club_access_token
    from app.core.logging import configure_logging
    from app.notify.groupme import GroupMeClient, GroupMeError

    settings = _settings()
    # Retries are logged (warnings, to stderr); the table goes to stdout. Info lines would only be noise here.
    level = max(logging.getLevelName(settings.log.level), logging.WARNING)
    configure_logging(replace(settings.log, level=logging.getLevelName(level)))

    async def reconcile() -> ReconcileReport:
        async with _session() as session:
            # The club's own GroupMe account when it has one, else the shared account.
            own_token = await club_access_token(session, tenant_slug)
            async with GroupMeClient.from_settings(settings.groupme, access_token=own_token) as client:
                reconciler = GroupMeReconciler(session, client, settings.groupme.staff_user_ids)
                return await reconciler.reconcile(tenant_slug, dry_run=dry_run)

    try:
        report = asyncio.run(reconcile())
    except (ReconcileError, GroupMeError) as error:
        raise click.ClickException(str(error)) from None
    for line in (*report.table(), report.summary()):
        click.echo(line)
