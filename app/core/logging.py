"""structlog setup (JSON in production, readable in dev) and the one-line-per-request log."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.config import LogSettings

__all__ = ["RequestLogMiddleware", "configure_logging"]

REQUEST_LOGGER = "rollcall.request"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
_ARQ_WORKER = "arq.worker"
# arq's own format strings for a job's start and its success (arq/worker.py, ``Worker.run_job``).
_ARQ_JOB_RUN_LINES = frozenset({"%6.2fs → %s(%s)%s", "%6.2fs ← %s ● %s"})


def configure_logging(settings: LogSettings) -> None:
    """Route structlog and the standard library (uvicorn, arq, SQLAlchemy) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if settings.format == "json":
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # Our own request line replaces uvicorn's access log.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "httpcore", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # arq's DEBUG lines (a routine cron run, a cron another worker took) come every second: even at
    # LOG_LEVEL=DEBUG they would bury everything else, so arq logs from INFO up.
    logging.getLogger("arq").setLevel(max(logging.INFO, root.level))
    logging.getLogger(_ARQ_WORKER).addFilter(_ROUTINE_CRON_RUNS_AT_DEBUG)


class _RoutineCronRunsAtDebug(logging.Filter):
    """Demotes arq's start (``→``) and success (``●``) lines of cron jobs to DEBUG.

    The outbox sweep runs every second; its two INFO lines a second would drown
    the console. Failures, retries and every other job's lines keep their level.
    A logger filter runs after the INFO level check, so the DEBUG one is made here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or record.msg not in _ARQ_JOB_RUN_LINES:
            return True
        ref = record.args[1] if isinstance(record.args, tuple) and len(record.args) > 1 else None
        if not (isinstance(ref, str) and ref.startswith("cron:")):  # other jobs: "<job id>:<function>"
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_ROUTINE_CRON_RUNS_AT_DEBUG = _RoutineCronRunsAtDebug()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it; atexit hooks outlive them)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        return None


class RequestLogMiddleware:
    """Wraps the whole app (routing errors included): request id in and out, one log line per request.

    ``X-Request-ID`` is taken from the caller when it is a sane token, generated
    otherwise, echoed in the response and bound to every log line of the request.
    The path is logged as its route template, so capability tokens in URLs never
    reach the logs.
    """

    def __init__(self, app: ASGIApp, *, json_lines: bool = False) -> None:
        self.app = app
        self.logger = structlog.get_logger(REQUEST_LOGGER)
        self.gate = logging.getLogger(REQUEST_LOGGER)
        self.json_lines = json_lines

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or secrets.token_hex(16)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            fields = {
                "method": scope["method"],
                "path": scope.get("path_template") or "<no route>",
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            if not self.json_lines:
                self.logger.info("request", **fields)
            elif self.gate.isEnabledFor(logging.INFO):
                _write_json_line(fields)


def _write_json_line(fields: dict[str, Any]) -> None:
    """The request line as the JSON renderer would print it, written directly: it runs on every request,
    and structlog's stdlib route (LogRecord, frame lookup, formatter) cost ~10 % of the sign endpoint's CPU."""
    record = {
        **fields,
        "event": "request",
        **structlog.contextvars.get_contextvars(),
        "level": "info",
        "logger": REQUEST_LOGGER,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    sys.stderr.write(_JSON.encode(record).decode() + "\n")


_JSON = msgspec.json.Encoder(enc_hook=str)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID.match(candidate) else None
    return None
