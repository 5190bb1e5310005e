"""arq workers: ``arq workers.WorkerSettings`` or ``rollcall worker``.

``WorkerSettings`` is built on first access from the environment, so importing
this package has no side effects; tests build theirs with ``worker_settings``.
"""

from __future__ import annotations

from typing import Any

from workers.settings import worker_settings

__all__ = ["WorkerSettings", "worker_settings"]


def __getattr__(name: str) -> Any:
    if name == "WorkerSettings":
        from app.config import load_settings_or_exit

        return worker_settings(load_settings_or_exit())
    raise AttributeError(name)
