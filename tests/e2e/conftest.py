"""Fixtures of the end-to-end tests: one running system shared by the tests that can share it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from system_support import System, running_system

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.processes import ServiceFailed
from sceau_dev.testing.stack import Stack, StackConfig, free_ports, running_stack


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


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    real_endpoints: Endpoints,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The registry, the issuer and the verifier as processes, on fresh topics and databases.

    One per test module (each module's tests share it); the module's name tags its logs.
    """
    run = uuid.uuid4().hex[:8]
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    config = StackConfig(
        kafka_bootstrap=real_endpoints.kafka_bootstrap,
        mongo_uri=real_endpoints.mongo_uri,
        log_dir=tmp_path_factory.mktemp(f"{module}-logs"),
        topic_prefix=f"e2e{run}.",
        database_prefix=f"e2e_{run}_",
        ports=free_ports(),
        services=("registry", "issuer", "verifier"),
        rate_limit_per_minute=0,
        extra_env={"issuer": {"ISSUER_SIGN_WORKERS": "0"}},
    )
    try:
        with running_stack(config) as started:
            yield started
    except ServiceFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for talking to the stack's services."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client
