"""Running rollcall's own commands as real processes, the way operators do."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_for_sync


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rollcall(*arguments: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``rollcall ARGUMENTS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "app", *arguments],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def rollcall_process(*arguments: str, env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """Start ``rollcall ARGUMENTS``; on exit send SIGTERM and wait for it.

    Output goes to pipes the test reads, or with ``log`` to that file (for long runs: a pipe nobody
    reads fills up and stalls the process).
    """
    with contextlib.ExitStack() as files:
        output: Any = files.enter_context(log.open("w")) if log is not None else subprocess.PIPE
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *arguments],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT if log is not None else subprocess.PIPE,
            text=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_until_ready(base_url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"exited early ({process.returncode}): {process.stderr.read() if process.stderr else ''}"
            )
        try:
            return httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for_sync(ready, within=timeout, what=f"{base_url} to be ready")
