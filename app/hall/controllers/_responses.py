"""The problem responses each kind of hall operation documents.

Every hall operation can answer 404: a club's caller finds no hall routes (``hall_tenants_only``).
"""

from __future__ import annotations

from app.core.errors import problem_responses

__all__ = ["CREATE", "DELETE", "LIST", "READ", "WRITE"]

LIST = problem_responses(400, 401, 403, 404)
READ = problem_responses(400, 401, 403, 404)
CREATE = problem_responses(400, 401, 403, 404, 409, 413)
WRITE = problem_responses(400, 401, 403, 404, 409, 413)
DELETE = problem_responses(400, 401, 403, 404, 409)
