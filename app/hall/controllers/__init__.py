"""The hall's API, one module per resource."""

from app.hall.controllers.books import BookController
from app.hall.controllers.employers import EmployerController
from app.hall.controllers.members import MemberController

__all__ = ["BookController", "EmployerController", "MemberController"]
