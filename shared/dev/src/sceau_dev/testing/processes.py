"""Run Sceau services as real, separate processes (for the demo and the end-to-end tests).

Each service is ``python -m sceau_<name>`` with its settings in environment variables, its output
in a log file, and readiness judged by its own ``/readyz``. Killing one (``kill()``) is how the
end-to-end tests simulate a crash; ``start()`` again is the restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sceau_dev.testing.polling import eventually_sync


class ServiceFailed(RuntimeError):
    """A service exited or never became ready; the message carries the end of its log."""


@dataclass
class ServiceProcess:
    """One service process."""

    name: str
    port: int
    env: dict[str, str]
    log_dir: Path
    #: CPU cores to pin the process to (benchmarks); ``None`` leaves it to the scheduler.
    cpus: frozenset[int] | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        """Return the service's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """Return where the service's output goes."""
        return self.log_dir / f"{self.name}.log"

    def start(self) -> None:
        """Start the process (appending to its log)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", f"sceau_{self.name}"],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if self.cpus:
            os.sched_setaffinity(self.process.pid, self.cpus)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200, or raise :class:`ServiceFailed`."""
        eventually_sync(
            self._ready,
            timeout_s=timeout_s,
            message=f"{self.name} ready",
            error=ServiceFailed,
            details=self.tail,
        )

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise ServiceFailed(
                f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
            )
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self, lines: int = 20) -> str:
        """Return the end of the service's log."""
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop gracefully (SIGTERM), then forcibly."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """Kill without warning (SIGKILL): simulates a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
