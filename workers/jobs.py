"""Job functions: tiny, taking a ctx and plain arguments (never ORM objects)."""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["ping"]


async def ping(ctx: dict[str, Any]) -> str:
    """Answer which worker took the job: proves a worker consumes the queue (``rollcall worker-ping``)."""
    return f"pong from {socket.gethostname()}:{os.getpid()}"
