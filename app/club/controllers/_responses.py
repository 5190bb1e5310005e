"""What the club's admin controllers share: the problem responses each kind of operation documents."""

from __future__ import annotations

from app.core.errors import problem_responses

__all__ = ["CREATE", "LIST", "READ", "WRITE"]

LIST = problem_responses(400, 401, 403)
READ = problem_responses(400, 401, 403, 404)
CREATE = problem_responses(400, 401, 403, 409, 413, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 413, 422)
