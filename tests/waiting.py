"""Waiting on facts, not time: the test suite's one polling helper, for async tests and for sync ones.

A test that needs something to have happened (a row delivered, a server up, an email received) waits
for that fact with :func:`wait_for` (or :func:`wait_for_sync` outside an event loop), never with a
fixed sleep: a sleep is too short on a slow machine and wasted time on a fast one. A lease is expired
in SQL, not by sleeping past it; "nothing more happens" is checked after waiting for the fact that
proves the work is finished (its delivery row, its event's status), not after a pause.

The timeout is generous (the machines running the suite are shared and can be slow): a passing wait
returns as soon as its fact holds, so only a failing test ever waits that long.
"""

from __future__ import annotations

import asyncio
import inspect
import reprlib
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["WITHIN_SECONDS", "wait_for", "wait_for_sync"]

T = TypeVar("T")

WITHIN_SECONDS = 30.0
"""How long a wait gives its fact before the test fails."""
_POLL_SECONDS = 0.02
_POLL_SECONDS_SYNC = 0.05


async def wait_for(
    check: Callable[[], Awaitable[T]] | Callable[[], T], *, within: float = WITHIN_SECONDS, what: str | None = None
) -> T:
    """Call ``check`` (a function or a coroutine function) until it returns something truthy; return that.

    Fails with an AssertionError naming ``what`` (or ``check``) and its last result after ``within``
    seconds; an exception ``check`` raises ends the wait at once.
    """
    deadline = time.monotonic() + within
    while True:
        result: Any = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(check, within, what, result))
        await asyncio.sleep(_POLL_SECONDS)  # the polling interval: the next look at the fact


def wait_for_sync(check: Callable[[], T], *, within: float = WITHIN_SECONDS, what: str | None = None) -> T:
    """:func:`wait_for` for a test without an event loop (real processes, blocking clients)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(_timed_out(check, within, what, result))
        time.sleep(_POLL_SECONDS_SYNC)  # the polling interval: the next look at the fact


def _timed_out(check: Callable[..., Any], within: float, what: str | None, last: object) -> str:
    name = what or getattr(check, "__qualname__", repr(check))
    return f"timed out after {within:g} s waiting for {name} (last result: {reprlib.repr(last)})"
