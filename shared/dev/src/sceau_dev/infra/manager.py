"""``sceau infra up|down|status``: start, stop and report the local Kafka and MongoDB servers.

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

from sceau_dev.infra import kafka_server, mongo_server
from sceau_dev.infra.process import InfraError, Progress, pid_alive, port_open, stop_pid

DEFAULT_KAFKA_PORT = 19092
DEFAULT_MONGO_PORT = 27018


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
    timeout_s: float = 180.0

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

    def mongo(self) -> mongo_server.MongoConfig:
        """Return the MongoDB-protocol server's configuration."""
        return mongo_server.MongoConfig(
            port=self.mongo_port,
            data_dir=self.state_dir / "mongo",
            log_file=self.state_dir / "logs" / "mongo.log",
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
        state = self._load()
        kafka_cfg = self.settings.kafka()
        mongo_cfg = self.settings.mongo()
        if self._is_up(state.get("mongo")) and state["mongo"]["port"] == mongo_cfg.port:
            self._progress(f"MongoDB-protocol server already running on {mongo_cfg.uri}")
        else:
            self._progress(f"starting {mongo_server.engine()} on port {mongo_cfg.port}")
            pid = mongo_server.start(
                mongo_cfg,
                self.settings.cache_dir,
                self._progress,
                timeout_s=self.settings.timeout_s,
            )
            state["mongo"] = {"pid": pid, "port": mongo_cfg.port, "engine": mongo_server.engine()}
            self._save(state)
            self._progress(f"{mongo_server.engine()} ready on {mongo_cfg.uri}")
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

    def addresses(self) -> dict[str, str]:
        """Return the environment variables clients use to reach the servers."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.settings.kafka().bootstrap,
            "MONGODB_URI": self.settings.mongo().uri,
        }

    def down(self, *, purge: bool = False) -> None:
        """Stop both servers (Kafka first, so it can finish writing) and optionally delete data."""
        state = self._load()
        for name, stopper in (("kafka", kafka_server.stop), ("mongo", mongo_server.stop)):
            entry = state.pop(name, None)
            if entry and pid_alive(int(entry["pid"])):
                self._progress(f"stopping {name} (pid {entry['pid']})")
                stopper(int(entry["pid"]))
            self._save(state)
        if purge:
            for folder in ("kafka", "mongo"):
                shutil.rmtree(self.settings.state_dir / folder, ignore_errors=True)
            self._progress("data deleted")

    def status(self) -> list[ComponentStatus]:
        """Report each server: running or not, where, with which pid."""
        state = self._load()
        result = []
        for name, address in (
            ("kafka", self.settings.kafka().bootstrap),
            ("mongo", self.settings.mongo().uri),
        ):
            entry = state.get(name)
            running = self._is_up(entry)
            detail = str(entry.get("engine", "")) if entry else ""
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
