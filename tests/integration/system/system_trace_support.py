"""Support for the system trace test: three services in one process, one span exporter.

A uniquely named module (test modules are imported by basename; tests are not packages). The
issuer, registry and notifier run as their real ASGI apps (lifespans included) on the real broker
and MongoDB-protocol server; each gets its own ``Telemetry`` (its own ``service.name``) whose
tracer provider writes to one shared :class:`InMemorySpanExporter`, so the test reads the spans
of all three services as one collector would.
"""

from __future__ import annotations

import base64
import itertools
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from achievement_samples import micro_credential
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pydantic import SecretStr

from sceau_dev.testing.tracing import pymongo_spans_to
from sceau_issuer.app import create_api as create_issuer
from sceau_issuer.settings import IssuerSettings
from sceau_notifier.app import create_api as create_notifier
from sceau_notifier.settings import ConsumerSettings, NotifierSettings, SmtpSettings
from sceau_registry.app import create_api as create_registry
from sceau_registry.settings import RegistrySettings
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings, TelemetrySettings
from sceau_shared.telemetry import Telemetry, setup_telemetry

REGISTRY_URL = "http://registry.test:8002"
MONGO_CLIENT = "pymongo-in-test"  # service.name of the shared PyMongo instrumentation's spans
OPERATOR_TOKEN = "system-trace-operator-token-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Sceau-Actor": "system-trace"}

# An achievement the issuer accepts (same shape as the issuer tests' micro-credential).
MICRO: dict[str, Any] = micro_credential(
    hours=5,
    modules=1,
    instruction_languages=["fr", "en"],
    credit_status="non-credit",
    validity_months=24,
)


# --- SMTP ------------------------------------------------------------------------------------


class _Sink:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(bytes(envelope.content))
        return "250 OK"


@dataclass
class SmtpSink:
    """A real SMTP server on loopback and what it received."""

    host: str
    port: int
    sink: _Sink

    def count(self) -> int:
        with self.sink.lock:
            return len(self.sink.messages)

    def subjects(self) -> list[str]:
        with self.sink.lock:
            raw = list(self.sink.messages)
        out = []
        for message in raw:
            for line in message.decode("utf-8", "replace").splitlines():
                if line.lower().startswith("subject:"):
                    out.append(line)
        return out


def _free_port() -> int:
    # aiosmtpd's Controller connects to its own port to check it started: it needs a real one.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[SmtpSink]:
    """Run an aiosmtpd server on a free loopback port."""
    sink = _Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink("127.0.0.1", port, sink)
    finally:
        controller.stop()


# --- settings --------------------------------------------------------------------------------


def _key() -> SecretStr:
    return SecretStr(base64.b64encode(os.urandom(32)).decode())


def _mongo(base: MongoSettings, suffix: str) -> MongoSettings:
    # Each service owns its own database, as in production.
    return MongoSettings(uri=base.uri, database=f"{base.database}_{suffix}")


def issuer_settings(kafka: KafkaSettings, mongo: MongoSettings) -> IssuerSettings:
    return IssuerSettings(
        kafka=kafka,
        mongo=_mongo(mongo, "iss"),
        http=HttpSettings(
            port=8001,
            public_base_url="http://issuer.test",
            max_body_bytes=8 * 1024 * 1024,
            rate_limit_per_minute=1000,
        ),
        master_key=_key(),
        registry_public_url=REGISTRY_URL,
        sign_workers=0,
        status_debounce_s=0.2,
        worker_poll_s=0.2,
        outbox_relays=1,
    )


def registry_settings(kafka: KafkaSettings, mongo: MongoSettings) -> RegistrySettings:
    return RegistrySettings(
        operator_token=SecretStr(OPERATOR_TOKEN),
        master_key=_key(),
        kafka=kafka,
        mongo=_mongo(mongo, "reg"),
        http=HttpSettings(port=8002, public_base_url=REGISTRY_URL, rate_limit_per_minute=0),
        cache_ttl_s=0.2,
        trust_list_poll_s=0.5,
        outbox_poll_s=0.1,
    )


def notifier_settings(
    kafka: KafkaSettings, mongo: MongoSettings, smtp: SmtpSink, group: str
) -> NotifierSettings:
    return NotifierSettings(
        kafka=kafka,
        mongo=_mongo(mongo, "not"),
        operator_token=OPERATOR_TOKEN,
        verifier_public_url="https://verify.sceau.example",
        smtp=SmtpSettings(
            host=smtp.host, port=smtp.port, tls="none", sender="Sceau <no-reply@sceau.example>"
        ),
        consumer=ConsumerSettings(group_prefix=group, sweep_interval_s=0.5, max_records=50),
    )


def databases(mongo: MongoSettings) -> list[str]:
    """The databases the three services use (dropped by the test afterwards)."""
    return [f"{mongo.database}_{suffix}" for suffix in ("iss", "reg", "not")]


# --- the running system ----------------------------------------------------------------------


@dataclass
class System:
    """The three running apps, an HTTP client to each, and the spans they finished."""

    issuer: FastAPI
    registry: FastAPI
    issuer_http: httpx.AsyncClient
    registry_http: httpx.AsyncClient
    exporter: InMemorySpanExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


@asynccontextmanager
async def running_system(
    kafka: KafkaSettings, mongo: MongoSettings, smtp: SmtpSink, group: str
) -> AsyncIterator[System]:
    """Start registry, issuer and notifier in this process, each with its own telemetry."""
    exporter = InMemorySpanExporter()

    def telemetry(name: str) -> Telemetry:
        return setup_telemetry(
            name,
            TelemetrySettings(),
            extra_span_processors=(SimpleSpanProcessor(exporter),),
        )

    tel_issuer = telemetry("sceau-issuer")
    tel_registry = telemetry("sceau-registry")
    tel_notifier = telemetry("sceau-notifier")
    issuer = create_issuer(issuer_settings(kafka, mongo), telemetry=tel_issuer)
    registry = create_registry(registry_settings(kafka, mongo), telemetry=tel_registry)
    notifier = create_notifier(notifier_settings(kafka, mongo, smtp, group), telemetry=tel_notifier)
    # One process-wide PyMongo instrumentation serves the three services here, so its spans get
    # a provider of their own (in production each process has its own); their parent is the
    # span current when the command runs, so they still sit in the right service's tree.
    tel_mongo = telemetry(MONGO_CLIENT)
    with pymongo_spans_to(tel_mongo.tracer_provider):
        async with AsyncExitStack() as stack:
            # Requests go through each manager's app: it carries the lifespan state (the
            # service's graph) into every request, as a server would.
            registry_served, _, issuer_served = [
                (
                    await stack.enter_async_context(
                        LifespanManager(app, startup_timeout=60, shutdown_timeout=30)
                    )
                ).app
                for app in (registry, notifier, issuer)
            ]
            issuer_http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=issuer_served), base_url="http://issuer.test"
                )
            )
            registry_http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=registry_served), base_url=REGISTRY_URL
                )
            )
            try:
                yield System(issuer, registry, issuer_http, registry_http, exporter)
            finally:
                for tel in (tel_issuer, tel_registry, tel_notifier):
                    tel.tracer_provider.force_flush()
    for tel in (tel_issuer, tel_registry, tel_notifier, tel_mongo):
        tel.shutdown()


# --- span trees ------------------------------------------------------------------------------


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get("service.name", ""))


def chain_to_root(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """``span`` and its ancestors up to the root; fails if a parent is missing (a broken link)."""
    by_id = {s.context.span_id: s for s in spans if s.context.trace_id == span.context.trace_id}
    chain = [span]
    while chain[-1].parent is not None:
        parent_id = chain[-1].parent.span_id
        assert parent_id in by_id, (
            f"span {chain[-1].name!r} ({service_of(chain[-1])}) has a parent that was never "
            f"exported: the trace is broken there"
        )
        chain.append(by_id[parent_id])
        assert len(chain) < 100, "cycle in the span tree"
    return chain


def describe(chain: Sequence[ReadableSpan]) -> str:
    """Readable chain for assertion messages: ``service: name`` from the span to the root."""
    return " <- ".join(f"{service_of(s)}: {s.name} [{s.kind.name}]" for s in chain)


def producer_hops(chain: Sequence[ReadableSpan]) -> list[tuple[ReadableSpan, ReadableSpan]]:
    """Pairs (consumer span, its parent) where the parent is a producer span of another service."""
    hops = []
    for child, parent in itertools.pairwise(chain):
        if (
            child.kind is SpanKind.CONSUMER
            and parent.kind is SpanKind.PRODUCER
            and service_of(child) != service_of(parent)
        ):
            hops.append((child, parent))
    return hops
