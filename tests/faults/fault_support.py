"""What the fault suite injects faults into: its own database server, a slow SMTP relay, a stack.

The MongoDB-protocol server is this suite's own, started on a free port with its own data folder
(the same launcher as ``sceau infra``): pausing it with SIGSTOP must never stall the shared
server other tests (or other checkouts) use. The broker is the shared one; each run has its own
topic prefix and databases.
"""

from __future__ import annotations

import asyncio
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
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

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
