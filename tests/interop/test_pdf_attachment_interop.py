"""The PDF certificate carries its own proof: the attached credential, taken out of the PDF,
verifies with `sceau credential verify` and in the Digital Bazaar stack (issue 14).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2
import pytest
from interop_js import DigitalBazaar

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_issuer.learners.pdf import Certificate, render_pdf

pytestmark = pytest.mark.interop

ACHIEVEMENT = AchievementVersion(
    id="https://badges.example.edu/achievements/secourisme-101",
    version="1",
    default_language="fr",
    name={"fr": "Secourisme en milieu de travail", "en": "Workplace first aid"},
    description={"fr": "Premiers soins au travail.", "en": "First aid at work."},
    criteria={"fr": "Réussir l'évaluation pratique.", "en": "Pass the practical assessment."},
    hours=16,
)


@pytest.mark.parametrize("paper", ["a4", "letter"])
async def test_the_pdf_attachment_verifies_with_the_cli_and_in_digital_bazaar(
    digital_bazaar: DigitalBazaar, tmp_path: Path, paper: str
) -> None:
    key = SigningKey.generate()
    unsigned = build_credential(
        ACHIEVEMENT,
        Recipient(email="apprenant@example.edu", name="Camille Roy"),
        IssuerProfile(id=key.controller, name={"fr": "Cégep Exemple", "en": "Example College"}),
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        language="fr",
    )
    signed = await sign_credential(unsigned, key, Profile.OB3_V2)
    assert isinstance(signed, dict)
    pdf_bytes = render_pdf(
        Certificate(
            learner_name="Camille Roy",
            language="fr",
            institution={"fr": "Cégep Exemple", "en": "Example College"},
            achievement=dict(ACHIEVEMENT.name),
            description=dict(ACHIEVEMENT.description),
            credential_id=str(signed["id"]),
            signed=signed,
            paper=paper,
        )
    )
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == ((595, 842) if paper == "a4" else (612, 792))
    assert pdf.count_attachments() == 1
    attached = json.loads(bytes(pdf.get_attachment(0).get_data()))
    assert attached == signed

    path = tmp_path / "attached.json"
    path.write_text(json.dumps(attached), encoding="utf-8")
    command = [str(Path(sys.executable).parent / "sceau"), "credential", "verify", str(path)]
    cli = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=120, check=False
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    result = digital_bazaar.verify(attached)
    assert result.verified, result.errors
