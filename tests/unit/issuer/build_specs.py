"""A ``BuildSpec`` for issuer unit tests: one achievement version of one institution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile
from sceau_issuer.achievements.rules import engine_version
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.issuing.metadata import Workload
from sceau_issuer.issuing.schemas import RecipientInput
from sceau_issuer.issuing.sign_jobs import BuildSpec
from sceau_issuer.status.status_lists import StatusSlot

REVOCATION_SLOT = StatusSlot(
    alloc_list_id="c1.x.bsl.1",
    index=7,
    list_ids={"revocation": "c1.r"},
    list_urls={"revocation": "https://registry.example/v1/status-lists/c1.r"},
)
"""Slot 7 of a revocation list (every credential's default)."""


def build_spec(
    definition: AchievementInput,
    key: SigningKey,
    *,
    profile: str = "ob3-v2",
    slot: StatusSlot = REVOCATION_SLOT,
    language: Literal["fr", "en"] = "fr",
    workload: Workload | None = None,
    suspension: bool = False,
) -> BuildSpec:
    """Version 1 of ``definition`` by the college whose key is ``key``, for ada@example.org."""
    return BuildSpec(
        issuer=IssuerProfile(id=key.controller, name={"fr": "Collège", "en": "College"}),
        achievement=engine_version(
            definition,
            achievement_uri="https://issuer.example/v1/public/achievements/a1/versions/1",
            version=1,
            languages=("fr", "en"),
        ),
        recipient=RecipientInput(email="ada@example.org", language=language),
        profile=profile,
        credential_id="urn:uuid:4c1c7bd5-0b8f-4f4c-9d6b-2a4a1f0f3c11",
        issued_at=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=None,
        slot=slot,
        workload=workload,
        suspension=suspension,
    )
