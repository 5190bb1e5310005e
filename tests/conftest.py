"""Test harness: real PostgreSQL and Redis, a database built by the migrations, one clean slate per test.

With ``DATABASE_URL`` / ``REDIS_URL`` set the tests use those servers (CI: the
machine's); otherwise embedded ones start under ``.rollcall/test-gw0`` (one per pytest-xdist process). Either
way each process runs its tests in a database of its own, created here and dropped at the end, and in a Redis
database of its own (13, 14, …), flushed after every test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import coverage
import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.asgi import create_app
from app.config import Settings
from app.core.db import alchemy_config, alembic_commands
from app.dev.embedded import backing_services, redis_database
from app.dev.mail_sink import MailSink
from app.notify.delivery import Notifier
from app.tenants.models import TenantKind
from app.tenants.services import TenantService
from tests.outbox.conftest import Kit, kit  # noqa: F401  (the database helpers, for every test)
from tests.tokens import SigningKeys

REPO = Path(__file__).resolve().parents[1]
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
"""This test process's name under pytest-xdist (``gw0``, ``gw1``, …; ``gw0`` when run alone)."""
WORKER_INDEX = int(WORKER.removeprefix("gw") or 0)
"""This test process's number under pytest-xdist (0 when run alone)."""
TEST_REDIS_DB = int(os.environ.get("ROLLCALL_TEST_REDIS_DB", "13")) + WORKER_INDEX
"""Redis database this test process owns and flushes: 13 for the first (``make test`` runs two, 13 and 14); set
ROLLCALL_TEST_REDIS_DB to run two suites side by side. Each process also has its own database (``database_url``)."""
ISSUER = "https://id.rollcall.test/realms/rollcall"
AUDIENCE = "rollcall-api"


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[str, str]]:
    """Server URLs: the environment's, or embedded ones started for this run."""
    with backing_services(
        REPO / ".rollcall" / f"test-{WORKER}",
        database_url=os.environ.get("DATABASE_URL") or None,
        redis_url=os.environ.get("REDIS_URL") or None,
        database="postgres",
    ) as services:
        yield services.database_url, services.redis_url


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin_execute(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server_url: str, name: str) -> str:
    """Create an empty database on the server; return its SQLAlchemy URL."""
    await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)


async def drop_database(server_url: str, name: str) -> None:
    await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def migrated_database(servers: tuple[str, str], prefix: str) -> AsyncIterator[str]:
    """A new database built by running every migration; dropped on exit."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    url = await create_database(servers[0], name)
    settings = Settings.from_env({**base_env(url, servers[1]), "DB_POOL_SIZE": "0"}).database
    # Alembic's env runs its own event loop, so it runs in a thread here.
    await asyncio.to_thread(lambda: alembic_commands(settings).upgrade())
    try:
        yield url
    finally:
        await drop_database(servers[0], name)


@pytest.fixture(scope="session")
async def database_url(servers: tuple[str, str]) -> AsyncIterator[str]:
    """A database of this test run, built by running every migration."""
    async with migrated_database(servers, "rollcall_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(servers: tuple[str, str]) -> str:
    """The servers' Redis, database 13: the tests may empty it at will."""
    return redis_database(servers[1], TEST_REDIS_DB)


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> SigningKeys:
    return SigningKeys.generate(tmp_path_factory.mktemp("keys") / "jwks.json", issuer=ISSUER, audience=AUDIENCE)


def base_env(database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """A production environment for tests; ``overrides`` replace or add variables."""
    env = {
        "ROLLCALL_ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": "https://rollcall.test",
        "AUTH_ISSUER": ISSUER,
        "AUTH_AUDIENCE": AUDIENCE,
        "AUTH_JWKS_FILE": "/nonexistent/jwks.json",
        "DB_POOL_SIZE": "0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(database_url: str, redis_url: str, signing_keys: SigningKeys, tmp_path: Path) -> dict[str, str]:
    return base_env(
        database_url,
        redis_url,
        AUTH_JWKS_FILE=str(signing_keys.jwks_path),
        DATA_DIR=str(tmp_path / "data"),
        SIGNATURE_STORAGE_URL=f"file://{tmp_path / 'signatures'}",
    )


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The app of ``settings``, built with coverage paused: under coverage's tracer (branches, greenlets) building
    it takes 1.3 to 1.6 s instead of 0.3 s, almost all of it in Litestar's route registration, and nearly every
    test builds one. What the app's own start-up code covers is measured by the tests that call ``create_app``
    themselves (about twenty), and every request a test sends is measured as before."""
    with coverage_paused():
        return create_app(settings)


@contextmanager
def coverage_paused() -> Iterator[None]:
    """Stop coverage's tracer for the block, if a run is measuring; start it again after."""
    measuring = coverage.Coverage.current()
    if measuring is None:
        yield
        return
    measuring.stop()
    try:
        yield
    finally:
        measuring.start()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[AsyncSession]:
    config = alchemy_config(settings.database)
    async with config.get_session() as db_session:
        yield db_session
    await config.get_engine().dispose()


@pytest.fixture
async def tenants(session: AsyncSession) -> None:
    """The two demo tenants and a second club."""
    service = TenantService(session=session)
    await service.ensure_demo_tenants()
    await service.ensure_tenants((("other-club", "Other Club", TenantKind.CLUB),))


@pytest.fixture
def mint(signing_keys: SigningKeys) -> Callable[..., str]:
    return signing_keys.mint


@pytest.fixture
def admin_token(mint: Callable[..., str], tenants: None) -> str:
    return mint(tenant="demo-club", roles=["admin"])


@pytest.fixture
def hall_admin_token(mint: Callable[..., str], tenants: None) -> str:
    return mint(tenant="demo-hall", roles=["admin"])


@pytest.fixture
def admin(admin_token: str) -> dict[str, str]:
    """Request headers of demo-club's admin."""
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture(autouse=True)
def forget_config_keys() -> Iterator[None]:
    """advanced-alchemy gives each config a key not yet in a process-wide registry, probing ``key_1``, ``key_2``,
    … one recursive call per key taken: after ~1,000 apps in one process (one per test) that overflows the
    stack. A server builds one config; each test here starts from an empty registry."""
    yield
    for registry in (
        "_SESSION_SCOPE_KEY_REGISTRY",
        "_ENGINE_APP_STATE_KEY_REGISTRY",
        "_SESSIONMAKER_APP_STATE_KEY_REGISTRY",
    ):
        getattr(SQLAlchemyAsyncConfig, registry).clear()


@pytest.fixture(autouse=True)
async def clean_slate(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test that touched the database or Redis, empty every table and the test Redis db."""
    yield
    names = set(request.fixturenames)
    if "database_url" in names:
        url = request.getfixturevalue("database_url")
        connection = await asyncpg.connect(_asyncpg_dsn(url))
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
            if tables:
                joined = ", ".join(f'"{row["tablename"]}"' for row in tables)
                await connection.execute(f"TRUNCATE {joined} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()
    if "redis_url" in names:
        redis = Redis.from_url(request.getfixturevalue("redis_url"))
        await redis.flushdb()
        await redis.aclose()


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    """A real SMTP server on loopback that keeps what it receives."""
    with MailSink() as sink:
        yield sink


@pytest.fixture
def mail_settings(env: dict[str, str], mail_sink: MailSink) -> Settings:
    """The test settings with SMTP pointed at ``mail_sink``."""
    return Settings.from_env(
        {
            **env,
            "SMTP_HOST": mail_sink.host,
            "SMTP_PORT": str(mail_sink.port),
            "SMTP_FROM": "Demo Club <club@demo-club.example>",
            "SMTP_TIMEOUT_SECONDS": "5",
        }
    )


@pytest.fixture
def notifier(kit: Kit, mail_settings: Settings) -> Notifier:  # noqa: F811  (the imported fixture)
    """The notifier the kit's relays inject into the email handlers (the club's and the hall's): it sends to
    ``mail_sink``."""
    made = Notifier.from_settings(mail_settings)
    kit.resources["notifier"] = made
    return made
