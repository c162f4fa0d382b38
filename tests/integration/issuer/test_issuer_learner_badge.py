"""The baked PNG badge: the achievement's inline image with the signed credential inside."""

from __future__ import annotations

import base64
import io
from urllib.parse import urlsplit

import pytest
from issuer_support import IssuerHarness, micro
from learner_support import issued_with_page
from PIL import Image

from sceau_credentials.baking import extract
from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof

pytestmark = pytest.mark.integration


def _png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (11, 79, 156)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def test_baked_badge_carries_the_signed_credential(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(
        headers,
        micro(image_url=_png(), image_caption={"fr": "Badge bleu", "en": "Blue badge"}),
    )
    email = "badge@example.org"
    issued = await harness.issue(
        headers, achievement, email, recipient={"email": email, "language": "en"}
    )
    assert issued.status_code == 201, issued.text
    detail = issued.json()
    path = urlsplit(harness.svc.learners.page_url(institution, detail["credential_id"])).path
    page = (await harness.http.get(path)).text
    assert f'href="{path}/badge.png"' in page
    badge = await harness.http.get(f"{path}/badge.png")
    assert badge.status_code == 200
    assert badge.headers["content-type"] == "image/png"
    baked = extract(badge.content)
    assert baked == detail["document"]
    assert (await verify_proof(baked, DidKeyResolver())).verified
    Image.open(io.BytesIO(badge.content)).verify()


async def test_no_badge_without_an_inline_png(harness: IssuerHarness) -> None:
    _, _, path = await issued_with_page(harness, "nobadge@example.org")
    assert "badge.png" not in (await harness.http.get(path)).text
    assert (await harness.http.get(f"{path}/badge.png")).status_code == 404
