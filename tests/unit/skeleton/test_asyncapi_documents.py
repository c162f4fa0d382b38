"""The topic table of docs/architecture.md is what the code says (AsyncAPI generated from it).

Each service's AsyncAPI document comes from its ``DEFINITION``: the consumer router (what it
receives) and ``publishes`` (what it sends). A topic added in code and not in the table, or the
reverse, fails here.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from sceau_dev.testing.asyncapi import asyncapi_topics, documented_topics, read_topic_table
from sceau_shared.service.asyncapi import build_asyncapi

ROOT = Path(__file__).resolve().parents[3]
KEY = SecretStr(base64.b64encode(b"k" * 32).decode())


def _definition_and_settings(service: str) -> tuple[Any, Any]:
    if service == "issuer":
        from sceau_issuer.app import DEFINITION as issuer
        from sceau_issuer.settings import IssuerSettings

        return issuer, IssuerSettings(_env_file=None, master_key=KEY)  # type: ignore[call-arg]
    if service == "registry":
        from sceau_registry.app import DEFINITION as registry
        from sceau_registry.settings import RegistrySettings

        return registry, RegistrySettings(
            _env_file=None,  # type: ignore[call-arg]
            operator_token=SecretStr("t" * 32),
            master_key=KEY,
        )
    if service == "verifier":
        from sceau_verifier.app import DEFINITION as verifier
        from sceau_verifier.settings import VerifierSettings

        return verifier, VerifierSettings(_env_file=None)  # type: ignore[call-arg]
    from sceau_notifier.app import DEFINITION as notifier
    from sceau_notifier.settings import NotifierSettings

    return notifier, NotifierSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("service", ["issuer", "registry", "verifier", "notifier"])
def test_architecture_topic_table_matches_the_generated_asyncapi(service: str) -> None:
    definition, settings = _definition_and_settings(service)
    document = build_asyncapi(definition, settings)
    rows = read_topic_table(ROOT / "docs" / "architecture.md")
    generated = asyncapi_topics(document, topic_prefix=settings.kafka.topic_prefix)
    assert generated == documented_topics(rows, service)


def test_every_service_publishes_its_asyncapi_document_beside_openapi() -> None:
    from sceau_issuer.app import create_api

    _, settings = _definition_and_settings("issuer")
    app = create_api(settings)
    paths = {getattr(route, "path", "") for route in app.routes}
    assert "/asyncapi.json" in paths
