"""What a browser loads from the API: the parent's signing page and the OpenAPI UI, with every script, style
and icon served from here (nothing from a CDN).

- ``/sign/{token}``: one HTML shell for every token (the page's module reads the token from its URL and calls
  the public contract API at ``PUBLIC_BASE_URL``). Its security headers keep the token in the URL from leaking
  (no referrer, no caching, no framing) and allow scripts and styles from this origin only.
- ``/static/…``: Litestar's static files router over ``app/web/static`` (the page's CSS and module, and the
  Swagger UI assets vendored from npm by ``make vendor-swagger-ui``).
- ``/schema`` and ``/schema/swagger``: Swagger UI, pointed at those vendored assets.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from app.core.query import ANY_QUERY

__all__ = ["STATIC_DIR", "SWAGGER_UI_VERSION", "browser_routes", "swagger_ui"]

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
SWAGGER_UI_DIR = STATIC_DIR / "swagger-ui"
SWAGGER_UI_VERSION: str = json.loads((SWAGGER_UI_DIR / "VENDORED.json").read_text())["version"]

_PUBLIC = {"exclude_from_auth": True, ANY_QUERY: True}  # no login; links may carry ?v=… or an email's tracking


def browser_routes(public_base_url: str) -> list[Router]:
    """The signing page (its API at ``public_base_url``) and the static files."""
    page = _signing_page(public_base_url)
    headers = _page_headers(public_base_url)

    @get("/sign/{token:str}", media_type=MediaType.HTML, include_in_schema=False, opt=_PUBLIC, sync_to_thread=False)
    def signing_page(token: FromPath[str]) -> Response[bytes]:
        return Response(content=page, media_type=MediaType.HTML, headers=headers)

    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        opt=_PUBLIC,
        include_in_schema=False,
        # Links carry a content hash (?v=…), so a week is safe; a changed file gets a new link.
        cache_control=CacheControlHeader(public=True, max_age=7 * 24 * 3600),
        after_request=_nosniff,
    )
    return [Router(path="/", route_handlers=[signing_page]), static]


def swagger_ui() -> SwaggerRenderPlugin:
    """Swagger UI at ``/schema`` and ``/schema/swagger``, from the vendored, version-pinned assets."""
    base = "/static/swagger-ui"
    version = f"?v={SWAGGER_UI_VERSION}"
    return SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{base}/swagger-ui-bundle.js{version}",
        css_url=f"{base}/swagger-ui.css{version}",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js{version}",
        favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png{version}'>",
    )


def _signing_page(public_base_url: str) -> bytes:
    html = (WEB_DIR / "sign.html").read_text()
    for placeholder, value in (
        ("{{API_BASE_URL}}", escape(public_base_url, quote=True)),
        ("{{CSS_HASH}}", _content_hash(STATIC_DIR / "sign" / "sign.css")),
        ("{{JS_HASH}}", _content_hash(STATIC_DIR / "sign" / "sign.js")),
    ):
        html = html.replace(placeholder, value)
    return html.encode()


def _page_headers(public_base_url: str) -> dict[str, str]:
    parts = urlsplit(public_base_url)
    api_origin = f"{parts.scheme}://{parts.netloc}"
    policy = "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https:",  # the club's logo, wherever the club keeps it (https only)
            f"connect-src 'self' {api_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",  # the URL holds the token
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "X-Robots-Tag": "noindex",
    }


def _content_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _nosniff(response: Any) -> Any:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
