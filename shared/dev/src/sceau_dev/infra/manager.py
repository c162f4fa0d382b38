"""``sceau infra up|down|status``: start, stop and report the local Kafka and MongoDB servers.

FerretDB stores on SQLite by default; ``--store postgresql`` (or ``SCEAU_MONGO_STORE=postgresql``)
runs it on a local PostgreSQL cluster instead, started and stopped with it (docs/infrastructure.md).
``SCEAU_SQLITE_SYNCHRONOUS=full`` makes the SQLite store sync its log at every commit (default
``normal``: see ``mongo_server.store_flags``).

Idempotent: ``up`` leaves running servers alone and starts what is missing; ``down`` stops what runs
and keeps the data (``--purge`` deletes it). State (pids, ports) is kept in
``.sceau/infra/state.json``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sceau_dev.infra import kafka_server, mongo_server, postgres_server
from sceau_dev.infra.process import InfraError, Progress, pid_alive, port_open, stop_pid

DEFAULT_KAFKA_PORT = 19092
DEFAULT_MONGO_PORT = 27018
DEFAULT_POSTGRES_PORT = 27019


def find_project_home(start: Path | None = None) -> Path:
    """Return the folder holding ``.sceau/``: ``$SCEAU_HOME`` or the workspace root above cwd."""
    env = os.environ.get("SCEAU_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.exists() and "[tool.uv.workspace]" in pyproject.read_text():
            return folder
    return here


def default_cache_dir() -> Path:
    """Return the per-user cache for downloaded and built servers."""
    env = os.environ.get("SCEAU_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "sceau"


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise InfraError(f"{name}={raw!r} is not a TCP port")
    return int(raw)


def _env_choice(name: str, choices: tuple[str, ...], what: str) -> str:
    """The environment's choice among ``choices`` (the first when unset), or a clear refusal."""
    chosen = os.environ.get(name) or choices[0]
    if chosen not in choices:
        raise InfraError(f"{name}={chosen!r} is not {what}; choose one of {', '.join(choices)}")
    return chosen


def _env_store() -> str:
    return _env_choice("SCEAU_MONGO_STORE", mongo_server.STORES, "a store")


def _env_sqlite_synchronous() -> str:
    return _env_choice("SCEAU_SQLITE_SYNCHRONOUS", mongo_server.SQLITE_SYNCHRONOUS, "a setting")


@dataclass(frozen=True)
class InfraSettings:
    """Where the local servers listen and keep their files."""

    home: Path = field(default_factory=find_project_home)
    cache_dir: Path = field(default_factory=default_cache_dir)
    kafka_port: int = field(
        default_factory=lambda: _env_port("SCEAU_KAFKA_PORT", DEFAULT_KAFKA_PORT)
    )
    mongo_port: int = field(
        default_factory=lambda: _env_port("SCEAU_MONGO_PORT", DEFAULT_MONGO_PORT)
    )
    mongo_store: str = field(default_factory=_env_store)
    sqlite_synchronous: str = field(default_factory=_env_sqlite_synchronous)
    postgres_port: int = field(
        default_factory=lambda: _env_port("SCEAU_POSTGRES_PORT", DEFAULT_POSTGRES_PORT)
    )
    timeout_s: float = 180.0

    @property
    def uses_postgres(self) -> bool:
        """Return whether FerretDB runs on PostgreSQL (never with ``mongod``)."""
        return self.mongo_store == "postgresql" and mongo_server.engine() == "ferretdb"

    @property
    def state_dir(self) -> Path:
        """Return the project-local, git-ignored folder for data, logs and state."""
        return self.home / ".sceau" / "infra"

    def kafka(self) -> kafka_server.KafkaConfig:
        """Return the broker's configuration."""
        return kafka_server.KafkaConfig(
            port=self.kafka_port,
            controller_port=self.kafka_port + 1,
            data_dir=self.state_dir / "kafka",
            log_file=self.state_dir / "logs" / "kafka.log",
        )

    def postgres(self) -> postgres_server.PostgresConfig:
        """Return the PostgreSQL cluster's configuration (for ``--store postgresql``)."""
        return postgres_server.PostgresConfig(
            port=self.postgres_port,
            data_dir=postgres_server.reachable_data_dir(self.state_dir / "postgres"),
            log_file=self.state_dir / "logs" / "postgres.log",
        )

    def mongo(self) -> mongo_server.MongoConfig:
        """Return the MongoDB-protocol server's configuration."""
        return mongo_server.MongoConfig(
            port=self.mongo_port,
            data_dir=self.state_dir / "mongo",
            log_file=self.state_dir / "logs" / "mongo.log",
            store=self.mongo_store,
            postgresql_url=self.postgres().url if self.uses_postgres else None,
            sqlite_synchronous=self.sqlite_synchronous,
        )


@dataclass
class ComponentStatus:
    """What ``status`` reports for one server."""

    name: str
    running: bool
    address: str
    pid: int | None
    detail: str = ""


class Infra:
    """Start, stop and inspect the local servers described by :class:`InfraSettings`."""

    def __init__(self, settings: InfraSettings, progress: Progress) -> None:
        self.settings = settings
        self._progress = progress
        self._state_file = settings.state_dir / "state.json"

    def _load(self) -> dict[str, Any]:
        if not self._state_file.exists():
            return {}
        try:
            data: dict[str, Any] = json.loads(self._state_file.read_text())
        except json.JSONDecodeError:
            return {}
        return data

    def _save(self, state: dict[str, Any]) -> None:
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps(state, indent=2))

    @staticmethod
    def _is_up(entry: dict[str, Any] | None) -> bool:
        return bool(
            entry and pid_alive(int(entry["pid"])) and port_open("127.0.0.1", int(entry["port"]))
        )

    def up(self) -> dict[str, str]:
        """Start whatever is not running; return the client addresses."""
        self.up_mongo()
        state = self._load()
        kafka_cfg = self.settings.kafka()
        if self._is_up(state.get("kafka")) and state["kafka"]["port"] == kafka_cfg.port:
            self._progress(f"Kafka already running on {kafka_cfg.bootstrap}")
        else:
            self._progress(f"starting Kafka {kafka_server.KAFKA_VERSION} on port {kafka_cfg.port}")
            pid = kafka_server.start(
                kafka_cfg,
                self.settings.cache_dir,
                self._progress,
                timeout_s=self.settings.timeout_s,
            )
            state["kafka"] = {"pid": pid, "port": kafka_cfg.port}
            self._save(state)
            self._progress(f"Kafka ready on {kafka_cfg.bootstrap}")
        return self.addresses()

    def up_mongo(self) -> str:
        """Start the MongoDB-protocol server (and its PostgreSQL store) if needed; return its URI.

        A server already running with another store is left alone and reported: switching stores
        is ``sceau infra down`` then ``up --store …`` (each store keeps its own data).
        """
        state = self._load()
        mongo_cfg = self.settings.mongo()
        what = mongo_server.describe(mongo_cfg.store)
        running = state.get("mongo")
        if self._is_up(running) and running is not None and running["port"] == mongo_cfg.port:
            running_store = running.get("store", mongo_server.STORES[0])  # older state: SQLite
            if running.get("engine") == "ferretdb" and running_store != mongo_cfg.store:
                raise InfraError(
                    f"the MongoDB-protocol server on port {mongo_cfg.port} runs FerretDB on "
                    f"{running_store}, not {mongo_cfg.store}; stop it first (`sceau infra down`)"
                )
            if not self.settings.uses_postgres or self._is_up(state.get("postgres")):
                self._progress(f"MongoDB-protocol server already running on {mongo_cfg.uri}")
                return mongo_cfg.uri
            # Its PostgreSQL went away: FerretDB's pooled connections are dead (each would fail
            # one query), so both start afresh.
            self._progress(f"PostgreSQL is down under {what}; restarting both")
            mongo_server.stop(int(running["pid"]))
            del state["mongo"]
            self._save(state)
        if self.settings.uses_postgres:
            self._up_postgres(state)
        self._progress(f"starting {what} on port {mongo_cfg.port}")
        pid = mongo_server.start(
            mongo_cfg,
            self.settings.cache_dir,
            self._progress,
            timeout_s=self.settings.timeout_s,
        )
        state["mongo"] = {
            "pid": pid,
            "port": mongo_cfg.port,
            "engine": mongo_server.engine(),
            "store": mongo_cfg.store,
        }
        self._save(state)
        self._progress(f"{what} ready on {mongo_cfg.uri}")
        return mongo_cfg.uri

    def _up_postgres(self, state: dict[str, Any]) -> None:
        pg_cfg = self.settings.postgres()
        if self._is_up(state.get("postgres")) and state["postgres"]["port"] == pg_cfg.port:
            self._progress(f"PostgreSQL already running on 127.0.0.1:{pg_cfg.port}")
            return
        self._progress(f"starting PostgreSQL on port {pg_cfg.port} (store for FerretDB)")
        pid = postgres_server.start(pg_cfg, self._progress, timeout_s=self.settings.timeout_s)
        state["postgres"] = {"pid": pid, "port": pg_cfg.port}
        self._save(state)
        self._progress(f"PostgreSQL ready on 127.0.0.1:{pg_cfg.port}")

    def addresses(self) -> dict[str, str]:
        """Return the environment variables clients use to reach the servers."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.kafka().bootstrap,
            "MONGODB_URI": self.settings.mongo().uri,
        }

    def down(self, *, purge: bool = False) -> None:
        """Stop the servers (Kafka first, PostgreSQL after FerretDB) and optionally delete data."""
        state = self._load()
        for name, stopper in (
            ("kafka", kafka_server.stop),
            ("mongo", mongo_server.stop),
            ("postgres", postgres_server.stop),
        ):
            entry = state.pop(name, None)
            if entry and pid_alive(int(entry["pid"])):
                self._progress(f"stopping {name} (pid {entry['pid']})")
                stopper(int(entry["pid"]))
            self._save(state)
        if purge:
            for folder in ("kafka", "mongo", "postgres"):
                shutil.rmtree(self.settings.state_dir / folder, ignore_errors=True)
            shutil.rmtree(self.settings.postgres().data_dir, ignore_errors=True)
            self._progress("data deleted")

    def status(self) -> list[ComponentStatus]:
        """Report each server: running or not, where, with which pid."""
        state = self._load()
        result = []
        components = [
            ("kafka", self.settings.kafka().bootstrap),
            ("mongo", self.settings.mongo().uri),
        ]
        if self.settings.uses_postgres or "postgres" in state:
            components.append(("postgres", self.settings.postgres().url))
        for name, address in components:
            entry = state.get(name)
            running = self._is_up(entry)
            detail = str(entry.get("engine", "")) if entry else ""
            if entry and detail == "ferretdb":
                detail = mongo_server.describe(str(entry.get("store", mongo_server.STORES[0])))
            result.append(
                ComponentStatus(
                    name=name,
                    running=running,
                    address=address,
                    pid=int(entry["pid"]) if entry else None,
                    detail=detail,
                )
            )
        return result


def stop_component(pid: int) -> None:
    """Stop a server started by :class:`Infra` (exposed for tests that restart the broker)."""
    stop_pid(pid, timeout_s=45)
