"""Pytest fixtures (loaded with ``pytest_plugins = ["sceau_dev.testing.fixtures"]``).

Every test gets its own topic prefix and database name, so tests never see each other's messages
or documents even when they share one broker and one server.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from sceau_dev.testing.infrastructure import Endpoints, real_infrastructure
from sceau_shared.settings import KafkaSettings, MongoSettings


@pytest.fixture(scope="session")
def real_endpoints() -> Iterator[Endpoints]:
    """Real Kafka and MongoDB for the whole session (env, testcontainers or local infra)."""
    with real_infrastructure() as endpoints:
        yield endpoints


@pytest.fixture
def unique_id() -> str:
    """A short random id for naming this test's resources."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
def kafka_settings(real_endpoints: Endpoints, unique_id: str) -> KafkaSettings:
    """Kafka settings whose topics are private to this test."""
    return KafkaSettings(
        bootstrap_servers=real_endpoints.kafka_bootstrap,
        topic_prefix=f"t{unique_id}.",
        client_id=f"test-{unique_id}",
    )


@pytest.fixture
def mongo_settings(real_endpoints: Endpoints, unique_id: str) -> MongoSettings:
    """MongoDB settings pointing at a database private to this test."""
    return MongoSettings(uri=SecretStr(real_endpoints.mongo_uri), database=f"t_{unique_id}")


@pytest.fixture
async def mongo_client(
    mongo_settings: MongoSettings,
) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """A client for this test only (one event loop per test); drops its database after."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_settings.uri.get_secret_value(), tz_aware=True
    )
    try:
        yield client
    finally:
        await client.drop_database(mongo_settings.database)
        await client.close()
