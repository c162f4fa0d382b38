"""Test modules are imported by basename (no __init__ packages), so basenames must be unique."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]


def test_test_module_basenames_are_unique():
    names = Counter(
        path.name
        for path in TESTS.rglob("*.py")
        if "node_modules" not in path.parts and path.name not in {"conftest.py", "__init__.py"}
    )
    assert [name for name, count in names.items() if count > 1] == []
