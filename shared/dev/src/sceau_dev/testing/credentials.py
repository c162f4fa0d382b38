"""Real signed credentials and status lists for tests and benchmarks, made by the engine.

An :class:`Issuer` is an institution with a did:key signing key and its status lists; it issues
Open Badges 3.0 credentials (bilingual micro-credential, status entries) and (re)signs Bitstring
Status List / StatusList2021 credentials, exactly as a verifier will meet them. Nothing is mocked:
the credential engine builds and signs everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import (
    AchievementVersion,
    Assessment,
    AssessmentMethod,
    Competency,
    DeliveryMode,
    IssuerProfile,
    Level,
    Pacing,
    QualityAssurance,
    Recipient,
)
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.ob3.endorsement import build_endorsement
from sceau_credentials.status import (
    Bitstring,
    bitstring_status_list_credential,
    status_entry,
    status_list_2021_credential,
)
from sceau_shared.events import StatusListPublishedV1, StatusPurpose

__all__ = ["LEGACY_JWT", "NAME", "Issuer", "StatusList", "achievement"]

#: A pseudo-profile for :meth:`Issuer.issue`: a jwt credential of the VCDM 1.1 kind.
LEGACY_JWT = "jwt-1.1"

NAME = {"fr": "Collège Boréal", "en": "Boreal College"}


def achievement(
    kind: str = "MicroCredential", *, achievement_id: str | None = None
) -> AchievementVersion:
    """A bilingual micro-credential with competencies, a level, hours and an assessment."""
    return AchievementVersion(
        id=achievement_id or f"https://boreal.example/achievements/{uuid.uuid4().hex[:8]}",
        version="1",
        achievement_type=kind,
        default_language="fr",
        name={"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
        description={
            "fr": "Intégrer l'IA générative dans la planification des cours.",
            "en": "Integrating generative AI into course planning.",
        },
        criteria={
            "fr": "Réaliser un projet de synthèse évalué.",
            "en": "Complete an assessed capstone project.",
        },
        competencies=[
            Competency(
                name={"fr": "Concevoir une activité avec l'IA", "en": "Design an AI activity"},
                url="https://frameworks.example/digcompedu/2.1",
                framework={"fr": "DigCompEdu", "en": "DigCompEdu"},
                code="2.1",
                skill_type="technical",
            )
        ],
        level=Level(
            name={"fr": "Niveau 2", "en": "Level 2"},
            definition_url="https://boreal.example/levels/2",
            scheme={"fr": "Niveaux Boréal", "en": "Boreal levels"},
        ),
        hours=15,
        delivery_mode=DeliveryMode.ONLINE,
        pacing=Pacing.COHORT,
        applied_learning=True,
        assessments=[
            Assessment(
                method=AssessmentMethod.PROJECT,
                name={"fr": "Projet de synthèse", "en": "Capstone project"},
            )
        ],
        credits=0,
        instruction_languages=["en"],
        quality_assurance=[
            QualityAssurance(
                id="https://qa.example/board",
                name={"fr": "Conseil d'assurance qualité", "en": "Quality Assurance Board"},
            )
        ],
    )


@dataclass
class StatusList:
    """One status list (one purpose) of an issuer; ``version`` grows with every change."""

    list_id: str
    purpose: str
    url: str
    format: str = "BitstringStatusList"
    bits: Bitstring = field(default_factory=Bitstring)
    version: int = 1
    ttl_ms: int | None = None
    signed: dict[str, Any] | None = None
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Issuer:
    """An institution: a did:key signing key, its names, and its status lists."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    name: dict[str, str] = field(default_factory=lambda: dict(NAME))
    lists: dict[str, StatusList] = field(default_factory=dict)
    next_index: int = 7

    @property
    def did(self) -> str:
        return self.key.controller

    def add_list(
        self, base_url: str, purpose: str, *, fmt: str = "BitstringStatusList"
    ) -> StatusList:
        list_id = f"{purpose}-{fmt}-{uuid.uuid4().hex[:8]}"
        status_list = StatusList(
            list_id=list_id,
            purpose=purpose,
            url=f"{base_url}/v1/status-lists/{list_id}",
            format=fmt,
        )
        self.lists[list_id] = status_list
        return status_list

    async def sign_list(self, status_list: StatusList) -> dict[str, Any]:
        """(Re)sign ``status_list`` as it is now (a new version each call)."""
        moment = datetime.now(UTC).replace(microsecond=0)
        if status_list.signed is not None:
            status_list.version += 1
        status_list.published_at = moment
        if status_list.format == "BitstringStatusList":
            unsigned = bitstring_status_list_credential(
                list_url=status_list.url,
                issuer=self.did,
                purpose=status_list.purpose,
                bitstring=status_list.bits,
                valid_from=moment,
                ttl_ms=status_list.ttl_ms,
            )
            signed = await sign_credential(unsigned, self.key, Profile.OB3_V2, created=moment)
        else:
            unsigned = status_list_2021_credential(
                list_url=status_list.url,
                issuer=self.did,
                purpose=status_list.purpose,
                bitstring=status_list.bits,
                issuance_date=moment,
            )
            signed = await sign_credential(unsigned, self.key, Profile.OB3_V1, created=moment)
        if not isinstance(signed, dict):
            raise TypeError("a signed status list credential is a JSON object")
        status_list.signed = signed
        return signed

    async def set_status(self, status_list: StatusList, index: int, value: bool) -> dict[str, Any]:
        status_list.bits.set(index, value)
        return await self.sign_list(status_list)

    def published(
        self, status_list: StatusList, *, institution_id: str = "inst"
    ) -> StatusListPublishedV1:
        """The ``StatusListPublishedV1`` the issuer service sends for the list as last signed."""
        if status_list.signed is None:
            raise ValueError("sign the list first")
        return StatusListPublishedV1(
            producer="sceau-issuer",
            list_id=status_list.list_id,
            institution_id=institution_id,
            issuer_did=self.did,
            purpose=StatusPurpose(status_list.purpose),
            list_url=status_list.url,
            version=status_list.version,
            format=status_list.format,
            ttl_ms=status_list.ttl_ms,
            credential=status_list.signed,
        )

    async def issue(
        self,
        profile: str = "ob3-v2",
        *,
        lists: list[StatusList] = (),  # type: ignore[assignment]
        issued_at: datetime | None = None,
        valid_until: datetime | None = None,
        kind: str = "MicroCredential",
        name: dict[str, str] | None = None,
        language: str = "fr",
        achievement_id: str | None = None,
        endorsements: list[dict[str, Any]] = (),  # type: ignore[assignment]
    ) -> tuple[dict[str, Any] | str, int]:
        """Issue a signed credential; returns it and its status index.

        ``endorsements`` (signed ``EndorsementCredential`` documents) are embedded in the
        achievement, whose id is ``achievement_id`` when given.
        """
        index = self.next_index
        self.next_index += 13
        # ``jwt-1.1``: a jwt credential as the jwt profile signed them before 2026-12 (VCDM 1.1
        # content in a ``vc`` claim), so tests keep showing that those still verify.
        sign_as = "jwt" if profile == LEGACY_JWT else profile
        profile = "ob3-v1" if profile == LEGACY_JWT else profile
        entries = [status_entry(profile, sl.purpose, sl.url, index) for sl in lists]
        moment = (issued_at or datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        version = achievement(kind, achievement_id=achievement_id)
        if endorsements:
            version = version.model_copy(update={"endorsements": [dict(e) for e in endorsements]})
        credential = build_credential(
            version,
            Recipient(email="learner@example.org", name="Alex Tremblay"),
            IssuerProfile(id=self.did, name=name or self.name),
            profile,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issued_at=moment,
            valid_until=valid_until,
            language=language,
            status=entries,
        )
        signed = await sign_credential(credential, self.key, Profile(sign_as), created=moment)
        return signed, index

    async def endorse(
        self,
        subject_id: str,
        *,
        comment: dict[str, str] | None = None,
        issued_at: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> dict[str, Any]:
        """Sign this institution's OB 3.0 ``EndorsementCredential`` about ``subject_id``."""
        moment = (issued_at or datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        unsigned = build_endorsement(
            endorser=IssuerProfile(id=self.did, name=self.name),
            subject_id=subject_id,
            subject_name={"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
            comment=comment
            or {
                "fr": "Reconnu pour la formation continue des enseignants.",
                "en": "Recognised for teachers' continuing education.",
            },
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issued_at=moment,
            valid_until=valid_until,
        )
        signed = await sign_credential(unsigned, self.key, Profile.OB3_V2, created=moment)
        if not isinstance(signed, dict):
            raise TypeError("an ob3-v2 endorsement is a JSON object")
        return signed
