"""Issuer integration fixtures: the real app (lifespan included) on real Kafka and FerretDB."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from issuer_support import IssuerHarness
from pydantic import SecretStr

from sceau_issuer.app import create_api
from sceau_issuer.settings import IssuerSettings
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration


def issuer_settings(
    kafka_settings: KafkaSettings, mongo_settings: MongoSettings, **overrides: Any
) -> IssuerSettings:
    values: dict[str, Any] = {
        "kafka": kafka_settings,
        "mongo": mongo_settings,
        "http": HttpSettings(
            port=8001,
            public_base_url="http://issuer.test",
            max_body_bytes=8 * 1024 * 1024,
            rate_limit_per_minute=1000,
        ),
        "master_key": SecretStr(base64.b64encode(os.urandom(32)).decode()),
        "registry_public_url": "http://registry.test:8002",
        "sign_workers": 0,
        "status_debounce_s": 0.2,
        "batch_lease_s": 2.0,
        "worker_poll_s": 0.2,
        "batch_chunk_size": 20,
        "outbox_relays": 1,
    }
    values.update(overrides)
    return IssuerSettings(**values)


@pytest.fixture
def settings(kafka_settings: KafkaSettings, mongo_settings: MongoSettings) -> IssuerSettings:
    return issuer_settings(kafka_settings, mongo_settings)


@pytest.fixture
async def harness(settings: IssuerSettings, mongo_client: Any) -> AsyncIterator[IssuerHarness]:
    app = create_api(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        # The manager's app hands the lifespan state (the graph) to each request.
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://issuer.test") as http:
            yield IssuerHarness(app, http, settings)
