"""Fixtures of the end-to-end tests: one running system shared by the tests that can share it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from system_support import System, running_system

from sceau_dev.testing.infrastructure import Endpoints


@pytest.fixture(scope="session")
def system(real_endpoints: Endpoints, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The four services on the shared Kafka and MongoDB server (own topics and databases).

    Each test onboards its own college and learners, so the tests stay independent while paying
    the services' start-up once.
    """
    with running_system(
        real_endpoints.kafka_bootstrap,
        real_endpoints.mongo_uri,
        tmp_path_factory.mktemp("e2e-system-logs"),
    ) as started:
        yield started
