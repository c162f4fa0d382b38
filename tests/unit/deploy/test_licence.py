"""One licence, stated everywhere a package manager or a reader looks for it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = sorted(
    [
        ROOT / "pyproject.toml",
        *ROOT.glob("shared/*/pyproject.toml"),
        *ROOT.glob("services/*/pyproject.toml"),
    ]
)


def test_the_licence_text_is_at_the_root() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text


@pytest.mark.parametrize("pyproject", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_package_declares_it(pyproject: Path) -> None:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
