"""Property-based test driven by the OpenAPI document: every operation, generated valid and invalid inputs.

For each operation Schemathesis generates requests from the document, ones that fit it and ones that do
not, sends them to the running app (its lifespan, PostgreSQL, Redis, an admin's token: a club's, or a hall's for the
hall's operations, which a club cannot reach) and checks each
answer against the document: a documented status code and content type, a body that validates against
the documented schema, no 5xx, a 4xx for every input the document rules out and no 4xx for a valid one
that the document does not list.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from litestar import Litestar
from schemathesis.generation import GenerationMode

from app.hall.routes import HALL_PATH

pytestmark = pytest.mark.usefixtures("tenants")

EXAMPLES_PER_OPERATION = 10
"""Few, fixed examples per operation and mode (derandomized): the run stays short and repeatable."""
VALID_BUT_REFUSED = ["2xx", "401", "403", "404", "409", "422", "429"]
"""What a request that fits the document may still get: no token or role, no such resource, a state that does
not allow it (409), or a business rule the document cannot express (422, e.g. the link's contract version)."""


def check_operation(operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    answers_as_documented()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_answers_as_the_document_says(
    app: Litestar, admin_token: str, hall_admin_token: str, mode: GenerationMode
) -> None:
    document = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    document.config.checks.positive_data_acceptance.expected_statuses = VALID_BUT_REFUSED
    club = {"Authorization": f"Bearer {admin_token}"}
    hall = {"Authorization": f"Bearer {hall_admin_token}"}
    failures = []
    operations = [result.ok() for result in document.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        try:
            check_operation(operation, mode, hall if operation.path.startswith(HALL_PATH) else club)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label  # nothing the document rules out: no input
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001  (every operation is checked, every failure reported)
            failures.append(f"{operation.label}:\n{failure}")
    assert not failures, "\n\n".join(failures)
