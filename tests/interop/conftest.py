"""Interop fixtures: the Digital Bazaar JavaScript stack, run as Node subprocesses (offline).

The npm packages are installed once per checkout by ``scripts/setup-interop.sh`` (``npm ci``
from the committed lock file). A missing Node.js/npm is a test *failure*, not a skip: these
tests are the project's evidence that real wallets accept our credentials.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from interop_js import JS, ROOT, DigitalBazaar, DigitalBazaarWorker

SETUP = ROOT / "scripts" / "setup-interop.sh"


def _needs_install() -> bool:
    """True when node_modules is missing or older than the lock file (a dependency was added)."""
    installed = JS / "node_modules" / ".package-lock.json"  # written by every npm ci/install
    lock = JS / "package-lock.json"
    return not installed.is_file() or (
        lock.is_file() and lock.stat().st_mtime > installed.stat().st_mtime
    )


@pytest.fixture(scope="session")
def digital_bazaar() -> DigitalBazaar:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "interop tests need Node.js 20+ and npm on PATH (missing: "
            + ", ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
            + "); install them, then run scripts/setup-interop.sh"
        )
    if _needs_install():
        completed = subprocess.run(
            ["/usr/bin/env", "bash", str(SETUP)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(
                f"scripts/setup-interop.sh failed (exit {completed.returncode}):\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
    return DigitalBazaar(node)


@pytest.fixture(scope="session")
def digital_bazaar_worker(digital_bazaar: DigitalBazaar) -> Iterator[DigitalBazaarWorker]:
    """A long-lived Digital Bazaar process (installed and checked by ``digital_bazaar``)."""
    worker = DigitalBazaarWorker(digital_bazaar.node)
    yield worker
    worker.close()
