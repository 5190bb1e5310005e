"""The parent's signing link: view, sign, decline; the signature checks; concurrency; rate limit; client IP."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from asyncpg.transaction import Transaction
from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.testing import AsyncTestClient
from msgspec.structs import replace
from sqlalchemy.engine import make_url

from app.asgi import create_app
from app.club.contracts import ContractSigner, Signature
from app.club.events import ContractSigned
from app.club.signatures import decode_signature
from app.config import Settings
from app.core.client_ip import client_ip
from app.core.db import alchemy_config
from tests.club.conftest import ClubAdmin
from tests.club.pngs import b64, bomb, png
from tests.outbox.conftest import Kit
from tests.pg_proxy import HoldingProxy
from tests.waiting import wait_for

Client = AsyncTestClient[Litestar]
LINKS = "/api/v1/contracts"

pytestmark = pytest.mark.usefixtures("tenants")


async def offered(club: ClubAdmin, kit: Kit, team_name: str = "U12 Kings Elite", **player: Any) -> tuple[str, str]:
    """A player with an open offer: (player id, token)."""
    team = await club.team(team_name)
    made = await club.player(team_ids=[team["id"]], **player)
    await club.call("POST", "/contracts/offer", {"player_id": made["id"], "monthly_fee": 12500}, 200)
    token = (await kit.sql("SELECT contract_token FROM players WHERE id = :id", id=made["id"]))[0].contract_token
    return made["id"], token


def signing(**changes: Any) -> dict[str, Any]:
    body = {"signed_by": "Dana Rivera", "signature_png": b64(png()), "contract_version": "2026-1", "accept_terms": True}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def storage_root(env: dict[str, str]) -> Path:
    return Path(env["SIGNATURE_STORAGE_URL"].removeprefix("file://"))


def stored_files(env: dict[str, str]) -> list[Path]:
    root = storage_root(env)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def asyncpg_dsn(env: dict[str, str]) -> str:
    return make_url(env["DATABASE_URL"]).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def row_locked(env: dict[str, str], player_id: str) -> AsyncIterator[Transaction]:
    """The player row locked by another transaction (as by a concurrent writer) until the block ends or the
    transaction is committed."""
    connection: asyncpg.Connection[Any] = await asyncpg.connect(asyncpg_dsn(env))
    transaction = connection.transaction()
    try:
        await transaction.start()
        await connection.execute("SELECT 1 FROM players WHERE id = $1 FOR UPDATE", player_id)
        yield transaction
    finally:
        await connection.close()


async def sign_waits_for_the_lock(kit: Kit) -> None:
    """Until the sign statement is in the server, waiting for the row lock."""
    await wait_for(lambda: kit.someone_waits_for_a_lock("%WITH target AS%"))


async def test_the_link_shows_what_is_signed(client: Client, club: ClubAdmin, kit: Kit) -> None:
    _, token = await offered(club, kit, name="Sam Rivera")
    response = await client.get(f"{LINKS}/{token}")
    assert response.status_code == 200
    assert response.json() == {
        "club": {"name": "Demo Youth Soccer Club", "brand_color": None, "logo_url": None},
        "player_name": "Sam Rivera",
        "teams": [{"name": "U12 Kings Elite", "season": "2026-27"}],
        "season": "2026-27",
        "monthly_fee": 12500,
        "contract_version": "2026-1",
        "status": "offered",
    }


async def test_unknown_and_superseded_links_are_the_same_404(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    player_id, token = await offered(club, kit)
    await club.call("POST", "/contracts/offer?force=true", {"player_id": player_id, "monthly_fee": 100}, 200)
    superseded = await client.get(f"{LINKS}/{token}")
    unknown = await client.get(f"{LINKS}/never-issued")
    assert superseded.status_code == unknown.status_code == 404
    assert superseded.json()["detail"] == unknown.json()["detail"] == "no contract at this link"
    assert superseded.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    signed = await client.post(f"{LINKS}/{token}/sign", json=signing())
    assert signed.status_code == 404
    assert signed.json()["type"] == "urn:rollcall:problem:not-found"
    assert stored_files(env) == []  # the refused sign's signature file is gone again


async def test_signing_records_everything_in_one_go(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    player_id, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=signing())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "signed"
    row = (await kit.sql("SELECT * FROM players WHERE id = :id", id=player_id))[0]
    assert (row.contract_status, row.contract_signed_by, row.contract_version) == ("signed", "Dana Rivera", "2026-1")
    assert row.contract_signed_at is not None
    assert row.contract_signed_ip == "testclient"
    [stored] = stored_files(env)
    assert stored.read_bytes() == png()
    assert str(stored).endswith(row.contract_signature)
    latest = (await club.call("GET", f"/players/{player_id}/contract-audit"))[0]
    assert (latest["event_type"], latest["source"], latest["actor"]) == ("signed", "public_link", "Dana Rivera")
    assert latest["old_state"]["status"] == "offered"
    event = (await kit.sql("SELECT * FROM outbox_events WHERE event_type = 'contract.signed'"))[0]
    assert event.aggregate_id == player_id
    assert set(event.payload) == {"player_id", "player_name", "team_id", "parent_id", "tenant_id"}
    assert event.payload["parent_id"] is None
    # The statement builds the payload in SQL; it must decode as the registered type, as the workers will.
    payload = msgspec.convert(event.payload, ContractSigned)
    assert (str(payload.player_id), payload.player_name) == (player_id, "Sam Rivera")
    assert payload.team_id is not None


async def test_signing_twice_is_409(client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]) -> None:
    _, token = await offered(club, kit)
    assert (await client.post(f"{LINKS}/{token}/sign", json=signing())).status_code == 200
    again = await client.post(f"{LINKS}/{token}/sign", json=signing())
    assert again.status_code == 409
    assert again.json()["detail"] == "this contract is signed; it can no longer be signed"
    assert len(stored_files(env)) == 1  # the second signature was not kept


async def test_concurrent_signs_one_wins_one_409(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    player_id, token = await offered(club, kit)
    responses = await asyncio.gather(*(client.post(f"{LINKS}/{token}/sign", json=signing()) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert len(stored_files(env)) == 1
    signed = await kit.sql(
        "SELECT id FROM contract_audit_log WHERE event_type = 'signed' AND player_id = :id", id=player_id
    )
    assert len(signed) == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (signing(signature_png=None), "signature_png is required"),
        (signing(signature_png=b64(b"GIF89a not a png at all")), "is not a PNG image"),
        (signing(signature_png="***not base64***"), "is not valid base64"),
        (signing(signature_png=b64(png(bad_crc=True))), "bad checksum"),
        (signing(signature_png=b64(png(truncate=10))), "is not a complete PNG"),
        (signing(signature_png=b64(png(pad=600 * 1024))), "larger than 512 KiB"),
        (signing(accept_terms=False), "accept_terms must be true"),
        (signing(contract_version="2019-9"), "this link offers contract version 2026-1"),
    ],
    ids=["missing", "not-png", "not-base64", "bad-crc", "truncated", "oversized", "terms", "version"],
)
async def test_a_bad_signature_is_422_and_nothing_is_stored(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str], body: dict[str, Any], detail: str
) -> None:
    player_id, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=body)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert stored_files(env) == []
    row = (await kit.sql("SELECT contract_status, contract_signature FROM players WHERE id = :id", id=player_id))[0]
    assert (row.contract_status, row.contract_signature) == ("offered", None)


@pytest.mark.parametrize(
    ("image", "detail"),
    [
        (bomb(8000, 4000), "at most 2000x1000 pixels"),  # 124 KB that inflate to 128 MB
        (bomb(2001, 10), "at most 2000x1000 pixels"),
        (bomb(10, 1001), "at most 2000x1000 pixels"),
        (png(depth=16), "8 bits a sample"),
        (png(depth=4, colour=3, data=b"\x00" * 12 * 21), "8 bits a sample"),
        (png(width=300, height=100, interlace=1, data=b"\x00" * 301 * 100), "the size its header declares"),
        (png(width=300, height=100, data=b"\x00" * 301 * 99), "the size its header declares"),
        (png(data=b""), "the size its header declares"),
    ],
    ids=["bomb", "too-wide", "too-tall", "16-bit", "4-bit-palette", "interlaced-lie", "short", "empty"],
)
async def test_an_image_bigger_than_a_signature_is_422_and_nothing_is_stored(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str], image: bytes, detail: str
) -> None:
    player_id, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=signing(signature_png=b64(image)))
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]
    assert stored_files(env) == []
    row = (await kit.sql("SELECT contract_status FROM players WHERE id = :id", id=player_id))[0]
    assert row.contract_status == "offered"


@pytest.mark.parametrize(
    "image",
    [
        png(width=3, height=3, interlace=1),
        png(width=301, height=97, colour=6, interlace=1),
        png(width=9, height=1, colour=4, interlace=1),
        png(width=64, height=20, colour=3),
        png(width=50, height=20, colour=2),
        bomb(2000, 1000),  # the largest a signature may be: 7.6 MB of RGBA, checked on a worker thread
    ],
    ids=["interlaced-3x3", "interlaced-rgba", "interlaced-one-row", "palette", "rgb", "largest"],
)
async def test_every_kind_of_signature_a_pad_draws_is_accepted(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str], image: bytes
) -> None:
    _, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=signing(signature_png=b64(image)))
    assert response.status_code == 200, response.text
    assert [path.read_bytes() for path in stored_files(env)] == [image]


@pytest.mark.parametrize(
    ("image", "on_a_thread"),
    [(png(), False), (bomb(2000, 1000), True)],
    ids=["small-inline", "largest-on-a-thread"],
)
async def test_large_signatures_are_checked_while_the_event_loop_serves_others_and_small_ones_inline(
    image: bytes, on_a_thread: bool
) -> None:
    turns = 0

    async def other_requests() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)  # what is measured: one turn of the event loop each (no time passes)

    others = asyncio.create_task(other_requests())
    await asyncio.sleep(0)  # one loop turn: the other task starts counting before the check does
    before = turns
    checked = await decode_signature(b64(image))
    during = turns - before
    others.cancel()
    assert checked == image
    if on_a_thread:
        assert during > 10  # checked inline, the loop would not have turned at all
    else:
        assert during == 0  # no hop to a thread and back for a small one


async def test_a_body_over_1_mib_is_413_and_nothing_is_stored(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    _, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=signing(signature_png="A" * (1024 * 1024)))
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:rollcall:problem:payload-too-large"
    assert stored_files(env) == []


async def test_the_largest_signature_fits_the_body_limit(client: Client, club: ClubAdmin, kit: Kit) -> None:
    _, token = await offered(club, kit)
    largest = png(pad=512 * 1024 - len(png(pad=1)) + 1)
    assert len(largest) == 512 * 1024
    response = await client.post(
        f"{LINKS}/{token}/sign", json=signing(signature_png=f"data:image/png;base64,{b64(largest)}")
    )
    assert response.status_code == 200, response.text


async def test_an_unknown_or_declined_link_never_touches_storage(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    _, token = await offered(club, kit)
    assert (await client.post(f"{LINKS}/{token}/decline")).status_code == 200
    root = storage_root(env)
    shutil.rmtree(root)
    root.write_bytes(b"")  # a file where the directory was: any write to the storage would fail
    unknown = await client.post(f"{LINKS}/never-issued/sign", json=signing())
    declined = await client.post(f"{LINKS}/{token}/sign", json=signing())
    assert (unknown.status_code, declined.status_code) == (404, 409), unknown.text + declined.text


async def test_a_sign_cancelled_after_its_commit_keeps_the_signature_the_row_names(
    club: ClubAdmin, kit: Kit, env: dict[str, str], settings: Settings
) -> None:
    player_id, token = await offered(club, kit)
    signature = Signature(signed_by="Dana Rivera", png=png(), contract_version="2026-1", ip="203.0.113.9")
    async with HoldingProxy.running(env["DATABASE_URL"]) as proxy:
        config = alchemy_config(replace(settings.database, url=proxy.url(env["DATABASE_URL"])))
        try:
            async with row_locked(env, player_id) as lock:
                signing_task = asyncio.create_task(ContractSigner(config.get_engine()).sign(token, signature))
                await sign_waits_for_the_lock(kit)
                proxy.hold()  # the server's answer to the sign statement will not reach the signer
                await lock.commit()

            async def signed_row() -> Any:
                row = (await kit.sql("SELECT * FROM players WHERE id = :id", id=player_id))[0]
                return row if row.contract_status == "signed" else None

            row = await wait_for(signed_row, what="the sign statement to commit on the server")
            assert row.contract_status == "signed"
            signing_task.cancel()
            proxy.release()
            with pytest.raises(asyncio.CancelledError):
                await signing_task
        finally:
            await config.get_engine().dispose()
    [stored] = stored_files(env)
    assert str(stored).endswith(row.contract_signature)
    assert stored.read_bytes() == png()


async def test_a_nul_in_the_name_is_400_and_nothing_is_stored(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    player_id, token = await offered(club, kit)
    response = await client.post(f"{LINKS}/{token}/sign", json=signing(signed_by="Dana\u0000Rivera"))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_files(env) == []
    row = (await kit.sql("SELECT contract_status FROM players WHERE id = :id", id=player_id))[0]
    assert row.contract_status == "offered"


async def test_a_value_the_database_refuses_is_400_on_the_raw_sign_path(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str], settings: Settings
) -> None:
    viewed = await client.get(f"{LINKS}/a%00b")  # through the ORM
    signed = await client.post(f"{LINKS}/a%00b/sign", json=signing())  # asyncpg called directly
    for response in (viewed, signed):
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "urn:rollcall:problem:bad-request"
    _, token = await offered(club, kit)
    signature = Signature(signed_by="Dana\x00Rivera", png=png(), contract_version="2026-1", ip="203.0.113.9")
    engine = alchemy_config(settings.database).get_engine()
    try:
        with pytest.raises(asyncpg.DataError):  # asyncpg's own error, mapped like SQLAlchemy's
            await ContractSigner(engine).sign(token, signature)
    finally:
        await engine.dispose()
    assert stored_files(env) == []  # the server refused the statement, so no row can name the file


async def test_a_statement_timeout_on_the_sign_is_503_with_retry_after_and_nothing_is_kept(
    client: Client, club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    player_id, token = await offered(club, kit)
    database = make_url(env["DATABASE_URL"]).database
    await kit.sql(f'ALTER DATABASE "{database}" SET statement_timeout = 300')
    try:
        async with row_locked(env, player_id):
            response = await client.post(f"{LINKS}/{token}/sign", json=signing())
    finally:
        await kit.sql(f'ALTER DATABASE "{database}" RESET statement_timeout')
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_files(env) == []
    row = (await kit.sql("SELECT contract_status FROM players WHERE id = :id", id=player_id))[0]
    assert row.contract_status == "offered"


async def test_a_sign_that_finds_every_connection_busy_is_503_with_retry_after(
    club: ClubAdmin, kit: Kit, env: dict[str, str]
) -> None:
    busy_id, busy_token = await offered(club, kit)
    _, token = await offered(club, kit, "U14 Kings", name="Alex Rivera")
    app = create_app(Settings.from_env({**env, "DB_POOL_SIZE": "1", "DB_MAX_OVERFLOW": "0"}))
    app.plugins.get(SQLAlchemyPlugin).config[0].engine_config.pool_timeout = 1
    # In this test's event loop (not AsyncTestClient's), so two requests can be in flight while the test waits.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://rollcall.test") as http:
        async with row_locked(env, busy_id):
            busy = asyncio.create_task(http.post(f"{LINKS}/{busy_token}/sign", json=signing()))
            await sign_waits_for_the_lock(kit)  # it holds the only connection
            response = await http.post(f"{LINKS}/{token}/sign", json=signing())
        assert (await busy).status_code == 200
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert len(stored_files(env)) == 1  # the busy sign's


async def test_a_data_url_signature_is_accepted(client: Client, club: ClubAdmin, kit: Kit) -> None:
    _, token = await offered(club, kit)
    body = signing(signature_png=f"data:image/png;base64,{b64(png())}")
    assert (await client.post(f"{LINKS}/{token}/sign", json=body)).status_code == 200


async def test_decline_then_offer_again(client: Client, club: ClubAdmin, kit: Kit) -> None:
    player_id, token = await offered(club, kit)
    declined = await client.post(f"{LINKS}/{token}/decline")
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert (await client.post(f"{LINKS}/{token}/sign", json=signing())).status_code == 409
    assert (await client.post(f"{LINKS}/{token}/decline")).status_code == 409
    event = (await kit.sql("SELECT event_type FROM outbox_events ORDER BY seq DESC LIMIT 1"))[0]
    assert event.event_type == "contract.declined"
    again = await club.call("POST", "/contracts/offer", {"player_id": player_id, "monthly_fee": 9000}, 200)
    assert (again["previous_status"], again["new_status"]) == ("declined", "offered")
    history = [entry["event_type"] for entry in await club.call("GET", f"/players/{player_id}/contract-audit")]
    assert history == ["offer", "declined", "offer"]


async def test_the_public_links_are_rate_limited_per_ip_across_processes(env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "PUBLIC_RATE_LIMIT": "3"})
    first, second = create_app(settings), create_app(settings)  # two API processes share Redis
    async with AsyncTestClient(app=first) as one, AsyncTestClient(app=second) as two:
        statuses = [(await client.get(f"{LINKS}/nope")).status_code for client in (one, two, one)]
        limited = await two.get(f"{LINKS}/nope")
    assert statuses == [404, 404, 404]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 61


async def test_a_zero_limit_turns_the_rate_limit_off(env: dict[str, str]) -> None:
    async with AsyncTestClient(app=create_app(Settings.from_env({**env, "PUBLIC_RATE_LIMIT": "0"}))) as client:
        assert {(await client.get(f"{LINKS}/nope")).status_code for _ in range(5)} == {404}


async def test_tokens_never_reach_the_logs(
    client: Client, club: ClubAdmin, kit: Kit, capsys: pytest.CaptureFixture[str]
) -> None:
    _, token = await offered(club, kit)
    await client.get(f"{LINKS}/{token}")
    await client.post(f"{LINKS}/{token}/sign", json=signing())
    captured = capsys.readouterr()
    assert "/api/v1/contracts/{token}" in captured.err
    assert token not in captured.out + captured.err


def connection(peer: str, forwarded: str | None) -> ASGIConnection[Any, Any, Any, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return ASGIConnection({"type": "http", "client": (peer, 5000), "headers": headers})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", "203.0.113.9", "", "198.51.100.7"),
        ("10.0.0.2", "203.0.113.9", "10.0.0.0/8", "203.0.113.9"),
        ("10.0.0.2", "203.0.113.9, 10.0.0.5", "10.0.0.0/8", "203.0.113.9"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.9", "10.0.0.0/8", "203.0.113.9"),
        ("198.51.100.7", "203.0.113.9", "10.0.0.0/8", "198.51.100.7"),
        ("10.0.0.2", "not-an-ip", "10.0.0.0/8", "10.0.0.2"),
        ("10.0.0.2", None, "10.0.0.0/8", "10.0.0.2"),
    ],
)
def test_the_client_ip_trusts_forwarded_for_only_from_trusted_proxies(
    peer: str, forwarded: str | None, trusted: str, expected: str
) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x@db/x",
            "REDIS_URL": "redis://r",
            "ROLLCALL_ENV": "dev",
            "TRUSTED_PROXIES": trusted,
        }
    )
    assert client_ip(connection(peer, forwarded), settings.server.trusted_proxies) == expected


def test_bad_trusted_proxies_are_named() -> None:
    from app.config import SettingsError

    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"DATABASE_URL": "postgresql://x@db/x", "REDIS_URL": "redis://r", "ROLLCALL_ENV": "dev",
                           "TRUSTED_PROXIES": "10.0.0.0/33"})  # fmt: skip
