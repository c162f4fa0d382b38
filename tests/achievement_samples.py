"""A valid bilingual micro-credential definition, as the issuer's API takes it, for tests.

One definition shared by the issuer's unit and integration tests and the system trace test;
each overrides what its story needs (hours, modules, validity...).
"""

from __future__ import annotations

import copy
from typing import Any

_MICRO: dict[str, Any] = {
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


def micro_credential(**overrides: Any) -> dict[str, Any]:
    """A fresh copy of the definition with ``overrides`` applied at the top level."""
    return copy.deepcopy(_MICRO) | copy.deepcopy(overrides)
