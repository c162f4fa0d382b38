"""Starting and clearing what a demo run needs around the four services.

The services themselves are started and stopped by ``sceau_dev.testing.stack.Stack`` (the
end-to-end tests use the same); this module adds the demo's ports, its SMTP sink and webhook
receiver, and dropping the run's databases afterwards.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from sceau_demo.mail import SmtpSink
from sceau_demo.webhooks import WebhookReceiver
from sceau_dev.infra.process import free_port
from sceau_dev.testing.stack import SERVICES, StackConfig

#: The services' usual ports (the README and the compose file use the same).
DEFAULT_PORTS = {"issuer": 8001, "registry": 8002, "verifier": 8003, "notifier": 8004}


def choose_ports(free: bool) -> dict[str, int]:
    """The usual ports, or free ones when another program (or demo) holds them."""
    return {name: free_port() for name in DEFAULT_PORTS} if free else dict(DEFAULT_PORTS)


def busy_ports(ports: dict[str, int]) -> list[str]:
    """``"<service> (<port>)"`` for every chosen port something already listens on."""
    return [f"{name} ({port})" for name, port in ports.items() if port_in_use(port)]


def run_config(
    *, kafka: str, mongo: str, run_id: str, output: Path, ports: dict[str, int]
) -> StackConfig:
    """The stack of one run: its own topic prefix and databases, so runs never see each other."""
    return StackConfig(
        kafka_bootstrap=kafka,
        mongo_uri=mongo,
        log_dir=output / "logs",
        topic_prefix=f"demo{run_id}.",
        database_prefix=f"demo_{run_id}_",
        ports=ports,
        smtp_port=free_port(),
    )


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def drop_databases(config: StackConfig) -> None:
    """Remove this run's databases (topics stay: they are cheap and named per run)."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        config.mongo_uri, serverSelectionTimeoutMS=5000
    )
    try:
        for service in SERVICES:
            client.drop_database(f"{config.database_prefix}{service}")
    finally:
        client.close()


@contextlib.contextmanager
def running_sinks(smtp_port: int, webhook_port: int) -> Iterator[tuple[SmtpSink, WebhookReceiver]]:
    """The SMTP sink and the webhook receiver, stopped on exit."""
    smtp = SmtpSink(smtp_port)
    hooks = WebhookReceiver(webhook_port)
    smtp.start()
    hooks.start()
    try:
        yield smtp, hooks
    finally:
        hooks.stop()
        smtp.stop()
