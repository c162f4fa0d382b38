"""The four real services as processes, with the demo's sinks, for the end-to-end tests.

The story's steps live in the package ``scripts/sceau_demo`` (run by ``scripts/demo``, the README's
main command); the tests import it and drive the same functions, so the demo and its tests cannot
drift apart.
"""

from __future__ import annotations

import importlib
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sceau_dev.infra.process import free_port
from sceau_dev.testing.stack import SERVICES, Stack, StackConfig

ROOT = Path(__file__).resolve().parents[2]

#: Settings that make failures observable within a test's time: small batch chunks and a short
#: lease (a crashed batch resumes quickly), in-thread signing (a SIGKILL leaves no orphans),
#: webhook retries within seconds (base 1 s, x2, 4 attempts: dead-lettered after ~7 s), and the
#: issuer's recovery sweeps every 5 s instead of 300 s / 60 s: the events of a chunk whose relay
#: was killed mid-way stay under the dead relay's 30 s lease, and only the next full sweep of the
#: credentials outbox after that lease expires relays them (likewise the status list re-sign).
FAST_ENV: dict[str, dict[str, str]] = {
    "issuer": {
        "ISSUER_SIGN_WORKERS": "0",
        "ISSUER_BATCH_CHUNK_SIZE": "5",
        "ISSUER_BATCH_LEASE_S": "3",
        "ISSUER_WORKER_POLL_S": "0.2",
        "ISSUER_CREDENTIALS_OUTBOX_SWEEP_S": "5",
        "ISSUER_STATUS_POLL_S": "5",
    },
    "notifier": {
        "NOTIFIER_WEBHOOKS__RETRY__BASE_DELAY_S": "1",
        "NOTIFIER_WEBHOOKS__RETRY__FACTOR": "2",
        "NOTIFIER_WEBHOOKS__RETRY__MAX_ATTEMPTS": "4",
        "NOTIFIER_WEBHOOKS__RETRY__JITTER": "0",
        "NOTIFIER_WEBHOOKS__TIMEOUT_S": "3",
        "NOTIFIER_CONSUMER__SWEEP_INTERVAL_S": "0.5",
        # A send claimed by a process that was killed is retried once its claim lapses.
        "NOTIFIER_WEBHOOKS__RETRY__LEASE_S": "5",
        "NOTIFIER_EMAIL_RETRY__LEASE_S": "5",
    },
    "verifier": {"VERIFIER_HTTP__RATE_LIMIT_PER_MINUTE": "0"},
}


def load_demo() -> ModuleType:
    """Import the demo's package ``scripts/sceau_demo`` (it is not installed, like any script)."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.append(scripts)
    return importlib.import_module("sceau_demo")


@dataclass
class System:
    """A running stack and the SMTP sink its notifier sends to."""

    config: StackConfig
    stack: Stack
    smtp: Any
    demo: ModuleType

    def story(self, output: Path, *, cohort_size: int = 10, timeout_s: float = 60.0) -> Any:
        """A new story (own college, own learners, own webhook receiver already listening)."""
        hooks = self.demo.WebhookReceiver(free_port())
        hooks.start()
        return self.demo.Story(
            self.config,
            self.smtp,
            hooks,
            output,
            cohort_size=cohort_size,
            log=lambda message: print(f"[e2e] {message}"),
            timeout_s=timeout_s,
        )

    def logs(self) -> str:
        """The end of every service's log (for failure messages)."""
        return "\n".join(f"--- {name} ---\n{self.stack[name].tail(30)}" for name in SERVICES)


@contextmanager
def running_system(kafka_bootstrap: str, mongo_uri: str, log_dir: Path) -> Iterator[System]:
    """Start the SMTP sink and the four services on free ports, fresh topics and databases."""
    demo = load_demo()
    run = uuid.uuid4().hex[:8]
    config = StackConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongo_uri=mongo_uri,
        log_dir=log_dir,
        topic_prefix=f"e2e{run}.",
        database_prefix=f"e2e_{run}_",
        ports={name: free_port() for name in SERVICES},
        smtp_port=free_port(),
        extra_env=FAST_ENV,
    )
    smtp = demo.SmtpSink(config.smtp_port)
    smtp.start()
    stack = Stack(config)
    try:
        started = time.monotonic()
        stack.start(timeout_s=120)
        print(f"[e2e] four services ready in {time.monotonic() - started:.1f}s")
        yield System(config, stack, smtp, demo)
    finally:
        stack.stop()
        smtp.stop()
        demo.drop_databases(config)
