"""Fixtures of the Kubernetes manifest tests: kustomize and the rendered overlays."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_manifests import OVERLAYS, Doc, render, run_setup_script


@pytest.fixture(scope="session")
def kustomize() -> Path:
    """The pinned kustomize binary, installed by the project's setup script when missing."""
    return run_setup_script()


@pytest.fixture(scope="session")
def rendered(kustomize: Path) -> dict[str, list[Doc]]:
    return {overlay: render(kustomize, overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def docs(rendered: dict[str, list[Doc]], overlay: str) -> list[Doc]:
    return rendered[overlay]
