"""Fault suite: real faults (a paused database server, a slow SMTP relay) in real processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fault_support import FaultDatabase, SlowSmtp, own_database, running_fault_stack

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.stack import Stack


@pytest.fixture(scope="session")
def fault_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultDatabase]:
    """The suite's own MongoDB-protocol server (the shared one is never paused)."""
    with own_database(tmp_path_factory.mktemp("fault-database")) as database:
        yield database


@pytest.fixture(scope="session")
def slow_smtp() -> Iterator[SlowSmtp]:
    """The SMTP relay the notifier sends to (fast until a test slows it down)."""
    with SlowSmtp().running() as relay:
        yield relay


@pytest.fixture(scope="session")
def fault_stack(
    real_endpoints: Endpoints,
    fault_database: FaultDatabase,
    slow_smtp: SlowSmtp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """Registry, issuer and notifier as processes on the suite's database server."""
    with running_fault_stack(
        real_endpoints.kafka_bootstrap,
        fault_database,
        slow_smtp,
        tmp_path_factory.mktemp("fault-logs"),
    ) as stack:
        yield stack
