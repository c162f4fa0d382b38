"""The MongoDB-protocol server: ``mongod`` when installed, otherwise FerretDB 1.24.

FerretDB stores on SQLite (the default: nothing else to run) or, with ``store="postgresql"``, on a
local PostgreSQL cluster (:mod:`sceau_dev.infra.postgres_server`), which serves equality filters on
fields other than ``_id`` without reading the whole collection (docs/mongodb-features.md).

FerretDB is built from its Go module (``github.com/FerretDB/FerretDB@v1.24.2``) through the Go
module
proxy. A plain ``go install …/cmd/ferretdb@v1.24.2`` produces a binary that panics at start: the
published module lacks the generated ``build/version/version.txt``. So we download the module, write
that file (``v1.24.2``) into a writable copy, and ``go build`` it once into the cache.

Before building, two lines of the SQLite backend are adjusted (:data:`FERRETDB_ADJUSTMENTS`),
because FerretDB 1.24 never uses its own ``_id`` index: the index is created on the expression
``_ferretdb_sjson->"_id"`` but queries, updates and deletes filter on ``_ferretdb_sjson->'$._id'``,
which SQLite does not recognise as the indexed expression, so every lookup by primary key scans
the collection (measured: 0.6 ms for the first of 20,000 documents, 40 ms for the last or a
missing one). The adjustment writes the filter as the indexed expression and uses it whenever
the filter names a plain ``_id`` (FerretDB still applies the whole filter to what the backend
returns, so other conditions keep their meaning). It changes speed, not results; see
docs/infrastructure.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sceau_dev.infra.process import (
    InfraError,
    Progress,
    pid_alive,
    port_open,
    require_tool,
    run_checked,
    start_detached,
    stop_pid,
    wait_until,
)

SQLITE_SYNCHRONOUS = ("normal", "full")
"""SQLite ``synchronous`` settings for FerretDB's SQLite store (the first is the default)."""

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"
FERRETDB_BUILD = "sceau-idx1"
"""Suffix of our build in the cache: a new value rebuilds FerretDB once on every machine."""
FERRETDB_GOGC = "800"
"""Go's collector pacing for FerretDB (:func:`ferretdb_environment`)."""

FERRETDB_ADJUSTMENTS: tuple[tuple[str, str, str, int], ...] = (
    # (file in the module, exact text, replacement, expected occurrences)
    (
        "internal/backends/sqlite/metadata/metadata.go",
        "IDColumn = DefaultColumn + \"->'$._id'\"",
        "IDColumn = DefaultColumn + \"->'_id'\"",
        1,
    ),
    (
        "internal/backends/sqlite/collection.go",
        "if params.Filter.Len() == 1 {",
        "if params.Filter.Len() >= 1 {",
        2,
    ),
)


STORES = ("sqlite", "postgresql")
"""FerretDB's storage backends ``sceau infra`` can run; the first is the default."""


@dataclass(frozen=True)
class MongoConfig:
    """Where the server listens and keeps its data, and which FerretDB backend it uses.

    ``postgresql_url`` is required with ``store="postgresql"`` (and ignored by ``mongod``).
    ``sqlite_synchronous``: SQLite's ``synchronous`` setting for the SQLite store (one of
    :data:`SQLITE_SYNCHRONOUS`; see :func:`store_flags`).
    """

    port: int
    data_dir: Path
    log_file: Path
    store: str = STORES[0]
    postgresql_url: str | None = None
    sqlite_synchronous: str = "normal"

    @property
    def uri(self) -> str:
        """Return the connection URI clients use."""
        return f"mongodb://127.0.0.1:{self.port}/"


def engine() -> str:
    """Return which server will run: ``mongod`` if on PATH, else ``ferretdb``."""
    return "mongod" if shutil.which("mongod") else "ferretdb"


def ferretdb_binary(cache_dir: Path) -> Path:
    """Return the cached FerretDB binary path."""
    return cache_dir / f"ferretdb-{FERRETDB_VERSION}-{FERRETDB_BUILD}" / "ferretdb"


def adjust_ferretdb_source(work: Path) -> None:
    """Apply :data:`FERRETDB_ADJUSTMENTS` to a writable copy of the module, or refuse loudly."""
    for relative, old, new, expected in FERRETDB_ADJUSTMENTS:
        path = work / relative
        text = path.read_text(encoding="utf-8")
        found = text.count(old)
        if found != expected:
            raise InfraError(
                f"FerretDB {FERRETDB_VERSION} source is not as expected: {relative} contains "
                f"{found} (not {expected}) occurrence(s) of {old!r}"
            )
        path.write_text(text.replace(old, new), encoding="utf-8")


def ensure_ferretdb(cache_dir: Path, progress: Progress) -> Path:
    """Build FerretDB once into the cache and return the binary."""
    binary = ferretdb_binary(cache_dir)
    if binary.exists():
        return binary
    go = require_tool("go", "build FerretDB (no mongod on PATH)")
    progress(
        f"first start: building FerretDB {FERRETDB_VERSION} from the Go module proxy "
        "(a few minutes, once)"
    )
    work = binary.parent / "src"
    if work.exists():
        shutil.rmtree(work)
    binary.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("GOFLAGS", "-mod=mod")
    download = subprocess.run(  # noqa: S603 - fixed argv
        [go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=binary.parent,
    )
    if download.returncode != 0:
        raise InfraError(f"downloading FerretDB module failed:\n{download.stdout}{download.stderr}")
    source = Path(json.loads(download.stdout)["Dir"])
    shutil.copytree(source, work)
    for path in work.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)
    (work / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
    adjust_ferretdb_source(work)
    run_checked(
        [go, "build", "-trimpath", "-o", str(binary), "./cmd/ferretdb"],
        cwd=work,
        what="building FerretDB",
        env=env,
    )
    shutil.rmtree(work, ignore_errors=True)
    progress(f"FerretDB cached at {binary}")
    return binary


def start(
    config: MongoConfig,
    cache_dir: Path,
    progress: Progress,
    *,
    timeout_s: float,
    server: str | None = None,
) -> int:
    """Start the server and wait until it answers a ping; return its pid.

    ``server`` (``"mongod"`` or ``"ferretdb"``) overrides :func:`engine`'s choice; the store
    benchmark uses it to measure FerretDB on a machine that also has ``mongod``.
    """
    chosen = server or engine()
    if port_open("127.0.0.1", config.port):
        raise InfraError(
            f"port {config.port} is already in use by another program; choose another MongoDB "
            "port (--mongo-port or SCEAU_MONGO_PORT)"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True)
    if chosen == "mongod":
        mongod = require_tool("mongod", "run MongoDB")
        argv = [
            mongod,
            "--dbpath",
            str(config.data_dir),
            "--port",
            str(config.port),
            "--bind_ip",
            "127.0.0.1",
        ]
    else:
        binary = ensure_ferretdb(cache_dir, progress)
        argv = [
            str(binary),
            *store_flags(config),
            f"--listen-addr=127.0.0.1:{config.port}",
            f"--state-dir={config.data_dir}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ]
    env = dict(os.environ) if chosen == "mongod" else ferretdb_environment(os.environ)
    pid = start_detached(argv, log_file=config.log_file, env=env)
    try:
        wait_until(
            lambda: _pings(config.uri),
            timeout_s=timeout_s,
            what=f"{chosen} to answer on {config.uri}",
            progress=progress,
            alive=lambda: pid_alive(pid),
            log_file=config.log_file,
        )
    except InfraError:
        stop_pid(pid, timeout_s=5)
        raise
    return pid


def ferretdb_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """FerretDB's environment: ``environment`` with Go's collector paced by :data:`FERRETDB_GOGC`.

    FerretDB keeps a live heap of 2-3 MB, so with Go's default (``GOGC=100``, a collection each
    time the heap doubles) it collected every 4 MB allocated: 257 collections in two rounds of
    1,500 single issues, about a quarter of its CPU, and the collector's assists slow the very
    commands a request waits for. At ``GOGC=800`` the heap grows to ~30 MB between collections:
    20 collections in the same run; in three alternating pairs of runs FerretDB's CPU per
    credential went 1.01-1.24 -> 0.76-0.84 ms and the single issue 0.50-0.53x -> 0.56-0.57x raw
    signing (issue 19, docs/benchmarks.md). A ``GOGC`` already set in the environment is kept.
    """
    env = dict(environment)
    env.setdefault("GOGC", FERRETDB_GOGC)
    return env


def store_flags(config: MongoConfig) -> list[str]:
    """Return FerretDB's handler flags for ``config.store``.

    SQLite runs in WAL mode (FerretDB's default) with ``synchronous`` set to ``normal`` unless
    told otherwise: a commit is then written to the log without an ``fsync`` of its own (the log
    is synced at checkpoints). A crash of FerretDB or of any process loses nothing committed;
    only a crash of the operating system or a power cut can roll back the last commits, which is
    the window MongoDB's default write concern leaves too (its journal is synced every 100 ms).
    SQLite's own default, ``full``, synced the log at every command: measured one ``fsync`` per
    insert and about 0.3 ms of FerretDB's CPU per single issue (issue 19; docs/infrastructure.md).
    """
    if config.store == "sqlite":
        if config.sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise InfraError(
                f"unknown SQLite synchronous setting {config.sqlite_synchronous!r}; choose one of "
                f"{', '.join(SQLITE_SYNCHRONOUS)}"
            )
        pragma = f"_pragma=synchronous({config.sqlite_synchronous})"
        return ["--handler=sqlite", f"--sqlite-url=file:{config.data_dir}/?{pragma}"]
    if config.store == "postgresql":
        if not config.postgresql_url:
            raise InfraError("store 'postgresql' needs the PostgreSQL URL (postgresql_url)")
        return ["--handler=postgresql", f"--postgresql-url={config.postgresql_url}"]
    raise InfraError(f"unknown store {config.store!r}; choose one of {', '.join(STORES)}")


def describe(store: str) -> str:
    """Return what runs for ``store``, for progress and status lines."""
    return "mongod" if engine() == "mongod" else f"ferretdb+{store}"


def _pings(uri: str) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, object]] = MongoClient(uri, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def stop(pid: int) -> None:
    """Stop the server."""
    stop_pid(pid, timeout_s=20)
