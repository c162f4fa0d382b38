"""Each service image ships only what its service imports (resolved from uv.lock).

The Dockerfile installs ``uv sync --no-dev --package sceau-<service>``: the closure computed here
is exactly what lands in the image, so these checks fail as soon as a dependency leaks in.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENGINE_ONLY = {"pyld", "pyoxigraph", "openedx-didkit", "jsonschema-rs", "sceau-credentials"}
DEV_ONLY = {"sceau-dev", "pytest", "testcontainers", "hypothesis", "playwright"}
SERVICE_STACK = {"fastapi", "faststream", "aiokafka", "pymongo"}


def _packages() -> dict[str, dict[str, Any]]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {p["name"]: p for p in lock["package"]}


def closure(root: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Names of every package ``root`` (with ``extras``) installs, itself included."""
    packages = _packages()
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(root, extras)]
    done: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in done:
            continue
        done.add((name, wanted))
        seen.add(name)
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in wanted:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            todo.append((dep["name"], tuple(dep.get("extra", ()))))
    return seen


@pytest.mark.parametrize("service", ["issuer", "registry", "verifier", "notifier"])
def test_no_dev_tooling_in_any_image(service: str) -> None:
    assert not closure(f"sceau-{service}") & DEV_ONLY


def test_the_notifier_image_has_no_credential_engine() -> None:
    assert not closure("sceau-notifier") & ENGINE_ONLY


@pytest.mark.parametrize("service", ["issuer", "registry", "verifier"])
def test_services_that_sign_or_verify_get_the_engine(service: str) -> None:
    assert "sceau-credentials" in closure(f"sceau-{service}")


def test_the_engine_installs_without_kafka_mongodb_or_a_web_framework() -> None:
    engine = closure("sceau-credentials")
    assert not engine & SERVICE_STACK
    assert not engine & DEV_ONLY
    assert "sceau-shared" in engine  # base install only: contracts and the SSRF guard
