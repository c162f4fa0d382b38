"""Process entrypoint helpers: load settings, check dependencies, then serve or refuse.

An operator who starts a service with a bad setting (malformed MongoDB URI, unreachable broker)
gets one line on stderr naming the problem and exit code 2, not a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from sceau_shared.heap import settle_heap
from sceau_shared.mongo import create_client, ping
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings
from sceau_shared.workers import supervise

S = TypeVar("S", bound=BaseSettings)

EXIT_BAD_CONFIG = 2


class StartupError(Exception):
    """A reason the service must not start, phrased for an operator."""


def describe_settings_error(exc: ValidationError, env_prefix: str) -> str:
    """Turn a settings validation error into one line naming the environment variables at fault."""
    parts = []
    for err in exc.errors():
        path = "__".join(str(p) for p in err.get("loc", ()))
        var = f"{env_prefix}{path}".upper()
        parts.append(f"{var}: {err.get('msg', 'invalid')}")
    return "invalid settings: " + "; ".join(parts)


def load_settings(factory: Callable[[], S], *, env_prefix: str) -> S:
    """Build settings from the environment or raise :class:`StartupError` with a one-line reason."""
    try:
        return factory()
    except ValidationError as exc:
        raise StartupError(describe_settings_error(exc, env_prefix)) from exc


async def check_kafka(settings: KafkaSettings, *, timeout_s: float = 10.0) -> None:
    """Raise :class:`StartupError` unless the broker answers a metadata request in ``timeout_s``.

    A bare aiokafka client is used here rather than a FastStream broker: a broker whose start
    fails leaves an unclosed producer behind, which would print noise after our one-line reason.
    """
    from aiokafka import AIOKafkaClient

    quiet = logging.getLogger("aiokafka")
    previous = quiet.level
    quiet.setLevel(logging.CRITICAL)
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap_servers, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout=timeout_s)
    except Exception as exc:
        raise StartupError(
            f"Kafka at {settings.bootstrap_servers} is unreachable "
            f"({type(exc).__name__} within {timeout_s:.0f}s)"
        ) from exc
    finally:
        await client.close()
        quiet.setLevel(previous)


async def check_mongo(settings: MongoSettings, *, timeout_s: float = 10.0) -> None:
    """Raise :class:`StartupError` unless MongoDB answers a ping within ``timeout_s``."""
    try:
        client = create_client(settings, app_name="sceau-preflight")
    except Exception as exc:  # pymongo validates the URI when the client is built
        raise StartupError(f"MongoDB URI is not usable: {exc}") from exc
    try:
        await asyncio.wait_for(ping(client), timeout=timeout_s)
    except Exception as exc:
        raise StartupError(
            f"MongoDB is unreachable ({type(exc).__name__} within {timeout_s:.0f}s)"
        ) from exc
    finally:
        await client.close()


async def preflight(
    *, kafka: KafkaSettings | None, mongo: MongoSettings | None, timeout_s: float = 10.0
) -> None:
    """Check the dependencies a service needs before it accepts any work."""
    if mongo is not None:
        await check_mongo(mongo, timeout_s=timeout_s)
    if kafka is not None:
        await check_kafka(kafka, timeout_s=timeout_s)


def serve(
    name: str,
    *,
    settings_factory: Callable[[], S],
    env_prefix: str,
    app_factory: Callable[[S], FastAPI],
    http: Callable[[S], HttpSettings],
    kafka: Callable[[S], KafkaSettings | None],
    mongo: Callable[[S], MongoSettings | None],
    workers: Callable[[S], int] | None = None,
    worker_factory: str | None = None,
) -> int:
    """Run a service: settings → preflight → uvicorn. Returns the process exit code.

    With ``workers`` answering more than 1, :func:`sceau_shared.workers.supervise` starts that
    many worker processes on the port (and restarts any that dies). Each worker builds its own
    app by calling ``worker_factory`` (``"module:function"``, no arguments, reading the same
    environment), because an app object cannot be handed to another process.
    """
    try:
        settings = load_settings(settings_factory, env_prefix=env_prefix)
        asyncio.run(preflight(kafka=kafka(settings), mongo=mongo(settings)))
        count = workers(settings) if workers is not None else 1
        if count > 1 and worker_factory is None:
            raise StartupError(f"{count} workers asked for, but this service runs only one")
        app = app_factory(settings) if count == 1 else None
    except StartupError as exc:
        print(f"{name}: cannot start: {exc}", file=sys.stderr)  # noqa: T201 - operator output
        return EXIT_BAD_CONFIG
    http_settings = http(settings)
    if app is None:
        return supervise(
            worker_factory or "",
            host=http_settings.host,
            port=http_settings.port,
            workers=count,
            proxy=http_settings.proxy_options(),
        )
    config = uvicorn.Config(
        app,
        host=http_settings.host,
        port=http_settings.port,
        log_config=None,
        access_log=False,
        **http_settings.proxy_options(),
    )
    SettledServer(config).run()
    return 0


class SettledServer(uvicorn.Server):
    """uvicorn, with the heap settled once the lifespan has started (:mod:`sceau_shared.heap`)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        settle_heap()
