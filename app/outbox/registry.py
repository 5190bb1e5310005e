"""Event types (name → payload Struct) and the handlers that run for them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "Event",
    "HandlerSpec",
    "MissingResourceError",
    "OutboxRegistry",
    "Skipped",
    "UnknownEventTypeError",
    "handler",
    "register_event_type",
    "registry",
]

P = TypeVar("P", bound=msgspec.Struct)


class Event(msgspec.Struct, Generic[P], frozen=True, kw_only=True):
    """What a handler receives: the event's envelope and its validated payload."""

    id: UUID
    seq: int
    tenant_id: UUID | None
    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: P
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Skipped:
    """Returned by a handler that deliberately does nothing for this event; recorded with the reason."""

    reason: str


HandlerResult = Skipped | None
HandlerFunction = Callable[..., Awaitable[HandlerResult]]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    event_type: str
    name: str
    function: HandlerFunction
    takes_session: bool
    """Handlers that take a ``session`` run in a transaction of their own that also records their delivery;
    the others (no database writes) are recorded in bulk with the rest of their batch."""
    resources: tuple[str, ...] = ()
    """The names of the other keyword parameters: process resources (the notifier, …) the relay injects."""

    async def __call__(
        self, event: Event[Any], session: AsyncSession | None = None, resources: Mapping[str, object] | None = None
    ) -> HandlerResult:
        if not self.resources:  # most handlers: nothing to look up on the hot path
            return await (self.function(event, session) if self.takes_session else self.function(event))
        given = resources or {}
        missing = [name for name in self.resources if name not in given]
        if missing:
            raise MissingResourceError(f"handler {self.name!r} needs {', '.join(missing)}, which this relay lacks")
        injected = {name: given[name] for name in self.resources}
        if self.takes_session:
            return await self.function(event, session, **injected)
        return await self.function(event, **injected)


class UnknownEventTypeError(LookupError):
    """The event type was never registered in this process."""


class MissingResourceError(LookupError):
    """A handler asks for a resource its relay was not given (a wiring mistake, found at relay start)."""


@dataclass
class OutboxRegistry:
    payload_types: dict[str, type[msgspec.Struct]] = field(default_factory=dict)
    handlers: dict[str, list[HandlerSpec]] = field(default_factory=dict)

    def register_event_type(self, event_type: str, payload_type: type[P]) -> type[P]:
        """Declare an event type and the msgspec Struct its payload must be."""
        existing = self.payload_types.get(event_type)
        if existing is not None and existing is not payload_type:
            raise ValueError(f"event type {event_type!r} is already registered with {existing.__name__}")
        self.payload_types[event_type] = payload_type
        return payload_type

    def payload_type(self, event_type: str) -> type[msgspec.Struct]:
        try:
            return self.payload_types[event_type]
        except KeyError:
            raise UnknownEventTypeError(f"event type {event_type!r} is not registered") from None

    def handler(self, event_type: str, *, name: str) -> Callable[[HandlerFunction], HandlerFunction]:
        """Register ``async def f(event[, session][, resource, …]) -> Skipped | None`` for ``event_type``.

        ``name`` is the idempotency key of the handler's deliveries: renaming a
        handler makes it run again for events not yet delivered. Parameters
        after ``event`` and ``session`` name resources the relay injects
        (``notifier``: the mailer and link template), never module globals.
        """

        def register(function: HandlerFunction) -> HandlerFunction:
            specs = self.handlers.setdefault(event_type, [])
            if any(spec.name == name for spec in specs):
                raise ValueError(f"handler {name!r} is already registered for {event_type!r}")
            parameters = list(inspect.signature(function).parameters)[1:]
            takes_session = bool(parameters) and parameters[0] == "session"
            resources = tuple(parameters[1:] if takes_session else parameters)
            specs.append(HandlerSpec(event_type, name, function, takes_session, resources))
            return function

        return register

    def handlers_for(self, event_type: str) -> list[HandlerSpec]:
        return self.handlers.get(event_type, [])

    def check_resources(self, resources: Mapping[str, object]) -> None:
        """Raise :class:`MissingResourceError` naming every handler that asks for a resource not in ``resources``."""
        missing = sorted(
            f"{spec.name} ({name})"
            for specs in self.handlers.values()
            for spec in specs
            for name in spec.resources
            if name not in resources
        )
        if missing:
            raise MissingResourceError(f"handlers need resources this relay lacks: {', '.join(missing)}")


registry = OutboxRegistry()
"""The process-wide registry that domain modules register into at import."""

register_event_type = registry.register_event_type
handler = registry.handler
