"""The one entry point: every ``python -m sceau_<service>`` is a call to :func:`run_service`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import FastAPI

from sceau_shared.logs import configure_logging
from sceau_shared.runner import serve
from sceau_shared.runtime import ServiceSettings, http_of, kafka_of, mongo_of

__all__ = ["run_service"]

S = TypeVar("S", bound=ServiceSettings)


def run_service(
    name: str,
    *,
    settings_type: Callable[[], S],
    env_prefix: str,
    create_api: Callable[[S], FastAPI],
    workers: Callable[[S], int] | None = None,
    worker_factory: str | None = None,
) -> int:
    """Log as the service, load settings, check Kafka (and MongoDB if it stores), then serve.

    Returns the process exit code (2 for a bad setting or an unreachable dependency, with one
    line naming the problem).
    """
    configure_logging(name)
    return serve(
        name,
        settings_factory=settings_type,
        env_prefix=env_prefix,
        app_factory=create_api,
        http=http_of,
        kafka=kafka_of,
        mongo=mongo_of,
        workers=workers,
        worker_factory=worker_factory,
    )
