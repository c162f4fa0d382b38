"""Fuzz every operation of the OpenAPI document: no input may cause a 5xx.

The app runs under uvicorn in a thread (its lifespan on real Kafka and FerretDB); schemathesis
generates valid and invalid requests from the app's own OpenAPI document, authenticated as a real
institution so that the handlers behind authentication are exercised too.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from sceau_credentials.ob3.models import ACHIEVEMENT_TYPES
from sceau_dev.infra.process import free_port
from sceau_dev.testing.polling import eventually_sync
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.app import create_api
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    InstitutionRegisteredV1,
    InstitutionStatus,
)

pytestmark = pytest.mark.integration

#: OpenID4VCI endpoints answering errors as OAuth JSON (``error``, ``error_description``).
OAUTH_ENDPOINTS = ("/oid4vci/{institution_id}/token", "/oid4vci/{institution_id}/credential")


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


@pytest.fixture
def served(settings: IssuerSettings) -> Iterator[tuple[str, Any, dict[str, str]]]:
    app = create_api(settings)
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    eventually_sync(lambda: server.started, timeout_s=60, interval_s=0.05, message="server started")

    async def setup() -> str:
        svc = app.state.graph
        await svc.tenants.register(
            InstitutionRegisteredV1(
                producer="test",
                institution_id="fuzz-inst",
                legal_name={"fr": "Fuzz", "en": "Fuzz"},
                category="college",
                jurisdiction="CA-ON",
            )
        )
        await svc.tenants.apply_accreditation(
            AccreditationChangedV1(
                producer="test",
                institution_id="fuzz-inst",
                status=InstitutionStatus.ACTIVE,
                scopes=[
                    AccreditationScope(
                        achievement_types=sorted(ACHIEVEMENT_TYPES),
                        valid_from=datetime.now(UTC) - timedelta(days=1),
                    )
                ],
                effective_at=datetime.now(UTC),
            )
        )
        created = await svc.api_keys.create("fuzz-inst", "fuzz", list(Scope))
        return str(created.token)

    token = asyncio.run_coroutine_threadsafe(setup(), loop).result(timeout=30)
    try:
        yield f"http://127.0.0.1:{port}", app, {"Authorization": f"Bearer {token}"}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()


# schemathesis' negative generation uses ``random`` inside strategies, which Hypothesis flags.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_no_server_error_for_any_generated_input(
    served: tuple[str, Any, dict[str, str]],
) -> None:
    base_url, app, auth = served
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=8,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                headers = {**auth, "Idempotency-Key": uuid.uuid4().hex}
                headers.update(case.headers or {})
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} -> {response.status_code}: "
                        f"{response.text[:200]}"
                    )
                elif response.status_code >= 400:
                    content_type = (response.headers.get("content-type") or [""])[0]
                    if case.path.endswith(OAUTH_ENDPOINTS) and content_type.startswith(
                        "application/json"
                    ):
                        # Wallets read OAuth errors (RFC 6749 §5.2); refusals made before the
                        # endpoint runs (path validation, rate limits) stay problem details.
                        assert "error" in response.json(), case.path
                        return
                    assert content_type.startswith("application/problem+json"), (
                        case.method,
                        case.formatted_path,
                        response.status_code,
                    )

            try:
                check()
            except Unsatisfiable:
                # No invalid input exists for an operation without parameters (e.g. /healthz).
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert failures == []
