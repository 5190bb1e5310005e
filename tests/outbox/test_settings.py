"""The outbox settings: the lease and the handler timeout are read from the environment and bounded."""

from __future__ import annotations

import pytest

from app.config import OutboxSettings, SettingsError


def test_the_lease_and_the_handler_timeout_are_read_from_the_environment() -> None:
    defaults = OutboxSettings.from_env({})
    assert (defaults.lease_seconds, defaults.handler_timeout_seconds) == (3.0, 30.0)
    chosen = OutboxSettings.from_env({"OUTBOX_LEASE_SECONDS": "4.5", "OUTBOX_HANDLER_TIMEOUT_SECONDS": "120"})
    assert (chosen.lease_seconds, chosen.handler_timeout_seconds) == (4.5, 120.0)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("OUTBOX_HANDLER_TIMEOUT_SECONDS", "0", "OUTBOX_HANDLER_TIMEOUT_SECONDS: must be between 0.1 and 3600, got 0"),
        ("OUTBOX_HANDLER_TIMEOUT_SECONDS", "soon", "OUTBOX_HANDLER_TIMEOUT_SECONDS: expected a number, got 'soon'"),
        ("OUTBOX_LEASE_SECONDS", "0.5", "OUTBOX_LEASE_SECONDS: must be between 1 and 3600, got 0.5"),
    ],
)
def test_a_bad_outbox_setting_is_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        OutboxSettings.from_env({variable: value})
    assert str(raised.value) == message
