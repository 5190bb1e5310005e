"""What a browser loads from the API comes from the API: the signing page, its module and styles, and Swagger UI
from the vendored, checksummed swagger-ui-dist."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.web.pages import STATIC_DIR, SWAGGER_UI_VERSION

Client = AsyncTestClient[Litestar]
ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


async def test_the_signing_page_is_served_for_any_token_without_a_login(client: Client) -> None:
    response = await client.get("/sign/some-token")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<meta name="rollcall-api" content="https://rollcall.test">' in response.text
    assert "<canvas" in response.text


async def test_the_signing_page_keeps_its_token_to_itself(client: Client) -> None:
    headers = (await client.get("/sign/some-token")).headers
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self' https://rollcall.test"
    assert policy["frame-ancestors"] == "'none'"


async def test_the_page_loads_only_its_own_hashed_assets(client: Client) -> None:
    page = (await client.get("/sign/some-token")).text
    assets = ASSET.findall(page)
    assert sorted(path.split("?")[0] for path in assets) == ["/static/sign/sign.css", "/static/sign/sign.js"]
    for path in assets:
        name = path.split("?")[0].removeprefix("/static/")
        digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
        assert path.endswith(f"?v={digest}")  # a changed file gets a new link, so caching it is safe
        response = await client.get(path)
        assert response.status_code == 200
        assert "max-age=604800" in response.headers["cache-control"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/static/sign/sign.js")).headers["content-type"].split(";")[0] in (
        "text/javascript",
        "application/javascript",
    )


@pytest.mark.parametrize("path", ["/static/../asgi.py", "/static/sign/../../pages.py", "/static/nope.js"])
async def test_nothing_outside_the_static_directory_is_served(client: Client, path: str) -> None:
    assert (await client.get(path)).status_code == 404


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
async def test_swagger_ui_comes_from_the_api_itself(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.text
    assets = ASSET.findall(response.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/swagger-ui/"), asset
        assert asset.endswith(f"?v={SWAGGER_UI_VERSION}")
        assert (await client.get(asset)).status_code == 200
    assert not re.search(r"https?://", response.text.split("spec:")[0])  # nothing before the document is remote


def test_the_vendored_swagger_ui_matches_its_record() -> None:
    record = json.loads((STATIC_DIR / "swagger-ui" / "VENDORED.json").read_text())
    assert record["package"] == "swagger-ui-dist"
    assert record["version"] == SWAGGER_UI_VERSION
    assert record["integrity"].startswith("sha512-")
    for name, digest in record["sha256"].items():
        assert hashlib.sha256((STATIC_DIR / "swagger-ui" / name).read_bytes()).hexdigest() == digest, name


def test_nothing_served_to_a_browser_names_a_cdn() -> None:
    app_dir = STATIC_DIR.parent.parent
    for path in app_dir.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".js", ".css", ".html", ".json", ".j2", ".txt"}:
            assert not re.search(r"cdn\.|unpkg|jsdelivr", path.read_text(errors="replace")), path
