"""The verifier service accepts what the Digital Bazaar JavaScript stack produces.

The credentials *and* their status list credential are signed by ``@digitalbazaar/vc`` (keys
derived by the third-party libraries from a seed), and the list's bits are encoded by
``@digitalbazaar/vc-bitstring-status-list``. The list is served by a loopback registry stand-in;
the verifier fetches it over HTTP, verifies its proof, and must report the revoked index as
revoked and the other as valid.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from interop_js import DigitalBazaar
from verifier_support import (
    Issuer,
    RegistryStandIn,
    StatusList,
    achievement,
    build_app,
    serve,
    settings_for,
)

from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.results import CREDENTIAL_REVOKED
from sceau_credentials.status import MIN_ENTRIES, status_entry

pytestmark = pytest.mark.interop

JS = Path(__file__).resolve().parent / "js"
SEED = bytes(range(32))
REVOKED, VALID = 41_017, 41_018
ISSUED = datetime(2025, 9, 1, tzinfo=UTC)


def bitstring_from_js(revoked: list[int]) -> str:
    node = shutil.which("node")
    assert node is not None
    completed = subprocess.run(
        [node, str(JS / "status-list.mjs")],
        input=json.dumps({"op": "encode", "length": MIN_ENTRIES, "set": revoked}),
        capture_output=True,
        text=True,
        cwd=JS,
        timeout=60,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"status-list.mjs crashed:\n{completed.stderr}")
    encoded: str = json.loads(completed.stdout)["encodedList"]
    return encoded


def ob3_credential(did: str, list_url: str, index: int) -> dict[str, Any]:
    credential = build_credential(
        achievement(),
        Recipient(email="learner@example.org", name="Sam Roy"),
        IssuerProfile(id=did, name={"fr": "Cégep Interop", "en": "Interop College"}),
        "ob3-v2",
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
        issued_at=ISSUED,
        status=[status_entry("ob3-v2", "revocation", list_url, index)],
    )
    return credential


@pytest.fixture
async def verifier_and_registry() -> AsyncIterator[tuple[httpx.AsyncClient, RegistryStandIn, str]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        built = build_app(settings_for(base))
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield client, registry, base


async def test_js_signed_credentials_and_js_built_status_list(
    digital_bazaar: DigitalBazaar, verifier_and_registry: Any
) -> None:
    client, registry, base = verifier_and_registry
    key = SigningKey.from_seed(SEED)  # same seed: the JS side derives its own did:key from it
    issuer = Issuer(key=key, name={"fr": "Cégep Interop", "en": "Interop College"})
    registry.register(issuer)
    status_list = StatusList(
        list_id="js-list", purpose="revocation", url=f"{base}/v1/status-lists/js-list"
    )
    issuer.lists[status_list.list_id] = status_list
    unsigned_list = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": status_list.url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "validFrom": "2025-09-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{status_list.url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": bitstring_from_js([REVOKED]),
        },
    }
    signed_list = digital_bazaar.sign(unsigned_list, "eddsa-rdfc-2022", SEED)
    assert signed_list.did == key.controller, "JS and Sceau derive different did:key"
    status_list.signed = signed_list.credential

    answers = {}
    for index in (REVOKED, VALID):
        signed = digital_bazaar.sign(
            ob3_credential(key.controller, status_list.url, index), "eddsa-rdfc-2022", SEED
        )
        response = await client.post("/v1/verify", json=signed.credential, params={"lang": "en"})
        assert response.status_code == 200
        answers[index] = response.json()

    valid = answers[VALID]
    assert valid["verified"] is True, valid["checks"]
    assert valid["summary"]["issuer"]["name"] == "Interop College"
    revoked = answers[REVOKED]
    assert revoked["verified"] is False
    status = next(c for c in revoked["checks"] if c["name"] == "status")
    assert status["problem_type"] == CREDENTIAL_REVOKED
    proof = next(c for c in revoked["checks"] if c["name"] == "proof")
    assert proof["status"] == "passed"
    assert registry.list_requests == 1  # fetched once, then served from the cache


async def test_js_signed_ed25519_signature_2020_credential(
    digital_bazaar: DigitalBazaar, verifier_and_registry: Any
) -> None:
    client, registry, _ = verifier_and_registry
    key = SigningKey.from_seed(SEED)
    registry.register(Issuer(key=key))
    credential = build_credential(
        achievement(),
        Recipient(email="learner@example.org"),
        IssuerProfile(id=key.controller, name={"fr": "Collège Boréal", "en": "Boreal College"}),
        "ob3-v1",
        credential_id="urn:uuid:11111111-0000-4000-8000-000000000001",
        issued_at=ISSUED,
    )
    signed = digital_bazaar.sign(credential, "Ed25519Signature2020", SEED)
    registry.standings[key.controller].keys[signed.verification_method] = registry.standings[
        key.controller
    ].keys[key.verification_method]
    response = await client.post("/v1/verify", json={"credential": signed.credential})
    result = response.json()
    assert result["verified"] is True, result["checks"]
    tampered = json.loads(json.dumps(signed.credential))
    tampered["credentialSubject"]["achievement"]["name"] = "Autre chose"
    result = (await client.post("/v1/verify", json=tampered)).json()
    assert next(c for c in result["checks"] if c["name"] == "proof")["status"] == "failed"
