"""Find real Kafka and MongoDB for tests, in this order of preference.

1. ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URI`` from the environment (CI, a developer's own
servers);
2. testcontainers, when a Docker engine answers;
3. the project's local infrastructure (``sceau infra up``), started on demand.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoints:
    """Addresses of the real servers tests talk to."""

    kafka_bootstrap: str
    mongo_uri: str
    source: str


def docker_available() -> bool:
    """Return whether a Docker engine answers (the client alone is not enough)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=2)
    except Exception:  # noqa: BLE001 - no usable client configuration means "no engine"
        return False
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - any failure means "no engine"
        return False
    finally:
        client.close()


@contextmanager
def _containers() -> Iterator[Endpoints]:  # pragma: no cover - needs a Docker engine
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    with (
        KafkaContainer("apache/kafka:4.1.0").with_kraft() as kafka,
        MongoDbContainer("mongo:7") as mongo,
    ):
        yield Endpoints(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            mongo_uri=mongo.get_connection_url(),
            source="testcontainers",
        )


@contextmanager
def real_infrastructure() -> Iterator[Endpoints]:
    """Yield the endpoints of real servers for a whole test session."""
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if kafka and mongo:
        yield Endpoints(kafka_bootstrap=kafka, mongo_uri=mongo, source="environment")
        return
    if docker_available():
        with _containers() as endpoints:
            yield endpoints
        return
    from sceau_dev.infra.manager import Infra, InfraSettings

    def progress(message: str) -> None:
        print(f"[infra] {message}", file=sys.stderr, flush=True)  # noqa: T201

    addresses = Infra(InfraSettings(), progress).up()
    # Left running on purpose: the next test run (and the developer) reuse it; `sceau infra down`.
    yield Endpoints(
        kafka_bootstrap=addresses["KAFKA_BOOTSTRAP_SERVERS"],
        mongo_uri=addresses["MONGODB_URI"],
        source="local",
    )
