"""The one launcher of the services as processes: end-to-end tests, the demo and the benchmarks.

This module knows the services only by their environment variables (it imports none of them), and
gives each its ports, its own database, a shared topic prefix, fresh secrets, and the local-only
settings that let them reach each other over plain HTTP on loopback. A :class:`StackConfig` says
which of the four to run (all by default; a benchmark runs one) and how; :func:`running_stack`
starts them, waits until each is ready and stops them afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sceau_dev.infra.process import free_port
from sceau_dev.testing.processes import ServiceProcess

__all__ = [
    "SERVICES",
    "Stack",
    "StackConfig",
    "free_ports",
    "running_stack",
    "service_env",
]

SERVICES = ("registry", "issuer", "verifier", "notifier")


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def free_ports() -> dict[str, int]:
    """A free loopback port for each service (tests and benchmarks run side by side)."""
    return {name: free_port() for name in SERVICES}


@dataclass
class StackConfig:
    """Where the stack runs and what it talks to."""

    kafka_bootstrap: str
    mongo_uri: str
    log_dir: Path
    topic_prefix: str = ""
    database_prefix: str = "sceau_"
    ports: dict[str, int] = field(
        default_factory=lambda: {
            "issuer": 8001,
            "registry": 8002,
            "verifier": 8003,
            "notifier": 8004,
        }
    )
    smtp_port: int = 8025
    operator_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    verifier_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    issuer_master_key: str = field(default_factory=_key)
    registry_master_key: str = field(default_factory=_key)
    webhook_secret_key: str = field(default_factory=_key)
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Which services to run (in start order); the others' URLs are still known to those run.
    services: tuple[str, ...] = SERVICES
    #: The issuer's status re-signing window (short for tests; ``None`` keeps its default).
    status_debounce_s: float | None = 0.2
    #: Every service's per-client HTTP rate limit (``0`` disables; ``None`` keeps the default).
    rate_limit_per_minute: int | None = None
    #: CPU cores a service is pinned to (benchmarks), by service name.
    cpus: dict[str, frozenset[int]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """Return a service's base URL."""
        return f"http://127.0.0.1:{self.ports[service]}"


def service_env(config: StackConfig, service: str) -> dict[str, str]:
    """Return the environment of one service in the stack."""
    prefix = service.upper()
    env = {
        f"{prefix}_KAFKA__BOOTSTRAP_SERVERS": config.kafka_bootstrap,
        f"{prefix}_KAFKA__TOPIC_PREFIX": config.topic_prefix,
        f"{prefix}_HTTP__HOST": "127.0.0.1",
        f"{prefix}_HTTP__PORT": str(config.ports[service]),
        f"{prefix}_HTTP__PUBLIC_BASE_URL": config.url(service),
    }
    if service != "verifier":  # the verifier stores nothing
        env[f"{prefix}_MONGO__URI"] = config.mongo_uri
        env[f"{prefix}_MONGO__DATABASE"] = f"{config.database_prefix}{service}"
    if config.rate_limit_per_minute is not None:
        env[f"{prefix}_HTTP__RATE_LIMIT_PER_MINUTE"] = str(config.rate_limit_per_minute)
    registry_host = f"127.0.0.1:{config.ports['registry']}"
    if service == "issuer":
        env |= {
            "ISSUER_MASTER_KEY": config.issuer_master_key,
            "ISSUER_REGISTRY_PUBLIC_URL": config.url("registry"),
            "ISSUER_VERIFIER_PUBLIC_URL": config.url("verifier"),
        }
        if config.status_debounce_s is not None:
            env["ISSUER_STATUS_DEBOUNCE_S"] = str(config.status_debounce_s)
    elif service == "registry":
        env |= {
            "REGISTRY_OPERATOR_TOKEN": config.operator_token,
            "REGISTRY_MASTER_KEY": config.registry_master_key,
            # The verifier's own rate bucket at the registry (issue 18, item 8).
            "REGISTRY_VERIFIER_TOKEN": config.verifier_token,
        }
    elif service == "verifier":
        env |= {
            "VERIFIER_STATUS__ALLOWED_HOSTS": json.dumps([registry_host]),
            "VERIFIER_STATUS__ALLOW_PRIVATE_HOSTS": "true",
            "VERIFIER_TRUST__REGISTRY_URL": config.url("registry"),
            "VERIFIER_TRUST__REGISTRY_TOKEN": config.verifier_token,
            "VERIFIER_SHARES__ISSUER_URL": config.url("issuer"),
            "VERIFIER_DID_WEB__ALLOW_PRIVATE_HOSTS": "true",
        }
    elif service == "notifier":
        env |= {
            "NOTIFIER_OPERATOR_TOKEN": config.operator_token,
            "NOTIFIER_VERIFIER_PUBLIC_URL": config.url("verifier"),
            "NOTIFIER_SMTP__HOST": "127.0.0.1",
            "NOTIFIER_SMTP__PORT": str(config.smtp_port),
            "NOTIFIER_SMTP__TLS": "none",
            "NOTIFIER_WEBHOOKS__ALLOW_PRIVATE": "true",
            "NOTIFIER_WEBHOOKS__ALLOWED_SCHEMES": json.dumps(["http", "https"]),
            "NOTIFIER_WEBHOOKS__SECRET_KEY": config.webhook_secret_key,
        }
    return env | config.extra_env.get(service, {})


class Stack:
    """Start, watch and stop the configured services as separate processes."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.services = {
            name: ServiceProcess(
                name,
                config.ports[name],
                service_env(config, name),
                config.log_dir,
                cpus=config.cpus.get(name),
            )
            for name in config.services
        }

    def start(self, timeout_s: float = 90.0) -> None:
        """Start every service and wait until each reports ready."""
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_ready(timeout_s)

    def stop(self) -> None:
        """Stop every service."""
        for service in self.services.values():
            service.stop()

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def url(self, name: str) -> str:
        """Return a service's base URL."""
        return self.config.url(name)

    def env(self, name: str) -> dict[str, str]:
        """The whole environment of a service: for its command line (``sceau issuer ...``)."""
        return {**os.environ, **self[name].env}

    def operator_headers(self, actor: str = "stack-operator") -> dict[str, str]:
        """Headers of an operator call (registry and notifier operator APIs)."""
        return {"Authorization": f"Bearer {self.config.operator_token}", "X-Sceau-Actor": actor}

    def logs(self, lines: int = 30) -> str:
        """The end of every service's log (for failure messages)."""
        return "\n".join(
            f"--- {name} ---\n{service.tail(lines)}" for name, service in self.services.items()
        )


@contextmanager
def running_stack(config: StackConfig, *, timeout_s: float = 120.0) -> Iterator[Stack]:
    """Start the configured services, yield once all are ready, stop them afterwards."""
    stack = Stack(config)
    try:
        stack.start(timeout_s=timeout_s)
        yield stack
    finally:
        stack.stop()
