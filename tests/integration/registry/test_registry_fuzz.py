"""Fuzz every public and operator operation of the OpenAPI document against the ASGI app.

The app's lifespan runs on real Kafka and FerretDB (schemathesis starts it in its own event loop
thread); requests carry the operator token so the handlers behind it are exercised too. Whatever
schemathesis sends — valid or invalid — the answer must never be a 5xx, and every error must be
``application/problem+json``.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import status_code_conformance

from sceau_registry.app import create_api
from sceau_registry.settings import RegistrySettings

pytestmark = [
    pytest.mark.integration,
    # schemathesis' own strategies use `random` (a hypothesis deprecation, not our code).
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

OPERATOR_TOKEN = "integration-operator-token-0123456789"


def test_no_server_error_and_problem_details_for_any_input(
    registry_settings: RegistrySettings, mongo_client: Any
) -> None:
    app = create_api(registry_settings)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        path_regex="^/(healthz|readyz)$"
    )
    auth = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    try:
        # A known institution, so that path parameters sometimes hit real records.
        seed = schema["/v1/admin/institutions"]["POST"].Case(
            body={
                "institution_id": "fuzz-inst",
                "legal_name": {"fr": "Fuzz", "en": "Fuzz"},
                "category": "university",
                "jurisdiction": "CA-QC",
                "did_method": "hosted-web",
            },
            media_type="application/json",
        )
        assert seed.call(headers=auth).status_code == 201
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) >= 14
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=20,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def check(case: Any) -> None:
                    generated = {
                        k: v
                        for k, v in (case.headers or {}).items()
                        if k.lower() != "authorization"
                    }
                    headers = {**generated, **auth}
                    response = case.call(headers=headers)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    try:
                        case.validate_response(
                            response, checks=[not_a_server_error, status_code_conformance]
                        )
                    except AssertionError as error:
                        failures.append(f"{case.method} {case.formatted_path}: {error}"[:600])
                    if response.status_code >= 400:
                        kind = ";".join(response.headers.get("content-type", []))
                        if not kind.startswith("application/problem+json"):
                            failures.append(
                                f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code} as {kind!r}"
                            )

                try:
                    check()
                except Unsatisfiable:
                    # No parameter can be made invalid (e.g. /.well-known/did.json).
                    assert mode is GenerationMode.NEGATIVE, operation.path
        # Without the token every operator operation is refused, whatever the input.
        for operation in operations:
            if not operation.path.startswith("/v1/admin"):
                continue

            @settings(max_examples=5, deadline=None, database=None)
            @given(case=operation.as_strategy())
            def refused(case: Any) -> None:
                headers = {
                    k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
                }
                assert case.call(headers=headers).status_code == 401

            refused()
    finally:
        shutdown_lifespans()
    assert failures == []
    # The fuzzing reached the handlers (successes) and their validation (client errors).
    assert sum(statuses.values()) >= 200, statuses
    assert {200, 201, 422} <= set(statuses), statuses
