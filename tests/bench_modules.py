"""Load a script of ``bench/`` as a module, for the tests of its pure parts (plans, summaries)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load_bench(filename: str) -> ModuleType:
    """Import ``bench/<filename>`` under a name of its own (``bench/`` is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"sceau_bench_{Path(filename).stem}", BENCH / filename
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module
