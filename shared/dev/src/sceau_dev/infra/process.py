"""Small process and network helpers used by the infrastructure manager."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sceau_dev.testing.polling import eventually_sync

Progress = Callable[[str], None]


class InfraError(Exception):
    """Something the operator must fix; the message says what and how."""


def require_tool(name: str, why: str) -> str:
    """Return the path of ``name`` or raise :class:`InfraError` saying why it is needed."""
    path = shutil.which(name)
    if path is None:
        raise InfraError(f"'{name}' is not installed or not on PATH; it is needed to {why}")
    return path


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Return whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port() -> int:
    """Return a TCP port that is free right now on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Return whether a process with ``pid`` exists (and is not a zombie we own)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    return True


def start_detached(argv: Sequence[str], *, log_file: Path, env: dict[str, str]) -> int:
    """Start a long-running server in its own session, logging to ``log_file``; return its pid.

    ``posix_spawn`` rather than ``subprocess.Popen``: the server outlives this call (and often this
    process), and a dropped ``Popen`` object complains that its child still runs. The servers are
    given absolute paths for everything, so the working directory does not matter.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(argv[0], list(argv), env, file_actions=actions, setsid=True)


def stop_pid(pid: int, *, timeout_s: float = 30.0) -> None:
    """Stop a process politely (SIGTERM), then forcibly (SIGKILL) after ``timeout_s``."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.05)


def run_checked(
    argv: Sequence[str], *, cwd: Path, what: str, env: dict[str, str] | None = None
) -> None:
    """Run a build step; on failure raise :class:`InfraError` with the tail of its output."""
    proc = subprocess.run(  # noqa: S603 - fixed argv
        list(argv), cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise InfraError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def wait_until(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    progress: Progress,
    alive: Callable[[], bool] | None = None,
    log_file: Path | None = None,
) -> None:
    """Poll ``check`` until true (the one polling helper); fail clearly on timeout or death.

    What this adds to :func:`~sceau_dev.testing.polling.eventually_sync` is what the operator
    needs: a progress line before the wait, a server that died stops the wait at once, and both
    failures are an :class:`InfraError` ending with the server's log file and its last lines.
    """
    progress(f"waiting for {what} (up to {timeout_s:.0f}s)")

    def ready() -> bool:
        if check():
            return True
        if alive is not None and not alive():
            raise InfraError(f"{what} exited during start-up{_log_hint(log_file)}")
        return False

    eventually_sync(
        ready,
        timeout_s=timeout_s,
        message=f"waiting for {what}",
        error=InfraError,
        details=lambda: _log_hint(log_file).removeprefix("; "),
    )


def _log_hint(log_file: Path | None) -> str:
    if log_file is None or not log_file.exists():
        return ""
    lines = log_file.read_text(errors="replace").strip().splitlines()[-8:]
    return f"; see {log_file}. Last lines:\n" + "\n".join(lines)
