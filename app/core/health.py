"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import SkipValidation
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import PROBLEM_MEDIA_TYPE, Problem, problem_type

__all__ = ["HealthController", "Readiness"]

CHECK_TIMEOUT_SECONDS = 2.0


class Liveness(msgspec.Struct):
    status: Literal["live"]


class Readiness(msgspec.Struct):
    status: Literal["ready"]
    checks: dict[str, str]


class NotReady(Problem, kw_only=True):
    checks: dict[str, str]


async def _check_postgresql(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check_redis(redis: Redis) -> None:
    await redis.ping()


async def _probe(name: str, check: Any) -> tuple[str, str]:
    try:
        await asyncio.wait_for(check, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001  (any failure means "down"; the type says why)
        return name, f"down: {type(error).__name__}"
    return name, "up"


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"exclude_from_auth": True}

    @get("/live", operation_id="getLiveness", summary="The process is up")
    async def live(self) -> Liveness:
        """Answers as long as the process can serve HTTP; it checks nothing else."""
        return Liveness(status="live")

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="PostgreSQL and Redis answer",
        responses={
            503: ResponseSpec(
                data_container=NotReady,
                description="PostgreSQL or Redis is down; `checks` says which",
                media_type=PROBLEM_MEDIA_TYPE,
                generate_examples=False,
            )
        },
    )
    async def ready(
        self,
        request: Request[Any, Any, Any],
        db_engine: NamedDependency[AsyncEngine],
        redis: NamedDependency[SkipValidation[Redis]],
    ) -> Response[Readiness | NotReady]:
        """200 when PostgreSQL and Redis both answer within two seconds; 503 problem+json naming what is down."""
        results = dict(
            await asyncio.gather(
                _probe("postgresql", _check_postgresql(db_engine)),
                _probe("redis", _check_redis(redis)),
            )
        )
        down = sorted(name for name, state in results.items() if state != "up")
        if not down:
            return Response(Readiness(status="ready", checks=results))
        problem = NotReady(
            type=problem_type("unavailable"),
            title="Service Unavailable",
            status=503,
            detail=f"not ready: {' and '.join(down)} {'is' if len(down) == 1 else 'are'} down",
            instance=request.url.path,
            request_id=request.scope["state"].get("request_id"),
            checks=results,
        )
        return Response(problem, status_code=503, media_type=PROBLEM_MEDIA_TYPE, headers={"Retry-After": "5"})
