"""Run one of the ``js/*.mjs`` interop scripts with a JSON payload (stdin) and JSON answer (stdout).

Tests that use it also request the ``digital_bazaar`` fixture, which installs the npm packages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from interop_js import JS


def run_script(script: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run ``js/<script>`` under Node and return its JSON output (a crash fails the test)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("interop tests need Node.js 20+ on PATH")
    completed = subprocess.run(
        [node, str(JS / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=JS,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"{script} crashed (exit {completed.returncode}):\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result
