"""A registry and an issuer of their own for ``bench/seed.py --start-stack``.

They run as real processes from this checkout (``sceau_dev.testing.stack``, as the end-to-end tests
start them) on free ports, beside the Kafka and MongoDB-protocol servers named by
``KAFKA_BOOTSTRAP_SERVERS``/``MONGODB_URI``, with a topic prefix and database names of their own,
so a seeding run never sees another run's data. Only the two services seeding talks to are
started: the verifier and the notifier are not needed to load data.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from sceau_dev.infra.process import free_port
from sceau_dev.testing.stack import Stack, StackConfig, service_env

STARTED = ("registry", "issuer")
SECRETS = ("operator_token", "issuer_master_key", "registry_master_key", "webhook_secret_key")


@dataclass(frozen=True)
class StartedStack:
    """How to reach the started services, and a working folder for the run."""

    registry: str
    issuer: str
    operator_token: str
    issuer_env: dict[str, str]
    folder: Path
    secrets: dict[str, str]


def log(message: str) -> None:
    print(f"[seed stack] {message}", flush=True)


@contextlib.contextmanager
def started_stack(
    run: str, *, keep: bool, secrets: dict[str, str] | None = None
) -> Iterator[StartedStack]:
    """Start the registry and the issuer; yield how to reach them and a working folder.

    ``secrets`` (the operator token and master keys of an earlier run, see
    :attr:`StartedStack.secrets`) let a resumed run open the keys its kept databases hold.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"sceau-seed-{run}-"))
    extra: dict[str, Any] = dict(secrets or {})  # operator token and master keys, all strings
    config = StackConfig(
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        mongo_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/"),
        log_dir=folder / "logs",
        topic_prefix=f"seed{run}.",
        database_prefix=f"seed_{run}_",
        ports={name: free_port() for name in ("issuer", "registry", "verifier", "notifier")},
        smtp_port=free_port(),
        **extra,
    )
    stack = Stack(config)
    try:
        for name in STARTED:
            stack[name].start()
        for name in STARTED:
            stack[name].wait_ready(120)
        log(f"stack up: registry {config.url('registry')}, issuer {config.url('issuer')}")
        log(f"logs in {config.log_dir}; databases {config.database_prefix}*")
        yield StartedStack(
            registry=config.url("registry"),
            issuer=config.url("issuer"),
            operator_token=config.operator_token,
            issuer_env=service_env(config, "issuer"),
            folder=folder,
            secrets={name: getattr(config, name) for name in SECRETS},
        )
    finally:
        for name in STARTED:
            stack[name].stop()
        if not keep:
            client: MongoClient[dict[str, Any]] = MongoClient(config.mongo_uri)
            for name in STARTED:
                client.drop_database(f"{config.database_prefix}{name}")
            client.close()
            log("stack stopped; its databases dropped (--keep keeps them)")
