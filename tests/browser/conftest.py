"""Browser tests: Debian's Chromium driven by Playwright against a real ``rollcall serve`` + ``rollcall worker`` on
PostgreSQL and Redis, with a real SMTP server (aiosmtpd) on loopback.

Without Chromium (or Playwright's driver) every test here is skipped with the reason and the install command;
``.ci/run`` installs Chromium when it is missing, so CI always runs them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from redis import Redis

from app.dev.embedded import redis_database
from app.dev.mail_sink import MailSink
from tests.conftest import TEST_REDIS_DB, WORKER_INDEX, base_env, migrated_database
from tests.processes import free_port, rollcall, rollcall_process, wait_until_ready
from tests.tokens import SigningKeys

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
"""Screenshots the tests take (kept after the run, ignored by git)."""
AXE_PROJECT = Path(__file__).parent / "axe"
AXE_SCRIPT = AXE_PROJECT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 375, "height": 812}
BROWSER_REDIS_DB = TEST_REDIS_DB - 2 - 2 * WORKER_INDEX
"""The shared stack's Redis database (the suite's own is flushed after each test): 11 alone; under pytest-xdist
11 for the first process and 10 for the second (12 is the benchmarks', 13 and 14 the processes' own)."""

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover  (playwright is a dev dependency)
    async_playwright = None

if async_playwright is None or not CHROMIUM.exists():
    pytest.skip(
        f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` (Debian/Ubuntu) "
        "or set CHROMIUM_PATH; Playwright's own download is not needed",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A phone-sized page (375 x 812, touch), as most parents will open the link."""
    context = await browser.new_context(viewport=PHONE, has_touch=True, device_scale_factor=2)
    opened = await context.new_page()
    yield opened
    await context.close()


@dataclass(frozen=True)
class Stack:
    base_url: str
    demo_link: str
    env: dict[str, str]
    mail: MailSink

    def admin(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base_url}/api/v1/admin", headers={"Authorization": f"Bearer {token}"})


def start_stack(env: dict[str, str], tmp_path: Path, **overrides: str) -> Iterator[Stack]:
    with ExitStack() as running:
        mail = running.enter_context(MailSink())
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        stack_env = {
            **env,
            "SMTP_HOST": mail.host,
            "SMTP_PORT": str(mail.port),
            "SMTP_FROM": "Demo Youth Soccer Club <hello@demo-club.example>",
            "WORKER_METRICS_PORT": "0",
            "PUBLIC_BASE_URL": base_url,
            **overrides,
        }
        loaded = rollcall("demo-data", env=stack_env)
        assert loaded.returncode == 0, loaded.stderr
        token = re.search(r"open signing link token: (\S+)", loaded.stdout)
        assert token is not None, loaded.stdout
        api = running.enter_context(
            rollcall_process(
                "serve", "--host", "127.0.0.1", "--port", str(port), env=stack_env, log=tmp_path / "api.log"
            )
        )
        running.enter_context(rollcall_process("worker", env=stack_env, log=tmp_path / "worker.log"))
        wait_until_ready(base_url, api)
        yield Stack(base_url=base_url, demo_link=f"{base_url}/sign/{token[1]}", env=stack_env, mail=mail)


@pytest.fixture(scope="session")
async def browser_database(servers: tuple[str, str]) -> AsyncIterator[str]:
    """The browser tests' own database: the shared stack keeps its data across tests (no truncation)."""
    async with migrated_database(servers, "rollcall_browser") as url:
        yield url


@pytest.fixture(scope="session")
def stack(
    browser_database: str, servers: tuple[str, str], signing_keys: SigningKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One API and worker for the browser tests, as an operator runs them, with the demo club loaded."""
    root = tmp_path_factory.mktemp("browser-stack")
    redis_url = redis_database(servers[1], BROWSER_REDIS_DB)
    Redis.from_url(redis_url).flushdb()
    env = base_env(
        browser_database,
        redis_url,
        AUTH_JWKS_FILE=str(signing_keys.jwks_path),
        DATA_DIR=str(root / "data"),
        SIGNATURE_STORAGE_URL=f"file://{root / 'signatures'}",
    )
    yield from start_stack(env, root)


@dataclass(frozen=True)
class Offer:
    """A new player of the demo club (Dana Okafor's child, on U12 Kings Elite) with an open offer."""

    link: str
    player_id: str
    player_name: str


@pytest.fixture
def offer(stack: Stack, mint: Callable[..., str]) -> Offer:
    """A fresh signing link for this test; the shared stack's rate limit starts over."""
    redis = Redis.from_url(stack.env["REDIS_URL"])
    for key in redis.scan_iter("rollcall:ratelimit:*"):
        redis.delete(key)
    name = f"Avery {secrets.token_hex(3)}"
    with stack.admin(mint(tenant="demo-club", roles=["admin"])) as admin:
        [kings] = admin.get("/teams", params={"season": "2026-27", "tier": "elite"}).json()["items"]
        [dana] = admin.get("/parents", params={"email": "dana.okafor@example.org"}).json()["items"]
        player = admin.post("/players", json={"name": name, "team_ids": [kings["id"]], "parent_id": dana["id"]})
        assert player.status_code == 201, player.text
        offered = admin.post("/contracts/offer", json={"player_id": player.json()["id"], "monthly_fee": 12500})
        assert offered.status_code == 200, offered.text
    return Offer(link=offered.json()["contract_url"], player_id=player.json()["id"], player_name=name)


@pytest.fixture
def screenshot() -> Callable[[str], Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    return lambda name: ARTIFACTS / f"{name}.png"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from npm (tests/browser/axe/package-lock.json), installed on first use."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (axe-core comes from the npm registry): install Node.js")
    lock = hashlib.sha256((AXE_PROJECT / "package-lock.json").read_bytes()).hexdigest()
    stamp = AXE_PROJECT / "node_modules" / ".rollcall-lock.sha256"
    # Under pytest-xdist each process asks: one installs while the others wait (two `npm ci` at once in one
    # directory fail with ENOTEMPTY). The lock is on the package lock file itself, which npm never replaces.
    with (AXE_PROJECT / "package-lock.json").open("rb") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (stamp.exists() and stamp.read_text() == lock and AXE_SCRIPT.exists()):
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=AXE_PROJECT,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            stamp.write_text(lock)
        return AXE_SCRIPT.read_text()
