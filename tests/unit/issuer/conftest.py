"""Fixtures for issuer unit tests: valid achievement definitions and fakes."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from sceau_issuer.vault import Vault

MICRO: dict[str, Any] = {
    "achievement_type": "MicroCredential",
    "default_language": "fr",
    "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
    "description": {"fr": "Concevoir des activités.", "en": "Design activities."},
    "criteria": {"fr": "Réussir le projet.", "en": "Pass the project."},
    "competencies": [
        {
            "name": {"fr": "Intégrer l'IA", "en": "Integrate AI"},
            "url": "https://example.edu/fw/ai-1",
            "framework": {"fr": "Cadre numérique", "en": "Digital framework"},
            "code": "AI-1",
            "skill_type": "technical",
        }
    ],
    "hours": 15,
    "delivery_mode": "online",
    "pacing": "cohort",
    "assessments": [
        {"method": "project", "name": {"fr": "Projet", "en": "Project"}, "result_type": "Status"}
    ],
    "instruction_languages": ["en"],
    "quality_assurance": [
        {"id": "https://example.edu/qa", "name": {"fr": "Comité", "en": "Board"}}
    ],
}


@pytest.fixture
def micro() -> dict[str, Any]:
    """A complete bilingual MicroCredential definition."""
    return copy.deepcopy(MICRO)


@pytest.fixture
def vault() -> Vault:
    """A vault under a random master key."""
    return Vault(os.urandom(32))
