"""Helpers for the learner page tests (unique module name: tests share one import path)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from issuer_support import IssuerHarness, micro

from sceau_shared.events import Event
from sceau_shared.kafka import EventPublisher, create_broker

GRADED = {
    "results": [{"assessment": 1, "value": "A+"}],
    "evidence": [{"url": "https://portfolio.example.org/capstone", "name": "Capstone"}],
}


async def issued_with_page(
    harness: IssuerHarness,
    email: str = "lea@example.org",
    *,
    language: str = "fr",
    institution: str | None = None,
    profile: str | None = None,
) -> tuple[str, dict[str, Any], str]:
    """Issue a graded credential with evidence; return (institution, detail, learner path)."""
    institution = institution or await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    extra: dict[str, Any] = dict(GRADED)
    if profile:
        extra["profile"] = profile
    response = await harness.issue(
        headers,
        achievement,
        email,
        recipient={"email": email, "name": "Léa Tremblay", "language": language},
        **extra,
    )
    assert response.status_code == 201, response.text
    detail = response.json()
    url = harness.svc.learners.page_url(institution, detail["credential_id"])
    return institution, detail, urlsplit(url).path


def share_token(url: str) -> str:
    """The token at the end of a share URL (``.../s/{token}``)."""
    return url.rsplit("/s/", 1)[1]


def share_urls(html: str) -> list[str]:
    """Share links listed on the learner page."""
    return re.findall(r'href="(http[^"]+/s/[A-Za-z0-9_-]+)"', html)


async def publish(harness: IssuerHarness, *events: Event) -> None:
    """Publish events on the test's Kafka topics as another service would."""
    kafka = harness.settings.kafka
    broker = create_broker(kafka, client_id="test-verifier")
    async with broker:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="verifier")
        for event in events:
            await publisher.publish(event)
