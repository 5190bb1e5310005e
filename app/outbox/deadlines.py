"""Handler timeouts: a handler run that passes its deadline is cancelled and fails with HandlerTimeoutError.

One watchdog task per relay checks the running handlers a few times per
timeout, instead of a timer per run: a timer costs several times what a no-op
handler does, and a worker runs thousands of handlers a second. The price is
precision: a run is cancelled between ``seconds`` and ``seconds`` plus a
quarter of it (at most one second) after it started.
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

__all__ = ["HandlerDeadlines", "HandlerTimeoutError"]


class HandlerTimeoutError(TimeoutError):
    """A handler run took longer than OUTBOX_HANDLER_TIMEOUT_SECONDS and was cancelled."""


class HandlerDeadlines:
    """``with deadlines.run("name"):`` around each handler call, from inside the task that runs it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._running: dict[asyncio.Task[Any], _Run] = {}
        self._watchdog: asyncio.Task[None] | None = None

    def run(self, handler: str) -> _Run:
        return _Run(self, handler)

    def stop_when_idle(self) -> None:
        """Cancel the watchdog if no handler runs (it would end by itself within one tick)."""
        if not self._running and self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _start(self, run: _Run) -> None:
        self._running[run.task] = run
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch(), name="outbox-handler-deadlines")

    async def _watch(self) -> None:
        # Sleep first: a handler that never suspends is done before the first look, so the watchdog only
        # lives while handlers actually wait.
        tick = min(self.seconds / 4, 1.0)
        while True:
            await asyncio.sleep(tick)
            if not self._running:
                break
            now = time.monotonic()
            for run in list(self._running.values()):
                if not run.fired and run.deadline <= now:
                    run.fired = True
                    run.task.cancel()
        self._watchdog = None


class _Run:
    """One handler run under its deadline. A cancellation the watchdog caused becomes HandlerTimeoutError;
    any other (the worker stopping) propagates unchanged."""

    __slots__ = ("deadline", "deadlines", "fired", "handler", "task")

    def __init__(self, deadlines: HandlerDeadlines, handler: str) -> None:
        self.deadlines = deadlines
        self.handler = handler
        self.fired = False
        self.deadline = 0.0
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a handler deadline needs a running task")
        self.task = task

    def __enter__(self) -> None:
        self.deadline = time.monotonic() + self.deadlines.seconds
        self.deadlines._start(self)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        del self.deadlines._running[self.task]
        if self.fired and self.task.uncancel() == 0 and exc_type is asyncio.CancelledError:
            seconds = self.deadlines.seconds
            raise HandlerTimeoutError(f"handler {self.handler!r} did not return within {seconds:g} s") from None
