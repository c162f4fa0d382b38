"""A local PostgreSQL cluster for FerretDB's ``postgresql`` handler (``--store postgresql``).

Why it exists: on FerretDB 1.24's SQLite backend every filter that is not a plain ``_id`` reads
the whole collection, so a query by two fields costs about a second at 20,000 documents; the
PostgreSQL backend pushes equality filters down to PostgreSQL and costs milliseconds at the same
size (bench/stores.py, docs/benchmarks.md "Stores at the field's scale").

The binaries come from the machine: ``initdb``/``postgres`` on the PATH, ``pg_config --bindir``
or Debian's ``/usr/lib/postgresql/<version>/bin``. When none is there and we run as root with
``apt-get`` (our development machines and CI), Debian's ``postgresql`` package is installed once,
with progress output; otherwise the error says what to install.

PostgreSQL refuses to run as root. As root we run it as the unprivileged ``postgres`` account
(created by the Debian package) through ``setpriv``, which execs in place, so the pid we keep is
the server's own. The cluster trusts local connections (it listens on 127.0.0.1 only) and
commits asynchronously (``synchronous_commit=off``: a crash loses at most the last few hundred
milliseconds of writes, never consistency) — a development server, not a production one.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sceau_dev.infra.process import (
    InfraError,
    Progress,
    pid_alive,
    port_open,
    run_checked,
    start_detached,
    stop_pid,
    wait_until,
)

SERVICE_ACCOUNT = "postgres"
"""The unprivileged account the server runs as when we are root (Debian's package creates it)."""

DATABASE = "ferretdb"
"""The database FerretDB keeps its collections in (one PostgreSQL schema per MongoDB database)."""

USER = "sceau"
"""The cluster's superuser; local connections are trusted, so it has no password."""


@dataclass(frozen=True)
class PostgresConfig:
    """Where the cluster listens and keeps its files."""

    port: int
    data_dir: Path
    log_file: Path

    @property
    def url(self) -> str:
        """Return the URL FerretDB's ``--postgresql-url`` takes."""
        return f"postgres://{USER}@127.0.0.1:{self.port}/{DATABASE}"


def find_bindir() -> Path | None:
    """Return the folder holding ``initdb`` and ``postgres``, or None when not installed."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        proc = subprocess.run(  # noqa: S603 - fixed argv
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        candidate = Path(proc.stdout.strip())
        if proc.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if p.name.isdigit() and (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name),
        )
        if versions:
            return versions[-1] / "bin"
    return None


def ensure_postgres(progress: Progress) -> Path:
    """Return PostgreSQL's bin folder, installing Debian's package once when we may."""
    bindir = find_bindir()
    if bindir is not None:
        return bindir
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        raise InfraError(
            "PostgreSQL is not installed (no initdb/postgres found); it is needed for "
            "--store postgresql. Install it (Debian/Ubuntu: `apt-get install postgresql`)"
        )
    progress("first start: installing PostgreSQL with apt-get (Debian package `postgresql`, once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_checked([apt, "update"], cwd=Path("/"), what="apt-get update", env=env)
    run_checked(
        [apt, "install", "-y", "--no-install-recommends", "postgresql"],
        cwd=Path("/"),
        what="apt-get install postgresql",
        env=env,
    )
    bindir = find_bindir()
    if bindir is None:
        raise InfraError("apt-get installed postgresql but initdb/postgres are still not found")
    progress(f"PostgreSQL installed ({bindir})")
    return bindir


def reachable_data_dir(preferred: Path) -> Path:
    """Return ``preferred``, or, as root, a folder the server account can reach instead.

    As root the server runs as :data:`SERVICE_ACCOUNT`, which cannot enter a project kept under a
    private folder (``/root/…`` is ``0700``). Then the cluster lives in that account's home, in a
    folder named after ``preferred`` (so the same project always finds the same cluster).
    """
    if os.geteuid() != 0 or all(os.stat(p).st_mode & 0o001 for p in _existing_parents(preferred)):
        return preferred
    try:
        home = Path(pwd.getpwnam(SERVICE_ACCOUNT).pw_dir)
    except KeyError:
        return preferred  # initialise() explains what is missing
    digest = hashlib.sha256(str(preferred.resolve()).encode()).hexdigest()[:12]
    return home / "sceau-clusters" / f"{preferred.name}-{digest}"


def _existing_parents(path: Path) -> list[Path]:
    return [p for p in path.resolve().parents if p.exists()]


def _as_server_user() -> list[str]:
    """Return the argv prefix that drops root to :data:`SERVICE_ACCOUNT` (empty when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVICE_ACCOUNT)
    except KeyError as exc:
        raise InfraError(
            f"PostgreSQL refuses to run as root and there is no '{SERVICE_ACCOUNT}' account to run "
            "it as; create one (`useradd --system postgres`) or run as a normal user"
        ) from exc
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise InfraError("'setpriv' (util-linux) is needed to run PostgreSQL as a non-root user")
    return [setpriv, f"--reuid={SERVICE_ACCOUNT}", f"--regid={SERVICE_ACCOUNT}", "--init-groups"]


def _hand_over(path: Path) -> None:
    """Give ``path`` (recursively) to the server account when we are root."""
    if os.geteuid() != 0:
        return
    account = pwd.getpwnam(SERVICE_ACCOUNT)
    for item in (path, *path.rglob("*")):
        os.chown(item, account.pw_uid, account.pw_gid)


def initialise(config: PostgresConfig, bindir: Path, progress: Progress) -> None:
    """Create the cluster in ``config.data_dir`` unless it already holds one."""
    if (config.data_dir / "PG_VERSION").exists():
        return
    progress(f"creating a PostgreSQL cluster in {config.data_dir}")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.data_dir.chmod(0o700)
    _hand_over(config.data_dir)
    if os.geteuid() == 0:
        blocked = [p for p in _existing_parents(config.data_dir) if not os.stat(p).st_mode & 0o001]
        if blocked:
            raise InfraError(
                f"the '{SERVICE_ACCOUNT}' account cannot reach {config.data_dir}: "
                f"{blocked[0]} is not searchable by others (chmod o+x it or choose another folder)"
            )
    run_checked(
        [
            *_as_server_user(),
            str(bindir / "initdb"),
            f"--pgdata={config.data_dir}",
            f"--username={USER}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ],
        cwd=config.data_dir,
        what="initdb",
    )


def _ready(bindir: Path, port: int) -> bool:
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", USER],
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def _create_database(bindir: Path, port: int) -> None:
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 and "already exists" not in proc.stderr:
        raise InfraError(f"createdb {DATABASE} failed: {proc.stderr.strip()}")


def start(config: PostgresConfig, progress: Progress, *, timeout_s: float) -> int:
    """Initialise (once) and start the cluster, create FerretDB's database; return the pid."""
    if port_open("127.0.0.1", config.port):
        raise InfraError(
            f"port {config.port} is already in use by another program; choose another "
            "PostgreSQL port (--postgres-port or SCEAU_POSTGRES_PORT)"
        )
    bindir = ensure_postgres(progress)
    initialise(config, bindir, progress)
    config.log_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [
        *_as_server_user(),
        str(bindir / "postgres"),
        "-D",
        str(config.data_dir),
        "-p",
        str(config.port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "synchronous_commit=off",
        "-c",
        "max_connections=200",
    ]
    pid = start_detached(argv, log_file=config.log_file, env=dict(os.environ))
    try:
        wait_until(
            lambda: _ready(bindir, config.port),
            timeout_s=timeout_s,
            what=f"PostgreSQL to accept connections on 127.0.0.1:{config.port}",
            progress=progress,
            alive=lambda: pid_alive(pid),
            log_file=config.log_file,
        )
        _create_database(bindir, config.port)
    except InfraError:
        stop(pid)
        raise
    return pid


def stop(pid: int) -> None:
    """Stop the cluster with a fast shutdown (SIGINT: clients are disconnected, data is flushed)."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop_pid(pid, timeout_s=5)
