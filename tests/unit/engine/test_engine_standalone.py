"""The credential engine is a library on its own: no Kafka, MongoDB or web framework at import."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ("fastapi", "starlette", "faststream", "aiokafka", "pymongo", "motor", "sceau_dev")

PROBE = f"""
import importlib, pkgutil, sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of these now raises ImportError
import sceau_credentials
for info in pkgutil.walk_packages(sceau_credentials.__path__, "sceau_credentials."):
    importlib.import_module(info.name)
print("ok")
"""


def test_every_engine_module_imports_without_the_service_stack() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_the_engine_has_its_own_command() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from sceau_credentials.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "sceau-credentials" in result.stdout
    assert "credential" in result.stdout
