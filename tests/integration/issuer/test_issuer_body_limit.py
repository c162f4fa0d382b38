"""The documented 10,000-recipient batch fits the body limit in a configured deployment.

Issue 18, item 12: as soon as any ``ISSUER_HTTP__*`` variable was set (the demo, docker compose
and the Kubernetes base all set one), the issuer's 8 MiB limit fell back to the generic 1 MiB
and the ~1.5 MB batch the docs promise got 413. The settings here come from the environment,
as in a deployment.
"""

from __future__ import annotations

import base64
import json
import os

import pytest
from issuer_support import IssuerHarness, micro

from sceau_issuer.settings import IssuerSettings
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(
    monkeypatch: pytest.MonkeyPatch, kafka_settings: KafkaSettings, mongo_settings: MongoSettings
) -> IssuerSettings:
    monkeypatch.setenv("ISSUER_HTTP__PUBLIC_BASE_URL", "http://issuer.test")
    monkeypatch.setenv("ISSUER_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    return IssuerSettings(
        _env_file=None,
        kafka=kafka_settings,
        mongo=mongo_settings,
        registry_public_url="http://registry.test:8002",
        sign_workers=0,
        outbox_relays=1,
    )


async def test_a_10000_recipient_batch_is_accepted(harness: IssuerHarness) -> None:
    assert harness.settings.http.max_body_bytes == 8 * 1024 * 1024
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    people = [
        {
            "email": f"learner.number{i:05d}@college.example.org",
            "name": f"Apprenante Numéro {i:05d} Tremblay-Gagnon",
            "language": "fr" if i % 2 else "en",
        }
        for i in range(10_000)
    ]
    body = json.dumps({"achievement_id": achievement, "recipients": people}).encode()
    assert len(body) > 1_048_576  # more than the generic limit the bug brought back
    accepted = await harness.http.post(
        "/v1/batches",
        content=body,
        headers={**headers, "Idempotency-Key": "big", "Content-Type": "application/json"},
    )
    assert accepted.status_code == 202, accepted.text[:300]
    assert accepted.json()["total"] == 10_000
