"""Real components for notifier integration tests: SMTP sink, HTTP receivers, the app itself.

A uniquely named module (not ``conftest``) so test files can import its helpers whichever other
``conftest`` modules the whole suite loaded; ``conftest.py`` re-exports the fixtures.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from pymongo.asynchronous.database import AsyncDatabase

from sceau_dev.testing import polling
from sceau_notifier.app import create_api
from sceau_notifier.clock import Clock
from sceau_notifier.graph import NotifierGraph, compose_graph
from sceau_notifier.settings import (
    ConsumerSettings,
    NotifierSettings,
    ReminderSettings,
    RetrySettings,
    SmtpSettings,
    WebhookSettings,
)
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings, MongoSettings

OPERATOR_TOKEN = "operator-test-token-123456"


class SinkHandler:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@dataclass
class SmtpSink:
    host: str
    port: int
    handler: SinkHandler

    def parsed(self) -> list[EmailMessage]:
        with self.handler.lock:
            raw = [m[2] for m in self.handler.messages]
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raw]

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.messages)

    async def wait_for(self, n: int, within: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + within
        while self.count() < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} messages, got {self.count()}")
            await asyncio.sleep(0.05)
        return self.parsed()


def free_port() -> int:
    # aiosmtpd's Controller connects to its own port to check it started, so it needs a real one.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSink("127.0.0.1", port, handler)
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A real HTTP server on loopback; ``behaviour`` decides each answer."""

    port: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    behaviour: Callable[[int], int | None] = lambda n: 200  # None = never answer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    receiver: Receiver
    stop_event: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        receiver = self.server.receiver
        receiver.requests.append({"headers": dict(self.headers.items()), "body": body})
        status = receiver.behaviour(len(receiver.requests))
        if status is None:
            # Never answer: hold the connection until the test ends.
            self.server.stop_event.wait(30)
            return
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stop_event = threading.Event()
    rec = Receiver(port=server.server_address[1])
    server.receiver = rec
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.stop_event.set()
        server.shutdown()
        server.server_close()


def make_settings(
    kafka: KafkaSettings, mongo: MongoSettings, sink: SmtpSink, *, group: str, **over: Any
) -> NotifierSettings:
    values: dict[str, Any] = {
        "kafka": kafka,
        "mongo": mongo,
        "operator_token": OPERATOR_TOKEN,
        "verifier_public_url": "https://verify.sceau.example",
        "smtp": SmtpSettings(
            host=sink.host, port=sink.port, tls="none", sender="Sceau <no-reply@sceau.example>"
        ),
        "email_retry": RetrySettings(base_delay_s=0.2, factor=2, max_attempts=3, lease_s=2),
        "webhooks": WebhookSettings(
            allow_private=True,
            allowed_schemes=frozenset({"http", "https"}),
            timeout_s=0.5,
            secret_key=base64.b64encode(os.urandom(32)).decode(),
            retry=RetrySettings(base_delay_s=0.2, factor=2, max_attempts=4, jitter=0.1, lease_s=5),
        ),
        "reminders": ReminderSettings(poll_interval_s=0.2),
        "consumer": ConsumerSettings(group_prefix=group, sweep_interval_s=0.2, max_records=50),
    }
    values.update(over)
    return NotifierSettings(**values)


@pytest.fixture
def notifier_settings(
    kafka_settings: KafkaSettings,
    mongo_settings: MongoSettings,
    smtp_sink: SmtpSink,
    unique_id: str,
) -> NotifierSettings:
    return make_settings(kafka_settings, mongo_settings, smtp_sink, group=f"notifier-{unique_id}")


@dataclass
class Running:
    client: httpx.AsyncClient
    app: Any

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {OPERATOR_TOKEN}"}


@asynccontextmanager
async def running(settings: NotifierSettings, **kwargs: Any) -> AsyncIterator[Running]:
    app = create_api(settings, **kwargs)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifier") as client:
            yield Running(client=client, app=app)


@asynccontextmanager
async def graph_on(
    settings: NotifierSettings, db: AsyncDatabase[dict[str, Any]], *, clock: Clock
) -> AsyncIterator[NotifierGraph]:
    """The notifier's graph on ``db`` with a hand-moved clock: no broker, no loops running."""
    graph = await compose_graph(settings, db, clock=clock, dead_letters=None)
    try:
        yield graph
    finally:
        await graph.close()


@pytest.fixture
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[EventPublisher]:
    broker = create_broker(kafka_settings, client_id="notifier-tests")
    await broker.connect()
    try:
        yield EventPublisher(broker, kafka_settings, producer="tests")
    finally:
        await broker.stop()


async def eventually(check: Callable[[], Any], within: float = 20.0, step: float = 0.1) -> Any:
    """The notifier tests' defaults for the one polling helper (sceau_dev.testing.polling)."""
    return await polling.eventually(
        check, timeout_s=within, interval_s=step, message="notifier test condition"
    )
