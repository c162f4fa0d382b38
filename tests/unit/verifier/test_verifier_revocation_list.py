"""``1EdTechRevocationList`` at the verifier: the list served over real HTTP on loopback.

The credential is signed by the engine; the list is served by a second local HTTP server (its
host on the status allow-list), plain or signed; the verifier's own fetcher and cache are used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from verifier_support import (
    DocumentServer,
    Issuer,
    RegistryStandIn,
    serve,
    settings_for,
    signed_with,
    verifier_client,
)

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.results import CREDENTIAL_REVOKED, STATUS_VERIFICATION_ERROR
from sceau_verifier.settings import StatusSettings


@dataclass
class World:
    client: httpx.AsyncClient
    issuer: Issuer
    lists: DocumentServer
    list_url: str

    async def credential(self) -> dict[str, Any]:
        status = {"id": self.list_url, "type": "1EdTechRevocationList"}
        return await signed_with(self.issuer, credentialStatus=status)

    async def status(self, credential: dict[str, Any], lang: str = "en") -> dict[str, Any]:
        response = await self.client.post("/v1/verify", json=credential, params={"lang": lang})
        assert response.status_code == 200, response.text
        found = {c["name"]: c for c in response.json()["checks"]}
        return {"verified": response.json()["verified"], **found["status"]}


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = RegistryStandIn()
    lists = DocumentServer()
    async with serve(registry.app()) as base, serve(lists.app()) as list_base:
        issuer = Issuer()
        registry.register(issuer)
        hosts = [httpx.URL(u) for u in (base, list_base)]
        settings = settings_for(
            base,
            status=StatusSettings(
                allowed_hosts=[f"{u.host}:{u.port}" for u in hosts], allow_private_hosts=True
            ),
        )
        async with verifier_client(settings) as client:
            yield World(client, issuer, lists, f"{list_base}/document")


async def test_a_listed_credential_is_revoked_and_an_unlisted_one_verified(world: World) -> None:
    kept, revoked = await world.credential(), await world.credential()
    world.lists.document = {
        "id": world.list_url,
        "issuer": world.issuer.did,
        "revokedCredentials": [{"id": revoked["id"], "revocationReason": "Issued in error"}],
    }
    passed = await world.status(kept)
    assert passed["status"] == "passed"
    assert passed["verified"] is True
    failed = await world.status(revoked, lang="fr")
    assert failed["verified"] is False
    assert failed["status"] == "failed"
    assert failed["problem_type"] == CREDENTIAL_REVOKED
    assert failed["reason"] == failed["reason_fr"]
    assert "liste de révocation" in failed["reason_fr"]
    assert "Issued in error" in failed["reason_en"]
    assert world.lists.hits >= 2  # fetched over HTTP (no-store: not kept)


async def test_a_signed_list_is_verified_and_a_forged_one_refused(world: World) -> None:
    credential = await world.credential()
    moment = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    unsigned = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": world.list_url,
        "type": ["VerifiableCredential"],
        "issuer": world.issuer.did,
        "issuanceDate": moment.isoformat().replace("+00:00", "Z"),
        "credentialSubject": {"revokedCredentials": [{"id": credential["id"]}]},
    }
    token = await sign_credential(unsigned, world.issuer.key, Profile.JWT, created=moment)
    assert isinstance(token, str)
    world.lists.document = token  # served as a VC-JWT
    answer = await world.status(credential)
    assert answer["status"] == "failed"
    assert answer["problem_type"] == CREDENTIAL_REVOKED
    # A list whose signature does not match: refused, the credential is not called revoked.
    head, payload, signature = token.split(".")
    world.lists.document = f"{head}.{payload}.{signature[::-1]}"
    answer = await world.status(credential)
    assert answer["status"] == "failed"
    assert answer["problem_type"] == STATUS_VERIFICATION_ERROR


async def test_another_institutions_list_proves_nothing(world: World) -> None:
    credential = await world.credential()
    world.lists.document = {
        "id": world.list_url,
        "issuer": Issuer().did,
        "revokedCredentials": [{"id": credential["id"]}],
    }
    answer = await world.status(credential)
    assert answer["status"] == "failed"
    assert answer["problem_type"] == STATUS_VERIFICATION_ERROR
    assert answer["verified"] is False
