"""Settings, read once from the environment.

Each area is a small frozen msgspec Struct, and each of its fields declares one setting in one place: the
type (numbers bounded with msgspec ``Meta``), the environment variable (``Env``), the default and the
docstring. ``_read`` gathers a group's variables and builds the group with one ``msgspec.convert(...,
strict=False)``; a field's parser first checks the shapes msgspec does not know (URLs, comma-separated
lists). A bad variable raises :class:`SettingsError`, one line that names it; the entry points turn it into a
clean exit. The few defaults that depend on other settings (dev mode, the port, the public URL, the data
directory, the SMTP TLS mode) are given in ``from_env``. Copy settings with ``msgspec.structs.replace``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from enum import Enum, StrEnum
from functools import cache, lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, field
from msgspec.structs import replace

__all__ = [
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "REQUIRED",
    "AuthSettings",
    "DatabaseSettings",
    "Env",
    "Environment",
    "GroupMeSettings",
    "LogSettings",
    "MetricsSettings",
    "OutboxSettings",
    "RedisSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SmtpSettings",
    "SmtpTls",
    "dev_jwks_path",
    "get_settings",
    "load_settings_or_exit",
]

DEV_ISSUER = "rollcall-dev"
DEV_AUDIENCE = "rollcall"

G = TypeVar("G", bound=msgspec.Struct)
V = TypeVar("V")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""A default given to ``_read`` that makes the variable required (PUBLIC_BASE_URL outside dev mode)."""


class SettingsError(ValueError):
    """An environment variable is missing or invalid; the message names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Env:
    """Marks a settings field as read from the environment variable ``name`` (``Annotated[type, ..., Env(name)]``)."""

    name: str
    parse: Callable[[str], object] | None = None
    """Turns the text into the value, or raises ``ValueError`` with the problem; without it, msgspec converts."""


class Environment(StrEnum):
    """``dev`` accepts the local dev signing key; ``production`` never does."""

    PRODUCTION = "production"
    DEV = "dev"


# Parsers for the values msgspec cannot convert. Each gets the variable's text (stripped, never empty).


def _items(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _names(raw: str) -> tuple[str, ...]:
    return tuple(_items(raw))


def _http_url(raw: str) -> str:
    """An http(s) URL, without its trailing slash."""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s):// URL, got '{raw}'")
    return raw.rstrip("/")


def _link_template(raw: str) -> str:
    """An http(s) URL holding ``{token}`` exactly once (in its path or query)."""
    placeholder = "rollcall-contract-token"
    parts = urlsplit(raw.replace("{token}", placeholder))
    bad_host = not parts.netloc or placeholder in parts.netloc
    if raw.count("{token}") != 1 or parts.scheme not in ("http", "https") or bad_host:
        raise ValueError(f"expected an http(s):// URL containing {{token}} once, got '{raw}'")
    return raw


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(item.rstrip("/") for item in _items(raw))
    for origin in origins:
        parts = urlsplit(origin)
        if origin != "*" and (parts.scheme not in ("http", "https") or not parts.netloc or parts.path):
            raise ValueError(f"expected comma-separated origins like https://app.example.org, got '{origin}'")
    return origins


class Networks(tuple[IPv4Network | IPv6Network, ...]):
    """IP networks (TRUSTED_PROXIES): one type for msgspec, which takes no union of two types it does not know."""

    __slots__ = ()


def _networks(raw: str) -> Networks:
    networks = []
    for item in _items(raw):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"expected comma-separated IP addresses or CIDR ranges, got '{item}'") from None
    return Networks(networks)


def _storage_url(raw: str) -> str:
    if urlsplit(raw).scheme not in ("file", "s3", "gs", "az", "memory"):
        raise ValueError(f"expected a file://, s3://, gs://, az:// or memory:// URL, got '{raw}'")
    return raw


def _database_url(raw: str) -> str:
    """Always with the asyncpg driver. A bad URL is named by its scheme only: the rest may hold a password."""
    scheme, sep, rest = raw.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"expected a postgresql:// URL, got scheme '{scheme or raw[:20]}'")
    return f"postgresql+asyncpg://{rest}"


def _redis_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got scheme '{scheme}'")
    return raw


def _mail_address(raw: str) -> str:
    if "@" not in parseaddr(raw)[1] or any(c in raw for c in "\r\n"):
        raise ValueError(f"expected an address like 'Club <club@example.org>', got '{raw}'")
    return raw


def _user_ids(raw: str) -> tuple[str, ...]:
    ids = _names(raw)
    for user_id in ids:
        if not user_id.isdigit():
            raise ValueError(f"expected comma-separated numeric user ids, got '{user_id}'")
    return ids


class DatabaseSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The connection pool of one process (an API process, or a worker).

    The pool keeps ``pool_size`` connections open and never opens more: a connection opened for a
    burst and closed after one request (SQLAlchemy's overflow) costs a TCP + authentication handshake
    and a backend start on the server per request, which under steady load halved the sign endpoint's
    throughput. A request that finds every connection busy waits up to ``pool_timeout_seconds``, then
    gets a 503 with Retry-After. See the README's "Sizing the pool".
    """

    url: Annotated[str, Env("DATABASE_URL", _database_url)]
    """SQLAlchemy URL, always with the asyncpg driver."""
    pool_size: Annotated[int, Meta(ge=0, le=1000), Env("DB_POOL_SIZE")] = 20
    """Connections per process; 0 means no pool of our own (NullPool), e.g. in tests."""
    max_overflow: Annotated[int, Meta(ge=0, le=1000), Env("DB_MAX_OVERFLOW")] = 0
    """Connections opened above ``pool_size`` under load and closed again when returned."""
    pool_timeout_seconds: Annotated[int, Meta(ge=1, le=300), Env("DB_POOL_TIMEOUT_SECONDS")] = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DatabaseSettings:
        """Only the database variables: enough for migrations and tenant commands."""
        return _read(cls, _environ(environ))


class RedisSettings(msgspec.Struct, frozen=True, kw_only=True):
    url: Annotated[str, Env("REDIS_URL", _redis_url)]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RedisSettings:
        return _read(cls, _environ(environ))


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    issuer: Annotated[str, Env("AUTH_ISSUER")]
    audience: Annotated[str, Env("AUTH_AUDIENCE")]
    jwks_url: Annotated[str | None, Env("AUTH_JWKS_URL", _http_url)] = None
    jwks_file: Annotated[Path | None, Env("AUTH_JWKS_FILE")] = None
    tenant_claim: Annotated[str, Env("AUTH_TENANT_CLAIM")] = "tenant"
    leeway_seconds: Annotated[int, Meta(ge=0, le=300), Env("AUTH_LEEWAY_SECONDS")] = 30
    accept_dev_keys: bool = False
    """True only in dev mode: tokens signed by ``rollcall dev-token`` verify."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, is_dev: bool, data_dir: Path) -> AuthSettings:
        """In dev mode without AUTH_JWKS_URL or AUTH_JWKS_FILE, the dev keys in ``data_dir`` sign the tokens."""
        # Unset, the issuer and audience read as "" and are refused below with the reason.
        auth = _read(cls, _environ(environ), issuer="", audience=DEV_AUDIENCE if is_dev else "")
        if auth.jwks_url and auth.jwks_file:
            raise SettingsError("AUTH_JWKS_URL", "set either AUTH_JWKS_URL or AUTH_JWKS_FILE, not both")
        if is_dev and not auth.jwks_url and not auth.jwks_file:
            # Dev tokens always carry the dev issuer, so with the dev keys AUTH_ISSUER does not apply.
            return replace(auth, issuer=DEV_ISSUER, jwks_file=dev_jwks_path(data_dir), accept_dev_keys=True)
        if not auth.jwks_url and not auth.jwks_file:
            raise SettingsError("AUTH_JWKS_URL", "required (or AUTH_JWKS_FILE): where the issuer's signing keys are")
        if not auth.issuer:
            raise SettingsError("AUTH_ISSUER", "required: the `iss` every access token must carry")
        if not is_dev and auth.issuer == DEV_ISSUER:
            raise SettingsError(
                "AUTH_ISSUER", f"'{DEV_ISSUER}' is the dev issuer and is refused outside ROLLCALL_ENV=dev"
            )
        if not is_dev and auth.jwks_file and auth.jwks_file.resolve() == dev_jwks_path(data_dir).resolve():
            raise SettingsError("AUTH_JWKS_FILE", "the dev signing keys are refused outside ROLLCALL_ENV=dev")
        if not auth.audience:
            raise SettingsError("AUTH_AUDIENCE", "required: the `aud` every access token must carry")
        return auth


class OutboxSettings(msgspec.Struct, frozen=True, kw_only=True):
    """How workers deliver outbox events (see the README's "Outbox" section)."""

    max_attempts: Annotated[int, Meta(ge=1, le=1000), Env("OUTBOX_MAX_ATTEMPTS")] = 10
    lease_seconds: Annotated[float, Meta(ge=1.0, le=3600.0), Env("OUTBOX_LEASE_SECONDS")] = 3.0
    """How long a claim lasts without renewal: a live worker renews it every third of it (a heartbeat) while
    the events run, so it bounds how long a killed worker's events wait, not how long a handler may run."""
    handler_timeout_seconds: Annotated[float, Meta(ge=0.1, le=3600.0), Env("OUTBOX_HANDLER_TIMEOUT_SECONDS")] = 30.0
    """One handler run longer than this is cancelled and counts as a failed attempt."""
    backoff_base_seconds: Annotated[float, Meta(ge=0.0, le=3600.0), Env("OUTBOX_BACKOFF_BASE_SECONDS")] = 1.0
    backoff_cap_seconds: Annotated[float, Meta(ge=0.0, le=7 * 86400.0), Env("OUTBOX_BACKOFF_CAP_SECONDS")] = 600.0
    batch_size: Annotated[int, Meta(ge=1, le=10000), Env("OUTBOX_BATCH_SIZE")] = 500
    concurrency: Annotated[int, Meta(ge=1, le=1000), Env("OUTBOX_CONCURRENCY")] = 16
    sweep_seconds: Annotated[float, Meta(ge=0.05, le=60.0), Env("OUTBOX_SWEEP_SECONDS")] = 1.0
    poll_seconds: Annotated[float, Meta(ge=0.0005, le=5.0), Env("OUTBOX_POLL_SECONDS")] = 0.5
    """How often an idle worker looks for arq jobs (crons, pings) in Redis (arq's poll delay). Nudges do not
    wait for it: the worker is subscribed to them."""
    shutdown_grace_seconds: Annotated[float, Meta(ge=0.0, le=600.0), Env("OUTBOX_SHUTDOWN_GRACE_SECONDS")] = 10.0
    retention_days: Annotated[int, Meta(ge=1, le=3650), Env("OUTBOX_RETENTION_DAYS")] = 7
    handler_modules: Annotated[tuple[str, ...], Env("OUTBOX_HANDLER_MODULES", _names)] = ()
    """Extra modules whose import registers handlers (plug-ins, benchmarks); comma-separated."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OutboxSettings:
        return _read(cls, _environ(environ))


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the workers send email (see the README's "Email" section)."""

    host: Annotated[str, Env("SMTP_HOST")] = "localhost"
    port: Annotated[int, Meta(ge=1, le=65535), Env("SMTP_PORT")] = 25
    """Default: 25, or 587 with STARTTLS, 465 with TLS."""
    tls: Annotated[SmtpTls, Env("SMTP_TLS")] = SmtpTls.NONE
    username: Annotated[str | None, Env("SMTP_USERNAME")] = None
    password: Annotated[str | None, Env("SMTP_PASSWORD")] = None
    sender: Annotated[str, Env("SMTP_FROM", _mail_address)] = "rollcall <noreply@localhost>"
    """The From address."""
    timeout_seconds: Annotated[float, Meta(ge=0.1, le=300.0), Env("SMTP_TIMEOUT_SECONDS")] = 10.0
    """Connect and per-command timeout; keep it well under OUTBOX_HANDLER_TIMEOUT_SECONDS."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        ports = {SmtpTls.NONE: 25, SmtpTls.STARTTLS: 587, SmtpTls.TLS: 465}
        smtp = _read(cls, _environ(environ), port=lambda read: ports[read["tls"]])
        if bool(smtp.username) != bool(smtp.password):
            raise SettingsError(
                "SMTP_USERNAME" if smtp.username else "SMTP_PASSWORD",
                "set both SMTP_USERNAME and SMTP_PASSWORD, or neither",
            )
        return smtp


class GroupMeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The GroupMe account the club's team groups live in (``rollcall groupme reconcile``)."""

    api_url: Annotated[str, Env("GROUPME_API_URL", _http_url)] = "https://api.groupme.com/v3"
    access_token: Annotated[str | None, Env("GROUPME_ACCESS_TOKEN")] = None
    staff_user_ids: Annotated[tuple[str, ...], Env("GROUPME_STAFF_USER_IDS", _user_ids)] = ()
    """GroupMe user ids added to every team group; comma-separated."""
    timeout_seconds: Annotated[float, Meta(ge=0.1, le=300.0), Env("GROUPME_TIMEOUT_SECONDS")] = 10.0
    max_attempts: Annotated[int, Meta(ge=1, le=20), Env("GROUPME_MAX_ATTEMPTS")] = 4
    """Tries per request when GroupMe answers 429 or 5xx (or the connection fails), with backoff."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GroupMeSettings:
        return _read(cls, _environ(environ))


class MetricsSettings(msgspec.Struct, frozen=True, kw_only=True):
    token: Annotated[str | None, Env("METRICS_TOKEN")] = None
    """When set, ``GET /metrics`` needs ``Authorization: Bearer <token>``."""
    worker_port: Annotated[int, Meta(ge=0, le=65535), Env("WORKER_METRICS_PORT")] = 9100
    """Each worker serves its Prometheus metrics here (0: off)."""
    worker_host: Annotated[str, Env("WORKER_METRICS_HOST")] = "127.0.0.1"
    """Loopback unless told otherwise: the metrics have no authentication (containers set ``0.0.0.0``)."""


class LogSettings(msgspec.Struct, frozen=True, kw_only=True):
    level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], Env("LOG_LEVEL")] = "INFO"
    """Default: DEBUG in dev mode."""
    format: Annotated[Literal["json", "console"], Env("LOG_FORMAT")] = "json"
    """Default: console in dev mode."""


class ServerSettings(msgspec.Struct, frozen=True, kw_only=True):
    port: Annotated[int, Meta(ge=1, le=65535), Env("PORT")] = 8000
    public_base_url: Annotated[str, Env("PUBLIC_BASE_URL", _http_url)] = "http://127.0.0.1:8000"
    """Required in production; in dev mode the API itself, ``http://127.0.0.1:$PORT``."""
    contract_link_url: Annotated[str, Env("CONTRACT_LINK_URL", _link_template)] = "http://127.0.0.1:8000/sign/{token}"
    """The link a parent receives (offer response, emails, dev banner): ``{token}`` is replaced by the contract's
    token. Default: the signing page this API serves, ``$PUBLIC_BASE_URL/sign/{token}``."""
    cors_origins: Annotated[tuple[str, ...], Env("CORS_ORIGINS", _origins)] = ()
    data_dir: Annotated[Path, Env("DATA_DIR")] = Path(".rollcall")
    trusted_proxies: Annotated[Networks, Env("TRUSTED_PROXIES", _networks)] = Networks()
    """Peers whose X-Forwarded-For is believed (the client IP recorded on a signature)."""
    public_rate_limit: Annotated[int, Meta(ge=0, le=1_000_000), Env("PUBLIC_RATE_LIMIT")] = 60
    """Requests a minute per client IP on the public contract links; 0 turns the limit off."""
    rate_limit_ipv6_prefix: Annotated[int, Meta(ge=32, le=128), Env("RATE_LIMIT_IPV6_PREFIX")] = 64
    """IPv6 clients are limited per network of this length (one host or household usually holds a /64)."""
    signature_storage_url: Annotated[str, Env("SIGNATURE_STORAGE_URL", _storage_url)] = "file://.rollcall/signatures"
    """Where signature PNGs go: a local directory, or s3://bucket/prefix (credentials from AWS_* variables).
    Default: ``signatures`` in the data directory, as an absolute ``file://`` URL."""
    contract_version: Annotated[str, Env("CONTRACT_VERSION")] = "2026-1"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, is_dev: bool) -> ServerSettings:
        return _read(
            cls,
            _environ(environ),
            public_base_url=(lambda read: f"http://127.0.0.1:{read['port']}") if is_dev else REQUIRED,
            contract_link_url=lambda read: f"{read['public_base_url']}/sign/{{token}}",
            signature_storage_url=lambda read: f"file://{(read['data_dir'] / 'signatures').resolve()}",
        )


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    environment: Annotated[Environment, Env("ROLLCALL_ENV")] = Environment.PRODUCTION
    """Read before the groups: dev mode changes some of their defaults."""
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
        environ = _environ(environ)
        environment = _read_variable(cls, "environment", environ, Environment)
        is_dev = environment is Environment.DEV
        server = ServerSettings.from_env(environ, is_dev=is_dev)
        return cls(
            environment=environment,
            database=DatabaseSettings.from_env(environ),
            redis=RedisSettings.from_env(environ),
            log=_read(LogSettings, environ, level="DEBUG", format="console") if is_dev else _read(LogSettings, environ),
            auth=AuthSettings.from_env(environ, is_dev=is_dev, data_dir=server.data_dir),
            server=server,
            metrics=_read(MetricsSettings, environ),
            outbox=OutboxSettings.from_env(environ),
            smtp=SmtpSettings.from_env(environ),
            groupme=GroupMeSettings.from_env(environ),
        )


def dev_jwks_path(data_dir: Path) -> Path:
    """Where ``rollcall dev`` keeps the public half of its signing key."""
    return data_dir / "dev-keys" / "jwks.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()


# Reading the declarations.


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _read(group: type[G], environ: Mapping[str, str], **defaults: object) -> G:
    """``group`` from its variables in ``environ``, converted by msgspec in one go; the first bad variable raises.

    An unset or blank variable takes the field's declared default unless ``defaults`` gives one: a value,
    ``REQUIRED``, or a function of the group's converted values (applied after the conversion).
    """
    given: dict[str, object] = {}
    derived: dict[str, Callable[[dict[str, Any]], object]] = {}
    variables = _variables(group)
    for variable in variables.values():
        raw = environ.get(variable.env.name, "").strip()
        default = defaults.get(variable.field, variable.default)
        if raw:
            given[variable.field] = variable.prepare(raw)
        elif default is REQUIRED:
            raise SettingsError(variable.env.name, "required but not set")
        elif callable(default):
            derived[variable.field] = default
        elif variable.field in defaults:
            given[variable.field] = default
    try:
        settings = msgspec.convert(given, group, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as error:
        raise _explain(variables, given, error) from None
    if not derived:
        return settings
    read = msgspec.structs.asdict(settings)
    for name, derive in derived.items():  # in declared order: a later default may use an earlier one
        read[name] = derive(read)
    return replace(settings, **{name: read[name] for name in derived})


def _read_variable(group: type[msgspec.Struct], name: str, environ: Mapping[str, str], type_: type[V]) -> V:
    """One variable of ``group`` on its own (``ROLLCALL_ENV``, which decides the defaults of the others)."""
    variable = _variables(group)[name]
    raw = environ.get(variable.env.name, "").strip()
    value = variable.prepare(raw) if raw else variable.default
    try:
        return msgspec.convert(value, variable.annotation, strict=False, dec_hook=_decode)  # type: ignore[no-any-return]
    except msgspec.ValidationError as error:
        raise variable.problem(value, error) from None


@dataclass(frozen=True, slots=True)
class _Variable:
    """A field that is read from an environment variable."""

    field: str
    env: Env
    annotation: Any
    default: object
    """``REQUIRED`` when the field has none."""

    def prepare(self, raw: str) -> object:
        """What msgspec converts: the parser's value, a choice in its declared case, or the text itself."""
        if self.env.parse is not None:
            try:
                return self.env.parse(raw)
            except ValueError as error:
                raise SettingsError(self.env.name, str(error)) from None
        # Choices are case-insensitive: LOG_LEVEL=debug, SMTP_TLS=STARTTLS.
        return next((choice for choice in _choices(self.annotation) if choice.lower() == raw.lower()), raw)

    def problem(self, value: object, error: msgspec.ValidationError) -> SettingsError:
        """The one line that says why msgspec refused this variable's ``value``."""
        choices = _choices(self.annotation)
        if choices:
            return SettingsError(self.env.name, f"expected one of {', '.join(choices)}, got '{value}'")
        return SettingsError(self.env.name, _problem(self.annotation, str(value), error))


@cache
def _variables(group: type[msgspec.Struct]) -> dict[str, _Variable]:
    hints = get_type_hints(group, include_extras=True)
    variables = {}
    for item in msgspec.structs.fields(group):
        env = next((meta for meta in getattr(hints[item.name], "__metadata__", ()) if isinstance(meta, Env)), None)
        if env is None:
            continue
        if item.default is not msgspec.NODEFAULT:
            default = item.default
        elif item.default_factory is not msgspec.NODEFAULT:
            default = item.default_factory()
        else:
            default = REQUIRED
        variables[item.name] = _Variable(item.name, env, hints[item.name], default)
    return variables


_AT = re.compile(r"- at `\$\.(\w+)`")


def _explain(
    variables: Mapping[str, _Variable], given: Mapping[str, object], error: msgspec.ValidationError
) -> Exception:
    """msgspec's refusal of a group, as the :class:`SettingsError` of the variable it names."""
    at = _AT.search(str(error))
    variable = variables.get(at.group(1)) if at else None
    if variable is None:  # not a variable's value: a declaration that msgspec cannot build is a bug
        return error
    return variable.problem(given[variable.field], error)


def _decode(type_: type, value: object) -> object:
    """msgspec's hook for the types it does not convert itself (a parser's result is already the type)."""
    if isinstance(value, type_):
        return value
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError  # msgspec's protocol: "not a type this hook converts" becomes a ValidationError


def _choices(annotation: Any) -> tuple[str, ...]:
    """The values a Literal or enum field allows, in declared order."""
    declared = get_args(annotation)[0]  # Annotated[declared, ..., Env(...)]
    if get_origin(declared) is Literal:
        return tuple(str(value) for value in get_args(declared))
    if isinstance(declared, type) and issubclass(declared, Enum):
        return tuple(str(member.value) for member in declared)
    return ()


def _problem(annotation: Any, raw: str, error: msgspec.ValidationError) -> str:
    """Why msgspec refused ``raw``, in one line."""
    info = msgspec.inspect.type_info(annotation)
    if isinstance(info, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        number, kind = (int, "an integer") if isinstance(info, msgspec.inspect.IntType) else (float, "a number")
        try:
            value = msgspec.convert(raw, number, strict=False)
        except msgspec.ValidationError:
            return f"expected {kind}, got '{raw}'"
        if number is int:
            return f"must be between {info.ge} and {info.le}, got {value}"
        return f"must be between {info.ge:g} and {info.le:g}, got {value:g}"
    return f"{error}, got '{raw}'"


def load_settings_or_exit() -> Settings:
    """The process's settings; a bad variable ends the process with one line naming it (exit status 2)."""
    try:
        return get_settings()
    except SettingsError as error:
        print(f"rollcall: invalid setting {error}", file=sys.stderr)
        raise SystemExit(2) from None
