"""Every hall route, under ``/api/v1/hall``, for hall tenants only (a club's caller gets 404)."""

from __future__ import annotations

from litestar import Router
from litestar.types import ControllerRouterHandler

from app.hall.controllers import BookController, EmployerController, MemberController
from app.hall.dispatch.controllers import DispatchController, LaborRequestController
from app.hall.guards import hall_tenants_only
from app.hall.registrations.controllers import RegistrationController

__all__ = ["HALL_PATH", "hall_router"]

HALL_PATH = "/api/v1/hall"

CONTROLLERS: list[ControllerRouterHandler] = [
    MemberController,
    EmployerController,
    BookController,
    RegistrationController,
    LaborRequestController,
    DispatchController,
]
"""One controller per resource (members, employers, books, registrations, …)."""


def hall_router() -> Router:
    return Router(path=HALL_PATH, route_handlers=CONTROLLERS, guards=[hall_tenants_only], tags=["hall"])
