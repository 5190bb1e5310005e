"""How handlers ask for the app's own objects: by name, as dependencies the app provides (``app.asgi``).

They are the process's objects, not request input, so Litestar does not validate them (``SkipValidation``):
it could not (``Settings`` holds unions of IP networks), and it need not.
"""

from __future__ import annotations

from litestar.di import NamedDependency
from litestar.params import SkipValidation

from app.config import Settings

__all__ = ["AppSettings"]

AppSettings = NamedDependency[SkipValidation[Settings]]
"""The process's settings (dependency ``settings``)."""
