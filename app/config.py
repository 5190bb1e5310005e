"""Settings, read once from the environment.

Each area is a small frozen dataclass. ``Settings.from_env`` validates every
variable and raises :class:`SettingsError` whose message is one line that names
the offending variable; the entry points turn it into a clean exit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from enum import StrEnum
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "AuthSettings",
    "DatabaseSettings",
    "Environment",
    "LogSettings",
    "MetricsSettings",
    "OutboxSettings",
    "RedisSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "dev_jwks_path",
    "get_settings",
]

DEV_ISSUER = "rollcall-dev"
DEV_AUDIENCE = "rollcall"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """An environment variable is missing or invalid; the message names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Environment(StrEnum):
    """``dev`` accepts the local dev signing key; ``production`` never does."""

    PRODUCTION = "production"
    DEV = "dev"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """The connection pool of one process (an API process, or a worker).

    The pool keeps ``pool_size`` connections open and never opens more: a connection opened for a
    burst and closed after one request (SQLAlchemy's overflow) costs a TCP + authentication handshake
    and a backend start on the server per request, which under steady load halved the sign endpoint's
    throughput. A request that finds every connection busy waits up to ``pool_timeout_seconds``, then
    gets a 503 with Retry-After. See the README's "Sizing the pool".
    """

    url: str
    """SQLAlchemy URL, always with the asyncpg driver."""
    pool_size: int = 20
    """Connections per process; 0 means no pool of our own (NullPool), e.g. in tests."""
    max_overflow: int = 0
    """Connections opened above ``pool_size`` under load and closed again when returned."""
    pool_timeout_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DatabaseSettings:
        """Only the database variables: enough for migrations and tenant commands."""
        env = _Env(os.environ if environ is None else environ)
        return cls(
            url=_database_url(env.required("DATABASE_URL")),
            pool_size=env.integer("DB_POOL_SIZE", 20, minimum=0, maximum=1000),
            max_overflow=env.integer("DB_MAX_OVERFLOW", 0, minimum=0, maximum=1000),
            pool_timeout_seconds=env.integer("DB_POOL_TIMEOUT_SECONDS", 5, minimum=1, maximum=300),
        )


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedisSettings:
        env = _Env(os.environ if environ is None else environ)
        return cls(url=_redis_url(env.required("REDIS_URL")))


@dataclass(frozen=True, slots=True)
class AuthSettings:
    issuer: str
    audience: str
    jwks_url: str | None
    jwks_file: Path | None
    tenant_claim: str = "tenant"
    leeway_seconds: int = 30
    accept_dev_keys: bool = False
    """True only in dev mode: tokens signed by ``rollcall dev-token`` verify."""


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    """How workers deliver outbox events (see the README's "Outbox" section)."""

    max_attempts: int = 10
    lease_seconds: float = 3.0
    """How long a claim lasts without renewal: a live worker renews it every third of it (a heartbeat) while
    the events run, so it bounds how long a killed worker's events wait, not how long a handler may run."""
    handler_timeout_seconds: float = 30.0
    """One handler run longer than this is cancelled and counts as a failed attempt."""
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 600.0
    batch_size: int = 500
    concurrency: int = 16
    sweep_seconds: float = 1.0
    poll_seconds: float = 0.002
    """How often an idle worker looks for nudges in Redis (arq's poll delay)."""
    shutdown_grace_seconds: float = 10.0
    retention_days: int = 7
    handler_modules: tuple[str, ...] = ()
    """Extra modules whose import registers handlers (plug-ins, benchmarks)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OutboxSettings:
        env = _Env(os.environ if environ is None else environ)
        modules = env.get("OUTBOX_HANDLER_MODULES") or ""
        return cls(
            max_attempts=env.integer("OUTBOX_MAX_ATTEMPTS", 10, minimum=1, maximum=1000),
            lease_seconds=env.number("OUTBOX_LEASE_SECONDS", 3.0, minimum=1.0, maximum=3600.0),
            handler_timeout_seconds=env.number("OUTBOX_HANDLER_TIMEOUT_SECONDS", 30.0, minimum=0.1, maximum=3600.0),
            backoff_base_seconds=env.number("OUTBOX_BACKOFF_BASE_SECONDS", 1.0, minimum=0.0, maximum=3600.0),
            backoff_cap_seconds=env.number("OUTBOX_BACKOFF_CAP_SECONDS", 600.0, minimum=0.0, maximum=7 * 86400.0),
            batch_size=env.integer("OUTBOX_BATCH_SIZE", 500, minimum=1, maximum=10000),
            concurrency=env.integer("OUTBOX_CONCURRENCY", 16, minimum=1, maximum=1000),
            sweep_seconds=env.number("OUTBOX_SWEEP_SECONDS", 1.0, minimum=0.05, maximum=60.0),
            poll_seconds=env.number("OUTBOX_POLL_SECONDS", 0.002, minimum=0.0005, maximum=5.0),
            shutdown_grace_seconds=env.number("OUTBOX_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0.0, maximum=600.0),
            retention_days=env.integer("OUTBOX_RETENTION_DAYS", 7, minimum=1, maximum=3650),
            handler_modules=tuple(m.strip() for m in modules.split(",") if m.strip()),
        )


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where the workers send email (see the README's "Email" section)."""

    host: str = "localhost"
    port: int = 25
    tls: SmtpTls = SmtpTls.NONE
    username: str | None = None
    password: str | None = None
    sender: str = "rollcall <noreply@localhost>"
    """The From address (``SMTP_FROM``)."""
    timeout_seconds: float = 10.0
    """Connect and per-command timeout; keep it well under OUTBOX_HANDLER_TIMEOUT_SECONDS."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = _Env(os.environ if environ is None else environ)
        tls = SmtpTls(env.choice("SMTP_TLS", [t.value for t in SmtpTls], SmtpTls.NONE.value))
        default_port = {SmtpTls.NONE: 25, SmtpTls.STARTTLS: 587, SmtpTls.TLS: 465}[tls]
        username = env.get("SMTP_USERNAME")
        password = env.get("SMTP_PASSWORD")
        if bool(username) != bool(password):
            raise SettingsError(
                "SMTP_USERNAME" if username else "SMTP_PASSWORD", "set both SMTP_USERNAME and SMTP_PASSWORD, or neither"
            )
        sender = env.get("SMTP_FROM") or "rollcall <noreply@localhost>"
        address = parseaddr(sender)[1]
        if "@" not in address or any(c in sender for c in "\r\n"):
            raise SettingsError("SMTP_FROM", f"expected an address like 'Club <club@example.org>', got '{sender}'")
        return cls(
            host=env.get("SMTP_HOST") or "localhost",
            port=env.integer("SMTP_PORT", default_port, minimum=1, maximum=65535),
            tls=tls,
            username=username,
            password=password,
            sender=sender,
            timeout_seconds=env.number("SMTP_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=300.0),
        )


@dataclass(frozen=True, slots=True)
class GroupMeSettings:
    """The GroupMe account the club's team groups live in (``rollcall groupme reconcile``)."""

    api_url: str = "https://api.groupme.com/v3"
    access_token: str | None = None
    staff_user_ids: tuple[str, ...] = ()
    """GroupMe user ids added to every team group."""
    timeout_seconds: float = 10.0
    max_attempts: int = 4
    """Tries per request when GroupMe answers 429 or 5xx (or the connection fails), with backoff."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GroupMeSettings:
        env = _Env(os.environ if environ is None else environ)
        staff = env.get("GROUPME_STAFF_USER_IDS") or ""
        ids = tuple(item.strip() for item in staff.split(",") if item.strip())
        for user_id in ids:
            if not user_id.isdigit():
                raise SettingsError(
                    "GROUPME_STAFF_USER_IDS", f"expected comma-separated numeric user ids, got '{user_id}'"
                )
        return cls(
            api_url=env.http_url("GROUPME_API_URL", default="https://api.groupme.com/v3"),
            access_token=env.get("GROUPME_ACCESS_TOKEN"),
            staff_user_ids=ids,
            timeout_seconds=env.number("GROUPME_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=300.0),
            max_attempts=env.integer("GROUPME_MAX_ATTEMPTS", 4, minimum=1, maximum=20),
        )


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    token: str | None = None
    """When set, ``GET /metrics`` needs ``Authorization: Bearer <token>``."""
    worker_port: int = 9100
    """Each worker serves its Prometheus metrics here (0: off)."""
    worker_host: str = "127.0.0.1"
    """Loopback unless told otherwise: the metrics have no authentication (containers set ``0.0.0.0``)."""


@dataclass(frozen=True, slots=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    contract_link_url: str = "http://127.0.0.1:8000/sign/{token}"
    """The link a parent receives (offer response, emails, dev banner): ``{token}`` is replaced by the contract's
    token. Default: the signing page this API serves, ``$PUBLIC_BASE_URL/sign/{token}``."""
    cors_origins: tuple[str, ...] = ()
    data_dir: Path = Path(".rollcall")
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    """Peers whose X-Forwarded-For is believed (the client IP recorded on a signature)."""
    public_rate_limit: int = 60
    """Requests a minute per client IP on the public contract links; 0 turns the limit off."""
    rate_limit_ipv6_prefix: int = 64
    """IPv6 clients are limited per network of this length (one host or household usually holds a /64)."""
    signature_storage_url: str = "file://.rollcall/signatures"
    """Where signature PNGs go: a local directory, or s3://bucket/prefix (credentials from AWS_* variables)."""
    contract_version: str = "2026-1"


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    database: DatabaseSettings
    redis: RedisSettings
    auth: AuthSettings
    log: LogSettings = field(default_factory=LogSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    groupme: GroupMeSettings = field(default_factory=GroupMeSettings)

    @property
    def is_dev(self) -> bool:
        return self.environment is Environment.DEV

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build and validate the settings; raise :class:`SettingsError` on the first bad variable."""
        env = _Env(os.environ if environ is None else environ)
        environment = env.choice("ROLLCALL_ENV", [e.value for e in Environment], Environment.PRODUCTION.value)
        is_dev = environment == Environment.DEV.value
        port = env.integer("PORT", 8000, minimum=1, maximum=65535)
        data_dir = Path(env.get("DATA_DIR") or ".rollcall")
        public_base_url = env.http_url("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{port}" if is_dev else None)
        server = ServerSettings(
            port=port,
            public_base_url=public_base_url,
            contract_link_url=env.link_template("CONTRACT_LINK_URL", default=f"{public_base_url}/sign/{{token}}"),
            cors_origins=env.origins("CORS_ORIGINS"),
            data_dir=data_dir,
            trusted_proxies=env.networks("TRUSTED_PROXIES"),
            public_rate_limit=env.integer("PUBLIC_RATE_LIMIT", 60, minimum=0, maximum=1_000_000),
            rate_limit_ipv6_prefix=env.integer("RATE_LIMIT_IPV6_PREFIX", 64, minimum=32, maximum=128),
            signature_storage_url=env.storage_url(
                "SIGNATURE_STORAGE_URL", default=f"file://{(data_dir / 'signatures').resolve()}"
            ),
            contract_version=env.get("CONTRACT_VERSION") or "2026-1",
        )
        database = DatabaseSettings.from_env(environ)
        redis = RedisSettings.from_env(environ)
        log = LogSettings(
            level=env.choice("LOG_LEVEL", _LOG_LEVELS, "DEBUG" if is_dev else "INFO", upper=True),
            format=env.choice("LOG_FORMAT", ("json", "console"), "console" if is_dev else "json"),
        )
        auth = _auth_settings(env, is_dev=is_dev, data_dir=data_dir)
        metrics = MetricsSettings(
            token=env.get("METRICS_TOKEN"),
            worker_port=env.integer("WORKER_METRICS_PORT", 9100, minimum=0, maximum=65535),
            worker_host=env.get("WORKER_METRICS_HOST") or "127.0.0.1",
        )
        return cls(
            Environment(environment),
            database,
            redis,
            auth,
            log,
            server,
            OutboxSettings.from_env(environ),
            metrics,
            SmtpSettings.from_env(environ),
            GroupMeSettings.from_env(environ),
        )


def dev_jwks_path(data_dir: Path) -> Path:
    """Where ``rollcall dev`` keeps the public half of its signing key."""
    return data_dir / "dev-keys" / "jwks.json"


def _auth_settings(env: _Env, *, is_dev: bool, data_dir: Path) -> AuthSettings:
    jwks_url = env.get("AUTH_JWKS_URL")
    jwks_file_raw = env.get("AUTH_JWKS_FILE")
    if jwks_url and jwks_file_raw:
        raise SettingsError("AUTH_JWKS_URL", "set either AUTH_JWKS_URL or AUTH_JWKS_FILE, not both")
    if jwks_url:
        jwks_url = env.http_url("AUTH_JWKS_URL")
    jwks_file = Path(jwks_file_raw) if jwks_file_raw else None
    uses_dev_keys = is_dev and not jwks_url and not jwks_file
    if uses_dev_keys:
        jwks_file = dev_jwks_path(data_dir)
    elif not jwks_url and not jwks_file:
        raise SettingsError("AUTH_JWKS_URL", "required (or AUTH_JWKS_FILE): where the issuer's signing keys are")
    # Dev tokens always carry the dev issuer, so with the dev keys AUTH_ISSUER does not apply.
    issuer = DEV_ISSUER if uses_dev_keys else (env.get("AUTH_ISSUER") or "")
    if not issuer:
        raise SettingsError("AUTH_ISSUER", "required: the `iss` every access token must carry")
    if not is_dev and issuer == DEV_ISSUER:
        raise SettingsError("AUTH_ISSUER", f"'{DEV_ISSUER}' is the dev issuer and is refused outside ROLLCALL_ENV=dev")
    if not is_dev and jwks_file is not None and jwks_file.resolve() == dev_jwks_path(data_dir).resolve():
        raise SettingsError("AUTH_JWKS_FILE", "the dev signing keys are refused outside ROLLCALL_ENV=dev")
    audience = env.get("AUTH_AUDIENCE") or (DEV_AUDIENCE if is_dev else "")
    if not audience:
        raise SettingsError("AUTH_AUDIENCE", "required: the `aud` every access token must carry")
    claim = env.get("AUTH_TENANT_CLAIM") or "tenant"
    return AuthSettings(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        jwks_file=jwks_file,
        tenant_claim=claim,
        leeway_seconds=env.integer("AUTH_LEEWAY_SECONDS", 30, minimum=0, maximum=300),
        accept_dev_keys=uses_dev_keys,
    )


def _database_url(raw: str) -> str:
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise SettingsError("DATABASE_URL", f"expected a postgresql:// URL, got scheme '{scheme or raw[:20]}'")
    return f"postgresql+asyncpg://{rest}"


def _redis_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("REDIS_URL", f"expected a redis://, rediss:// or unix:// URL, got scheme '{scheme}'")
    return raw


class _Env:
    """Typed reads of environment variables; every failure names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SettingsError(name, "required but not set")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, f"expected an integer, got '{raw}'") from None
        if not minimum <= value <= maximum:
            raise SettingsError(name, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def number(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(name, f"expected a number, got '{raw}'") from None
        if not minimum <= value <= maximum:
            raise SettingsError(name, f"must be between {minimum:g} and {maximum:g}, got {value:g}")
        return value

    def choice(self, name: str, allowed: tuple[str, ...] | list[str], default: str, *, upper: bool = False) -> str:
        raw = self.get(name)
        if raw is None:
            return default
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            raise SettingsError(name, f"expected one of {', '.join(allowed)}, got '{raw}'")
        return value

    def http_url(self, name: str, default: str | None = None) -> str:
        raw = self.get(name) or default
        if raw is None:
            raise SettingsError(name, "required but not set")
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(name, f"expected an http(s):// URL, got '{raw}'")
        return raw.rstrip("/")

    def link_template(self, name: str, default: str) -> str:
        """An http(s) URL holding ``{token}`` exactly once (in its path or query)."""
        raw = self.get(name) or default
        if raw.count("{token}") != 1:
            raise SettingsError(name, f"expected an http(s):// URL containing {{token}} once, got '{raw}'")
        placeholder = "rollcall-contract-token"
        parts = urlsplit(raw.replace("{token}", placeholder))
        if parts.scheme not in ("http", "https") or not parts.netloc or placeholder in parts.netloc:
            raise SettingsError(name, f"expected an http(s):// URL containing {{token}} once, got '{raw}'")
        return raw

    def networks(self, name: str) -> tuple[IPv4Network | IPv6Network, ...]:
        raw = self.get(name)
        if raw is None:
            return ()
        networks = []
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise SettingsError(
                    name, f"expected comma-separated IP addresses or CIDR ranges, got '{item}'"
                ) from None
        return tuple(networks)

    def storage_url(self, name: str, default: str) -> str:
        raw = self.get(name) or default
        scheme = urlsplit(raw).scheme
        if scheme not in ("file", "s3", "gs", "az", "memory"):
            raise SettingsError(name, f"expected a file://, s3://, gs://, az:// or memory:// URL, got '{raw}'")
        return raw

    def origins(self, name: str) -> tuple[str, ...]:
        raw = self.get(name)
        if raw is None:
            return ()
        origins = tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())
        for origin in origins:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise SettingsError(
                    name, f"expected comma-separated origins like https://app.example.org, got '{origin}'"
                )
        return origins


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
