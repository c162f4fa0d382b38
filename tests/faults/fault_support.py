"""What the fault suite injects faults into: its own database server, a slow SMTP relay, a stack,
and a hostile did:web host.

The MongoDB-protocol server is this suite's own, started on a free port with its own data folder
(the same launcher as ``sceau infra``): pausing it with SIGSTOP must never stall the shared
server other tests (or other checkouts) use. The broker is the shared one; each run has its own
topic prefix and databases.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from sceau_credentials.dids import PublishedKey, institution_did_document
from sceau_credentials.keys import SigningKey
from sceau_dev.infra import mongo_server
from sceau_dev.infra.manager import default_cache_dir
from sceau_dev.infra.process import free_port, stop_pid
from sceau_dev.testing.stack import Stack, StackConfig

#: How long the database is paused. The issue's reproduction used 45 s and 90 s; 20 s is kept
#: because it is already longer than every deadline involved (2-s handler deadline, 10-s request
#: deadline, 5-s retry cap below), so the faults bite the same way in less CI time.
PAUSE_S = 20.0

#: The suite's services: short deadlines and retry pauses so a 20-s pause is a long outage.
FAULT_ENV: dict[str, dict[str, str]] = {
    "registry": {
        "REGISTRY_KAFKA__HANDLER_DEADLINE_S": "2",
        "REGISTRY_KAFKA__RETRY_MAX_BACKOFF_S": "5",
    },
    "issuer": {
        "ISSUER_SIGN_WORKERS": "0",
        "ISSUER_KAFKA__HANDLER_DEADLINE_S": "2",
        "ISSUER_KAFKA__RETRY_MAX_BACKOFF_S": "5",
    },
    "notifier": {
        "NOTIFIER_KAFKA__HANDLER_DEADLINE_S": "2",
        "NOTIFIER_KAFKA__RETRY_MAX_BACKOFF_S": "5",
        "NOTIFIER_SMTP__POOL_SIZE": "1",
        # A lease far shorter than a batch takes on the slow relay below.
        "NOTIFIER_EMAIL_RETRY__LEASE_S": "2",
        "NOTIFIER_EMAIL_RETRY__BASE_DELAY_S": "1",
        "NOTIFIER_CONSUMER__SWEEP_INTERVAL_S": "0.5",
    },
}


@dataclass
class FaultDatabase:
    """A MongoDB-protocol server this suite owns, and can pause."""

    uri: str
    pid: int
    pauses: int = 0

    @asynccontextmanager
    async def paused(self, seconds: float = PAUSE_S) -> AsyncIterator[None]:
        """Stop the server (SIGSTOP) for ``seconds`` while the block runs, then resume it.

        The block runs during the pause; the pause lasts ``seconds`` even when the block ends
        sooner. If the block fails, the server resumes at once.
        """
        os.kill(self.pid, signal.SIGSTOP)
        self.pauses += 1
        started = time.monotonic()
        try:
            yield
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
        finally:
            os.kill(self.pid, signal.SIGCONT)


@contextmanager
def own_database(folder: Path) -> Iterator[FaultDatabase]:
    """Start a MongoDB-protocol server on a free port with its data in ``folder``."""
    config = mongo_server.MongoConfig(
        port=free_port(), data_dir=folder / "data", log_file=folder / "server.log"
    )
    pid = mongo_server.start(config, default_cache_dir(), lambda _: None, timeout_s=120)
    try:
        yield FaultDatabase(uri=config.uri, pid=pid)
    finally:
        os.kill(pid, signal.SIGCONT)  # never leave it stopped (it could not then be stopped)
        stop_pid(pid, timeout_s=20)


class _SlowHandler:
    def __init__(self, relay: SlowSmtp) -> None:
        self._relay = relay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self._relay.delay_s)
        message = message_from_bytes(envelope.content)
        with self._relay.lock:
            self._relay.received[str(message.get("Message-ID"))] += 1
        return "250 OK"


@dataclass
class SlowSmtp:
    """An SMTP relay on loopback that answers each message after ``delay_s`` (aiosmtpd)."""

    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    received: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def running(self) -> Iterator[SlowSmtp]:
        """Listen while the block runs."""
        controller = Controller(_SlowHandler(self), hostname="127.0.0.1", port=self.port)
        controller.start()
        try:
            yield self
        finally:
            controller.stop()

    def counts(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        with self.lock:
            return Counter(self.received)


def peak_memory_mb(stack: Stack) -> dict[str, float]:
    """Each service's peak resident memory so far (VmHWM), in MB."""
    peaks: dict[str, float] = {}
    for name, service in stack.services.items():
        if service.process is None:
            continue
        status = Path(f"/proc/{service.process.pid}/status")
        for line in status.read_text().splitlines() if status.exists() else []:
            if line.startswith("VmHWM:"):
                peaks[name] = int(line.split()[1]) / 1024
    return peaks


@contextmanager
def running_fault_stack(
    kafka_bootstrap: str, database: FaultDatabase, smtp: SlowSmtp, log_dir: Path
) -> Iterator[Stack]:
    """The registry, the issuer and the notifier on the suite's own database server."""
    run = uuid.uuid4().hex[:8]
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongo_uri=database.uri,
        log_dir=log_dir,
        topic_prefix=f"fault{run}.",
        database_prefix=f"fault_{run}_",
        ports={name: free_port() for name in ("registry", "issuer", "verifier", "notifier")},
        smtp_port=smtp.port,
        extra_env=FAULT_ENV,
        services=("registry", "issuer", "notifier"),
        rate_limit_per_minute=0,
    )
    stack = Stack(config)
    try:
        stack.start(timeout_s=120)
        yield stack
    finally:
        stack.stop()


def figures(scenario: str, **values: object) -> str:
    """One line of a scenario's figures (printed; docs/reliability.md keeps the table)."""
    line = f"[faults] {scenario}: " + ", ".join(f"{k}={v}" for k, v in values.items())
    print(line)
    return line


class _HostileHandler(BaseHTTPRequestHandler):
    """Answers ``/<kind>/<n>/did.json`` as a hostile did:web host would (see HostileDidHost)."""

    server: _HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        host = self.server.host
        parts = self.path.strip("/").split("/")
        with host.lock:
            host.requests += 1
        try:
            if len(parts) != 3 or parts[2] != "did.json":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind, name = parts[0], parts[1]
            did = f"did:web:127.0.0.1%3A{host.port}:{kind}:{name}"
            if kind == "slow":
                # Headers at once (a plausible size), then a few bytes a second: only a
                # deadline ends it.
                self.send_response(200)
                self.send_header("Content-Type", "application/did+json")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                for _ in range(int(host.slow_s)):
                    self.wfile.write(b" " * 8)
                    self.wfile.flush()
                    time.sleep(1.0)
                return
            if kind == "huge":
                body = json.dumps({"id": did, "padding": "x" * host.huge_bytes}).encode()
            else:  # "fat", "big": well-formed, with a key that signed nothing here
                size = host.fat_bytes if kind == "fat" else host.big_bytes
                body = json.dumps(host.fat_document(did, size)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/did+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.close_connection = True


class _HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    host: HostileDidHost


@dataclass
class HostileDidHost:
    """A did:web host on loopback that serves huge (1 MB), slow (dripping) and fat documents.

    ``/huge/<n>/did.json`` is 1 MB at once; ``/slow/<n>/did.json`` drips 8 bytes a second for
    ``slow_s``; ``/fat/<n>/did.json`` (about 60 KB, under the verifier's limit) and
    ``/big/<n>/did.json`` (about 250 KB, under the limit before issue 18) are well-formed
    documents made of thousands of small objects, whose key signed nothing the verifier sees:
    what fills a cache and costs a deep copy per hit.
    """

    port: int = field(default_factory=free_port)
    huge_bytes: int = 1024 * 1024
    slow_s: float = 30.0
    fat_bytes: int = 60_000
    big_bytes: int = 250_000
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fat_document(self, did: str, size: int) -> dict[str, Any]:
        key = SigningKey.from_seed(b"\x07" * 32, did, "key-1")
        document = institution_did_document(did, [PublishedKey("key-1", key.public_key_multibase)])
        entry = len(did) + 60
        document["service"] = [
            {"id": f"{did}#s{n}", "type": "Padding", "serviceEndpoint": f"https://a.example/{n}"}
            for n in range(size // entry)
        ]
        return document

    def did(self, kind: str, name: str) -> str:
        return f"did:web:127.0.0.1%3A{self.port}:{kind}:{name}"

    @contextmanager
    def running(self) -> Iterator[HostileDidHost]:
        """Serve on a thread while the block runs."""
        server = _HostileServer(("127.0.0.1", self.port), _HostileHandler)
        server.host = self
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()


def memory_mb(pid: int) -> tuple[float, float]:
    """``(resident now, peak resident)`` of a process, in MB (VmRSS, VmHWM)."""
    values = {"VmRSS:": 0.0, "VmHWM:": 0.0}
    status = Path(f"/proc/{pid}/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        name = line.split(maxsplit=1)[0] if line else ""
        if name in values:
            values[name] = int(line.split()[1]) / 1024
    return values["VmRSS:"], values["VmHWM:"]
