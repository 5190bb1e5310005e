"""The Litestar application: ``create_app()`` wires settings, database, auth, errors, OpenAPI and routes."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from arq.connections import ArqRedis
from litestar import Litestar, Router
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.plugins import InitPluginProtocol

from app import __version__
from app.club.contracts import ContractSigner
from app.club.controllers import (
    ContractController,
    EmailBlastController,
    ParentController,
    PlayerController,
    TeamController,
)
from app.club.jerseys.controllers import AdminJerseyOrderController, JerseyOrderController
from app.club.public import PublicContractController, SigningDesk
from app.club.signatures import configure_signature_storage
from app.config import Settings, load_settings_or_exit
from app.core.auth import provide_principal
from app.core.auth.middleware import Authenticator, BearerAuthMiddleware
from app.core.auth.tokens import TokenVerifier, key_source_for
from app.core.db import alchemy_config
from app.core.errors import problem_exception_handlers
from app.core.exposure import warn_about_exposure
from app.core.health import HealthController
from app.core.logging import RequestLogMiddleware, configure_logging
from app.core.metrics import MetricsController, http_metrics
from app.core.openapi import document_schema_plugins
from app.core.query import QUERY_TYPE_DECODERS, refuse_unknown_query_parameters
from app.core.ratelimit import PublicRateLimit, RequestCounter
from app.hall.routes import hall_router
from app.outbox.controllers import OutboxController
from app.outbox.emit import Nudger, nudging
from app.outbox.metrics import refresh_outbox_gauges
from app.tenants.controllers import TenantController
from app.tenants.directory import TenantDirectory
from app.web.pages import browser_routes, swagger_ui

__all__ = ["create_app"]

BEARER_SCHEME = "bearer"


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app. Without ``settings`` they are read from the environment (a bad one exits with one line)."""
    settings = settings or load_settings_or_exit()
    configure_logging(settings.log)
    # The schema plugins go in the constructor: there they take precedence over Litestar's own.
    app = Litestar(plugins=[ApplicationCore(settings), *document_schema_plugins()], debug=False, logging_config=None)
    # Outermost: request id and the request log line cover routing errors (404/405) too.
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler, json_lines=settings.log.format == "json")
    return app


class ApplicationCore(InitPluginProtocol):
    """The app as a list of parts: its process-wide objects, routes, dependencies, middleware and documents.

    Handlers receive what they need as dependencies (``settings``, ``nudger``, ``redis``, ``gauges``);
    the authenticator and the rate limit are given theirs when built. Nothing is looked up in ``app.state``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.nudger = Nudger()
        self.db = alchemy_config(settings.database, session_info=nudging(self.nudger))
        # One lazy client (no connection until used): readiness pings it, nudges and rate counts go through it.
        self.redis = ArqRedis.from_url(settings.redis.url, socket_connect_timeout=2, socket_timeout=5)
        self.key_source = key_source_for(settings.auth)
        self.tenant_directory = TenantDirectory(self.db.create_session_maker())
        self.authenticator = Authenticator(
            verifier=TokenVerifier(
                keys=self.key_source,
                issuer=settings.auth.issuer,
                audience=settings.auth.audience,
                leeway_seconds=settings.auth.leeway_seconds,
                accept_dev_keys=settings.auth.accept_dev_keys,
            ),
            tenants=self.tenant_directory,
            tenant_claim=settings.auth.tenant_claim,
        )
        self.rate_limit = PublicRateLimit(settings.server, RequestCounter(self.redis))
        configure_signature_storage(settings.server.signature_storage_url)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = self.settings
        app_config.route_handlers.extend(
            [
                HealthController,
                MetricsController,
                Router(path="/", route_handlers=[PublicContractController], before_request=self.rate_limit),
                *browser_routes(settings.server.public_base_url),
                Router(
                    path="/",
                    route_handlers=[
                        TenantController,
                        OutboxController,
                        TeamController,
                        ParentController,
                        PlayerController,
                        ContractController,
                        EmailBlastController,
                        JerseyOrderController,
                        AdminJerseyOrderController,
                        hall_router(),
                    ],
                    security=[{BEARER_SCHEME: []}],
                    dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
                ),
            ]
        )
        app_config.plugins.append(SQLAlchemyPlugin(config=self.db))
        app_config.dependencies.update(
            {
                "settings": _value(settings),
                "nudger": _value(self.nudger),
                "tenant_directory": _value(self.tenant_directory),
                "redis": _value(self.redis),
                "signing": _value(SigningDesk(settings, ContractSigner(self.db.get_engine(), self.nudger))),
                "gauges": _value((refresh_outbox_gauges,)),
            }
        )
        app_config.type_decoders = [*(app_config.type_decoders or []), *QUERY_TYPE_DECODERS]
        app_config.lifespan.append(self.backing_services)
        app_config.middleware.extend(
            [
                http_metrics,
                DefineMiddleware(BearerAuthMiddleware, authenticator=self.authenticator, exclude=["^/schema"]),
                refuse_unknown_query_parameters,
            ]
        )
        app_config.exception_handlers.update(problem_exception_handlers())
        app_config.cors_config = _cors(settings)
        app_config.openapi_config = _openapi()
        return app_config

    @asynccontextmanager
    async def backing_services(self, app: Litestar) -> AsyncGenerator[None, None]:
        self.nudger.pool = self.redis
        warn_about_exposure(self.settings)
        settle_heap()
        try:
            yield
        finally:
            await self.nudger.drain()
            self.nudger.pool = None
            await self.key_source.aclose()
            await self.redis.aclose()


def _value(value: object) -> Provide:
    """A dependency that is one of the app's own objects."""
    return Provide(lambda: value, use_cache=True, sync_to_thread=False)


_heap_settled = False


def settle_heap() -> None:
    """Move everything built at start-up out of the garbage collector's sight and collect young objects
    less often. Measured on the sign endpoint (bench/api_sign.sh): p99 105 ms → 35 ms, +6 % req/s;
    the tail was collection pauses over the long-lived start-up objects.

    Once per process: a server starts one app. A process that starts many (the test suite starts one per
    test) would otherwise freeze each earlier app, never to be collected: 2.5 to 5 MB a test, and every
    collection slower, measured as the suite's per-test set-up growing from 0.35 s to 2 s."""
    global _heap_settled  # noqa: PLW0603  (a process-wide fact, like the collector it tunes)
    if _heap_settled:
        return
    _heap_settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _cors(settings: Settings) -> CORSConfig | None:
    if not settings.server.cors_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.server.cors_origins),
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        allow_credentials=False,
        max_age=600,
    )


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="rollcall API",
        version=__version__,
        description=(
            "Operations backend for youth sports clubs and union hiring halls. "
            "Click **Authorize** and paste an access token; "
            "in dev, `rollcall dev-token --tenant demo-club --role admin` prints one. "
            "Errors are RFC 9457 `application/problem+json`."
        ),
        path="/schema",
        render_plugins=[swagger_ui()],
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An OIDC access token (Keycloak in production, `rollcall dev-token` in dev).",
                )
            }
        ),
        tags=[
            Tag(name="health", description="Probes for orchestrators and load balancers"),
            Tag(name="tenants", description="The caller's organisation"),
            Tag(name="roster", description="Teams, parents and players of a club"),
            Tag(name="contracts", description="Player contracts: offer, audit"),
            Tag(name="jersey orders", description="Jerseys ordered by a club's users, reconciled by its staff"),
            Tag(name="outbox", description="Event delivery: inspect, replay, discard, ping"),
            Tag(name="operations", description="Metrics for Prometheus"),
        ],
        use_handler_docstrings=True,
    )
