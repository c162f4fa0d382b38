"""1EdTech's own OB 3.0 examples at the verifier's API: an explained answer, never a 5xx.

The complete example is unsigned and embeds an endorsement whose proof names cryptosuite
``eddsa-rdf-2022`` (sic) and an HTTPS verification method; the minimal one is unsigned. The
verifier must read both and say, in French and English, that nothing proves them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from verifier_support import RegistryStandIn, serve, settings_for, verifier_client

pytestmark = pytest.mark.integration


def example(name: str) -> dict[str, Any]:
    text = resources.files("sceau_credentials.ob3").joinpath(f"schema/{name}").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize(
    "name",
    ["example-complete-openbadgecredential.json", "example-minimal-openbadgecredential.json"],
)
@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_the_spec_examples_get_an_explained_answer(name: str, lang: str) -> None:
    async with (
        serve(RegistryStandIn().app()) as base,
        verifier_client(settings_for(base)) as client,
    ):
        answer = await client.post(f"/v1/verify?lang={lang}", json=example(name))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verified"] is False
    checks = {c["name"]: c for c in body["checks"]}
    assert checks["structure"]["status"] == "passed"  # the example is well-formed
    assert checks["proof"]["status"] == "failed"
    assert "preuve" in checks["proof"]["reason_fr"]
    assert "proof" in checks["proof"]["reason_en"]
    assert body["summary"]["achievement_name"]  # what it claims is still shown
