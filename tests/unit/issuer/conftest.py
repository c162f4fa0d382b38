"""Fixtures for issuer unit tests: valid achievement definitions and fakes."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from achievement_samples import micro_credential

from sceau_issuer.vault import Vault

MICRO: dict[str, Any] = micro_credential()


@pytest.fixture
def micro() -> dict[str, Any]:
    """A complete bilingual MicroCredential definition."""
    return copy.deepcopy(MICRO)


@pytest.fixture
def vault() -> Vault:
    """A vault under a random master key."""
    return Vault(os.urandom(32))
