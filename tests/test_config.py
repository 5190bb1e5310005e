"""Settings are read once from the environment; a bad variable stops start-up with one line naming it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args, get_type_hints

import jwt
import msgspec
import pytest
from msgspec import Meta

from app.config import DEV_ISSUER, Env, Environment, Settings, SettingsError, dev_jwks_path
from tests.processes import rollcall

GOOD = {
    "DATABASE_URL": "postgresql://rollcall:secret@db:5432/rollcall",
    "REDIS_URL": "redis://redis:6379/0",
    "PUBLIC_BASE_URL": "https://club.example.org/",
    "AUTH_ISSUER": "https://id.example.org/realms/rollcall",
    "AUTH_AUDIENCE": "rollcall-api",
    "AUTH_JWKS_URL": "https://id.example.org/realms/rollcall/protocol/openid-connect/certs",
}


def settings_with(**changes: str | None) -> Settings:
    env = {**GOOD, **changes}
    return Settings.from_env({k: v for k, v in env.items() if v is not None})


def test_production_settings_are_read_and_normalised() -> None:
    settings = settings_with(CORS_ORIGINS="https://a.example.org, https://b.example.org/", PORT="9000")
    assert settings.environment is Environment.PRODUCTION
    assert settings.database.url == "postgresql+asyncpg://rollcall:secret@db:5432/rollcall"
    assert settings.server.public_base_url == "https://club.example.org"
    assert settings.server.cors_origins == ("https://a.example.org", "https://b.example.org")
    assert settings.server.port == 9000
    assert settings.auth.tenant_claim == "tenant"
    assert settings.auth.accept_dev_keys is False
    assert (settings.log.level, settings.log.format) == ("INFO", "json")
    assert settings.server.contract_link_url == "https://club.example.org/sign/{token}"


def test_a_club_spa_can_take_the_contract_links() -> None:
    settings = settings_with(CONTRACT_LINK_URL="https://club.example.org/contracts?link={token}")
    assert settings.server.contract_link_url == "https://club.example.org/contracts?link={token}"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", None, "DATABASE_URL: required but not set"),
        ("DATABASE_URL", "mysql://db/rollcall", "DATABASE_URL: expected a postgresql:// URL"),
        ("REDIS_URL", None, "REDIS_URL: required but not set"),
        ("REDIS_URL", "http://redis", "REDIS_URL: expected a redis://"),
        ("PUBLIC_BASE_URL", None, "PUBLIC_BASE_URL: required but not set"),
        ("PUBLIC_BASE_URL", "club.example.org", "PUBLIC_BASE_URL: expected an http(s):// URL"),
        ("CONTRACT_LINK_URL", "https://club.example.org/contracts", "CONTRACT_LINK_URL: expected an http(s):// URL"),
        ("CONTRACT_LINK_URL", "https://club.example.org/{token}/{token}", "CONTRACT_LINK_URL: expected an http(s)"),
        ("CONTRACT_LINK_URL", "club.example.org/c/{token}", "CONTRACT_LINK_URL: expected an http(s):// URL"),
        ("CONTRACT_LINK_URL", "https://{token}.example.org/", "CONTRACT_LINK_URL: expected an http(s):// URL"),
        ("CORS_ORIGINS", "https://a.example.org/path", "CORS_ORIGINS: expected comma-separated origins"),
        ("PORT", "eighty", "PORT: expected an integer"),
        ("PORT", "70000", "PORT: must be between 1 and 65535"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected one of"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: expected one of json, console"),
        ("ROLLCALL_ENV", "staging", "ROLLCALL_ENV: expected one of production, dev"),
        ("AUTH_ISSUER", None, "AUTH_ISSUER: required"),
        ("AUTH_ISSUER", DEV_ISSUER, "AUTH_ISSUER: 'rollcall-dev' is the dev issuer"),
        ("AUTH_AUDIENCE", None, "AUTH_AUDIENCE: required"),
        ("AUTH_JWKS_URL", None, "AUTH_JWKS_URL: required (or AUTH_JWKS_FILE)"),
        ("AUTH_JWKS_URL", "ftp://id.example.org/certs", "AUTH_JWKS_URL: expected an http(s):// URL"),
        ("DB_POOL_SIZE", "-1", "DB_POOL_SIZE: must be between 0 and 1000"),
        ("DB_POOL_TIMEOUT_SECONDS", "soon", "DB_POOL_TIMEOUT_SECONDS: expected an integer"),
        ("AUTH_LEEWAY_SECONDS", "3600", "AUTH_LEEWAY_SECONDS: must be between 0 and 300"),
        ("SMTP_TLS", "ssl", "SMTP_TLS: expected one of none, starttls, tls"),
        ("SMTP_PORT", "0", "SMTP_PORT: must be between 1 and 65535"),
        ("SMTP_FROM", "not an address", "SMTP_FROM: expected an address"),
        ("SMTP_USERNAME", "mailer", "SMTP_USERNAME: set both SMTP_USERNAME and SMTP_PASSWORD"),
        ("SMTP_TIMEOUT_SECONDS", "0", "SMTP_TIMEOUT_SECONDS: must be between"),
        ("GROUPME_API_URL", "groupme.example", "GROUPME_API_URL: expected an http(s):// URL"),
        ("GROUPME_STAFF_USER_IDS", "123,abc", "GROUPME_STAFF_USER_IDS: expected comma-separated numeric user ids"),
    ],
)
def test_an_invalid_variable_is_named_in_the_error(variable: str, value: str | None, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(**{variable: value})
    assert str(caught.value).startswith(message)
    assert caught.value.variable == variable
    assert "\n" not in str(caught.value)


def test_the_database_password_is_never_echoed_in_an_error() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(DATABASE_URL="mysql://rollcall:hunter2@db/rollcall")
    assert "hunter2" not in str(caught.value)


def test_jwks_url_and_file_together_are_refused() -> None:
    with pytest.raises(SettingsError, match="AUTH_JWKS_URL: set either"):
        settings_with(AUTH_JWKS_FILE="/etc/rollcall/jwks.json")


def test_the_dev_signing_keys_are_refused_outside_dev_mode(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="AUTH_JWKS_FILE: the dev signing keys are refused"):
        settings_with(AUTH_JWKS_URL=None, AUTH_JWKS_FILE=str(dev_jwks_path(tmp_path)), DATA_DIR=str(tmp_path))


def test_dev_mode_defaults_to_the_dev_keys_and_readable_logs(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ROLLCALL_ENV": "dev",
            "DATABASE_URL": GOOD["DATABASE_URL"],
            "REDIS_URL": GOOD["REDIS_URL"],
            "DATA_DIR": str(tmp_path),
            "PORT": "8123",
        }
    )
    assert settings.is_dev
    assert settings.auth.accept_dev_keys is True
    assert settings.auth.issuer == DEV_ISSUER
    assert settings.auth.jwks_file == dev_jwks_path(tmp_path)
    assert settings.server.public_base_url == "http://127.0.0.1:8123"
    assert settings.server.contract_link_url == "http://127.0.0.1:8123/sign/{token}"  # a default of a default
    assert settings.server.signature_storage_url == f"file://{(tmp_path / 'signatures').resolve()}"
    assert (settings.log.level, settings.log.format) == ("DEBUG", "console")


def test_dev_keys_always_mean_the_dev_issuer_but_the_audience_is_configurable(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "ROLLCALL_ENV": "dev",
            "DATABASE_URL": GOOD["DATABASE_URL"],
            "REDIS_URL": GOOD["REDIS_URL"],
            "AUTH_ISSUER": "",
            "AUTH_AUDIENCE": "rollcall-api",
            "DATA_DIR": str(tmp_path),
        }
    )
    assert (settings.auth.issuer, settings.auth.audience) == (DEV_ISSUER, "rollcall-api")


def test_dev_mode_with_a_real_issuer_does_not_trust_dev_keys() -> None:
    settings = settings_with(ROLLCALL_ENV="dev")
    assert settings.auth.accept_dev_keys is False
    assert settings.auth.jwks_url == GOOD["AUTH_JWKS_URL"]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "app", "serve"],
        [sys.executable, "-c", "import workers; workers.WorkerSettings"],
        [sys.executable, "-c", "from app.asgi import create_app; create_app()"],
    ],
    ids=["rollcall-serve", "arq-worker-settings", "asgi-factory"],
)
def test_start_up_with_a_bad_setting_stops_with_one_line(command: list[str]) -> None:
    env = {**GOOD, "PORT": "not-a-port", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "PORT: expected an integer, got 'not-a-port'" in lines[0]


def test_smtp_and_groupme_settings() -> None:
    defaults = settings_with()
    assert (defaults.smtp.host, defaults.smtp.port, defaults.smtp.tls.value) == ("localhost", 25, "none")
    assert defaults.groupme.access_token is None
    mail = settings_with(
        SMTP_HOST="smtp.example.org",
        SMTP_TLS="STARTTLS",
        SMTP_USERNAME="mailer",
        SMTP_PASSWORD="secret",
        SMTP_FROM="Kings FC <club@kings.example>",
        GROUPME_ACCESS_TOKEN="tok",
        GROUPME_STAFF_USER_IDS="111, 222,",
    )
    assert (mail.smtp.host, mail.smtp.port, mail.smtp.tls.value) == ("smtp.example.org", 587, "starttls")
    assert (mail.smtp.username, mail.smtp.password, mail.smtp.sender) == (
        "mailer",
        "secret",
        "Kings FC <club@kings.example>",
    )
    assert settings_with(SMTP_TLS="tls").smtp.port == 465
    assert mail.groupme.staff_user_ids == ("111", "222")


def test_blank_variables_take_their_defaults_and_choices_ignore_case() -> None:
    settings = settings_with(PORT="  ", DB_POOL_SIZE="", LOG_LEVEL="warning", LOG_FORMAT="Console", SMTP_TLS="TLS")
    assert (settings.server.port, settings.database.pool_size) == (8000, 20)
    assert (settings.log.level, settings.log.format) == ("WARNING", "console")
    assert (settings.smtp.tls.value, settings.smtp.port) == ("tls", 465)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "70000", "PORT: must be between 1 and 65535, got 70000"),
        ("PUBLIC_RATE_LIMIT", "1000001", "PUBLIC_RATE_LIMIT: must be between 0 and 1000000, got 1000001"),
        ("SMTP_TIMEOUT_SECONDS", "0", "SMTP_TIMEOUT_SECONDS: must be between 0.1 and 300, got 0"),
        ("OUTBOX_POLL_SECONDS", "x", "OUTBOX_POLL_SECONDS: expected a number, got 'x'"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'"),
    ],
)
def test_a_refused_value_is_explained_in_full(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_with(**{variable: value})
    assert str(caught.value) == message


def test_each_variable_is_declared_once_and_every_number_is_bounded() -> None:
    groups = [
        Settings,
        *(
            hint
            for hint in get_type_hints(Settings).values()
            if isinstance(hint, type) and issubclass(hint, msgspec.Struct)
        ),
    ]
    seen: set[str] = set()
    for group in groups:
        for name, hint in get_type_hints(group, include_extras=True).items():
            metadata = getattr(hint, "__metadata__", ())
            variables = {meta.name for meta in metadata if isinstance(meta, Env)}
            assert len(variables) <= 1, f"{group.__name__}.{name}"
            assert not seen & variables, f"{variables} declared twice"
            seen |= variables
            if variables and get_args(hint)[0] in (int, float):
                bounds = next(meta for meta in metadata if isinstance(meta, Meta))
                assert bounds.ge is not None, variables
                assert bounds.le is not None, variables
    assert {"ROLLCALL_ENV", "PORT", "DATABASE_URL", "SMTP_FROM", "WORKER_METRICS_PORT", "OUTBOX_LEASE_SECONDS"} <= seen


def test_dev_token_reads_the_data_dir_and_claims_from_the_settings(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "AUTH_TENANT_CLAIM": "org", "AUTH_AUDIENCE": "spa"}
    result = rollcall("dev-token", "--tenant", "demo-club", env=env)
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip().splitlines()[-1], options={"verify_signature": False})
    assert (claims["org"], claims["aud"]) == ("demo-club", "spa")
    assert dev_jwks_path(tmp_path).exists()

    bad = rollcall("dev-token", "--tenant", "demo-club", env={**env, "AUTH_LEEWAY_SECONDS": "soon"})
    assert bad.returncode != 0
    assert "invalid setting AUTH_LEEWAY_SECONDS: expected an integer, got 'soon'" in bad.stderr
