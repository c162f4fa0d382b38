"""Shared samples and hand-written fakes for the OB 3.0, status and verification unit tests."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sceau_credentials.ob3 import (
    AchievementVersion,
    Assessment,
    Competency,
    IssuerProfile,
    Level,
    QualityAssurance,
    Recipient,
    build_credential,
)
from sceau_credentials.status import status_entry

ISSUER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
OTHER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
LEARNER_DID = "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf"
ISSUED = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
LIST_URL = "https://college.example/status/3"


def achievement_version(**overrides: Any) -> AchievementVersion:
    """A bilingual micro-credential with every kind of metadata Sceau maps."""
    data: dict[str, Any] = {
        "id": "https://college.example/achievements/ai-teaching/versions/2",
        "version": "2",
        "default_language": "fr",
        "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
        "description": {
            "fr": "Concevoir des activités d'apprentissage avec l'IA générative.",
            "en": "Design learning activities with generative AI.",
        },
        "criteria": {
            "fr": "Réussir le projet de synthèse évalué par un enseignant.",
            "en": "Pass the capstone project assessed by an instructor.",
        },
        "criteria_url": "https://college.example/achievements/ai-teaching/criteria",
        "image_url": "https://college.example/badges/ai-teaching.png",
        "image_caption": {"fr": "Badge Enseigner avec l'IA", "en": "Teaching with AI badge"},
        "competencies": [
            Competency(
                name={"fr": "Concevoir une activité", "en": "Design an activity"},
                description={"fr": "Conçoit une activité.", "en": "Designs an activity."},
                url="https://framework.example/items/D-1",
                framework={"fr": "Cadre numérique", "en": "Digital framework"},
                code="D-1",
                skill_type="technical",
            )
        ],
        "level": Level(
            name={"fr": "Niveau 2", "en": "Level 2"},
            definition_url="https://college.example/levels#2",
            scheme={"fr": "Niveaux du collège", "en": "College levels"},
            code="2",
        ),
        "hours": 15,
        "delivery_mode": "online",
        "pacing": "cohort",
        "applied_learning": True,
        "assessments": [
            Assessment(
                method="project",
                name={"fr": "Projet de synthèse", "en": "Capstone project"},
                result_type="Status",
                allowed_values=["Passed", "Failed"],
                required_value="Passed",
            )
        ],
        "credits": 1.5,
        "field_of_study": {"fr": "Éducation", "en": "Education"},
        "instruction_languages": ["en"],
        "quality_assurance": [
            QualityAssurance(
                id="https://qa.example.ca",
                name={"fr": "Conseil de la qualité", "en": "Quality Council"},
                url="https://qa.example.ca",
            )
        ],
        "tags": ["ai", "teaching"],
        "human_code": "AI-201",
    }
    data.update(overrides)
    return AchievementVersion(**data)


def issuer(did: str = ISSUER_DID) -> IssuerProfile:
    return IssuerProfile(
        id=did,
        name={"fr": "Collège Exemple", "en": "Example College"},
        url="https://college.example",
    )


def recipient() -> Recipient:
    return Recipient(email="Jane.Doe@College.example", did=LEARNER_DID, name="Jane Doe")


def credential(profile: str = "ob3-v2", **kwargs: Any) -> dict[str, Any]:
    """A complete unsigned credential with a revocation entry at index 94567."""
    kwargs.setdefault("status", [status_entry(profile, "revocation", LIST_URL, 94567)])
    kwargs.setdefault("salt", "0f1e2d3c")
    return build_credential(
        achievement_version(),
        recipient(),
        issuer(),
        profile,
        credential_id="urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d",
        issued_at=ISSUED,
        **kwargs,
    )


def with_fake_proof(
    document: Mapping[str, Any], did: str = ISSUER_DID, **extra: Any
) -> dict[str, Any]:
    """Attach a syntactically plausible proof (the fake verifier decides whether it is valid)."""
    signed = copy.deepcopy(dict(document))
    signed["proof"] = [
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2025-01-15T12:00:00Z",
            "verificationMethod": f"{did}#{did.split(':')[-1]}",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + "1" * 80,
            **extra,
        }
    ]
    return signed


@dataclass(frozen=True)
class FakeProof:
    """Shaped like ``engine.ProofVerification``."""

    verified: bool
    problem_type: str | None = None
    reason: str | None = None
    verification_method: str | None = None
    issuer: str | None = None
    credential: dict[str, Any] | None = None
    proof_created: datetime | None = None


@dataclass
class FakeProofVerifier:
    """Accepts documents whose proof names a key of ``trusted``; records what it saw."""

    trusted: set[str] = field(default_factory=lambda: {ISSUER_DID})
    tampered_marker: str = "TAMPERED"
    calls: list[Any] = field(default_factory=list)
    raise_error: bool = False

    async def __call__(self, document: Any, resolver: Any) -> FakeProof:
        self.calls.append(document)
        if self.raise_error:
            raise RuntimeError("boom")
        if isinstance(document, str):
            kid = f"{ISSUER_DID}#key"
            return FakeProof(verified=ISSUER_DID in self.trusted, verification_method=kid)
        proofs = document.get("proof")
        proof = proofs[0] if isinstance(proofs, list) else proofs
        method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
        did = method.split("#")[0] if isinstance(method, str) else None
        if self.tampered_marker in repr(document) or did not in self.trusted:
            return FakeProof(
                verified=False,
                problem_type="https://w3id.org/security#PROOF_VERIFICATION_ERROR",
                reason="the signature does not match",
                verification_method=method,
            )
        return FakeProof(verified=True, verification_method=method, credential=dict(document))


@dataclass
class FakeFetcher:
    """Serves status list credentials from a dict; missing URLs raise (unreachable)."""

    lists: dict[str, Any] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)

    async def fetch(self, url: str) -> Any:
        self.fetched.append(url)
        if url not in self.lists:
            raise ConnectionError(f"cannot reach {url}")
        return self.lists[url]
