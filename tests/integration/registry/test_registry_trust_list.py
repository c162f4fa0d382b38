"""Signed trust list, DCC export and the registry's own DID, against real Kafka and FerretDB."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from registry_support import OPERATOR

from sceau_credentials.engine import verify_proof
from sceau_dev.testing.polling import eventually
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration

REGISTRY_DID = "did:web:127.0.0.1%3A8002"


class RegistryResolver:
    """Resolves the registry's own did:web through the app (no network)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def resolve(self, did: str) -> dict[str, Any]:
        assert did.split("#")[0] == REGISTRY_DID
        return dict((await self._http.get("/.well-known/did.json")).json())


async def accredited_institution(http: httpx.AsyncClient, iid: str) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("", {"institution_id": iid, "legal_name": {"fr": f"Cégep {iid}", "en": f"College {iid}"},
              "category": "public-college", "jurisdiction": "CA-QC", "domain": f"{iid}.example",
              "did_method": "web"}),
        (f"/{iid}/status", {"status": "active", "reason": "approved"}),
        (f"/{iid}/scopes", {"achievement_types": ["MicroCredential"],
                            "valid_from": "2020-01-01T00:00:00Z", "reason": "mandate"}),
    ]  # fmt: skip
    for path, body in steps:
        response = await http.post(f"/v1/admin/institutions{path}", json=body, headers=OPERATOR)
        assert response.status_code in (200, 201), response.text


async def test_trust_list_is_signed_by_the_registry_and_resigned_only_on_change(
    http: httpx.AsyncClient, registry_app: FastAPI
) -> None:
    await accredited_institution(http, "alpha")
    publisher = registry_app.state.graph.trust_list

    async def listing(count: int) -> httpx.Response | None:
        response = await http.get("/v1/trust-list")
        if response.status_code != 200:
            return None
        institutions = response.json()["credentialSubject"]["institutions"]
        return response if len(institutions) == count else None

    first = await eventually(
        lambda: listing(1), timeout_s=30, message="trust list with 1 institution"
    )
    credential = first.json()
    assert credential["issuer"]["id"] == REGISTRY_DID
    assert credential["credentialSubject"]["institutions"][0]["dids"] == ["did:web:alpha.example"]
    proof = credential["proof"][0]
    assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", "eddsa-rdfc-2022")
    result = await verify_proof(credential, RegistryResolver(http))
    assert result.verified, result.reason

    signatures = publisher.signatures
    for _ in range(5):
        again = await http.get("/v1/trust-list")
        assert again.content == first.content  # served, not re-signed
    assert (
        await http.get("/v1/trust-list", headers={"If-None-Match": first.headers["etag"]})
    ).status_code == 304
    await publisher.refresh()  # nothing changed: no new signature
    assert publisher.signatures == signatures

    await accredited_institution(http, "beta")
    second = await eventually(
        lambda: listing(2), timeout_s=30, message="trust list with 2 institutions"
    )
    assert second.headers["etag"] != first.headers["etag"]
    assert (await verify_proof(second.json(), RegistryResolver(http))).verified

    tampered = second.json()
    tampered["credentialSubject"]["institutions"][0]["dids"] = ["did:web:evil.example"]
    assert not (await verify_proof(tampered, RegistryResolver(http))).verified


async def test_dcc_export_lists_accredited_dids(http: httpx.AsyncClient) -> None:
    await accredited_institution(http, "alpha")
    exported = (await http.get("/v1/trust-list/dcc")).json()
    assert exported["registry"] == {
        "did:web:alpha.example": {
            "name": "College alpha",
            "location": "CA-QC",
            "url": "https://alpha.example",
        }
    }
    assert set(exported["meta"]) == {"created", "updated"}


async def test_registry_key_is_encrypted_at_rest(
    http: httpx.AsyncClient, mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    document = (await http.get("/.well-known/did.json")).json()
    assert document["id"] == REGISTRY_DID
    stored = await mongo_client[mongo_settings.database]["registry_keys"].find_one({})
    assert stored["alg"] == "A256GCM"
    assert set(stored) >= {"nonce", "ciphertext", "public_key_multibase"}
    assert not {"seed", "secretKeyMultibase", "private_key", "d"} & set(stored)
    public = document["verificationMethod"][0]["publicKeyMultibase"]
    assert stored["public_key_multibase"] == public
    assert len(stored["ciphertext"]) == 32 + 16  # seed + GCM tag, nothing in clear
    assert base64.b64encode(stored["ciphertext"]) not in str(document).encode()


async def test_registry_key_survives_a_restart(registry_settings: Any, mongo_client: Any) -> None:
    from asgi_lifespan import LifespanManager

    from sceau_registry.app import create_api

    documents = []
    for _ in range(2):
        app = create_api(registry_settings)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
                documents.append((await client.get("/.well-known/did.json")).json())
    assert documents[0] == documents[1]
