"""did:jwk at the verifier: a credential signed by a did:jwk key is resolved offline, verified."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from verifier_support import Issuer, RegistryStandIn, serve, settings_for, verifier_client

from sceau_credentials.keys import SigningKey
from sceau_credentials.multiformats import base64url_nopad_encode


def did_jwk_issuer() -> Issuer:
    """An institution whose DID is the did:jwk of its Ed25519 key (method ``#0``)."""
    seed = os.urandom(32)
    public = SigningKey.from_seed(seed).to_jwk()
    did = "did:jwk:" + base64url_nopad_encode(json.dumps(public, separators=(",", ":")).encode())
    return Issuer(key=SigningKey.from_seed(seed, did, "0"))


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, RegistryStandIn]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base, verifier_client(settings_for(base)) as http:
        yield http, registry


async def test_a_did_jwk_issuer_is_resolved_and_its_proof_checked(
    client: tuple[httpx.AsyncClient, RegistryStandIn],
) -> None:
    """A VC-JWT (what did:jwk signers produce); Data Integrity suites want a Multikey method."""
    http, registry = client
    issuer = did_jwk_issuer()
    assert issuer.did.startswith("did:jwk:")
    registry.register(issuer)
    credential, _ = await issuer.issue("jwt")
    assert isinstance(credential, str)
    body = {"credential": credential}
    answer = (await http.post("/v1/verify", json=body, params={"lang": "en"})).json()
    found = {c["name"]: c for c in answer["checks"]}
    assert found["proof"]["status"] == "passed", found["proof"]
    assert found["proof"]["details"]["verification_method"] == f"{issuer.did}#0"
    assert answer["verified"] is True, answer["checks"]
    # The same token with another signature: the proof fails (the key really is checked).
    head, payload, signature = credential.split(".")
    body = {"credential": f"{head}.{payload}.{signature[::-1]}"}
    tampered = (await http.post("/v1/verify", json=body)).json()
    assert {c["name"]: c for c in tampered["checks"]}["proof"]["status"] == "failed"
