"""A worker that fails at start-up is restarted ever more slowly, not every second forever.

Real processes: ``sceau_shared.workers.supervise`` in a child Python, with an app factory that
records each start and then fails (as a worker would that cannot reach something only it reads).
"""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

FAILING_APP = """
import pathlib, time

def app():
    with open(pathlib.Path(__file__).with_name("starts.log"), "a") as log:
        log.write(f"{time.monotonic()}\\n")
    raise RuntimeError("this worker cannot start")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_start_up_failures_back_off(tmp_path: Path) -> None:
    (tmp_path / "failing_app.py").write_text(FAILING_APP)
    program = (
        "from sceau_shared.workers import supervise\n"
        f"supervise('failing_app:app', host='127.0.0.1', port={_free_port()}, workers=1)\n"
    )
    supervisor = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(9)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        _, errors = supervisor.communicate(timeout=30)
    starts = [float(line) for line in (tmp_path / "starts.log").read_text().split()]
    # Pauses of 2 then 4 s after each failure: 3 starts in 9 s (a restart every second gave 8).
    assert 2 <= len(starts) <= 4, (starts, errors.decode()[-2000:])
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps)), gaps
    assert supervisor.returncode == 0, errors.decode()[-2000:]
