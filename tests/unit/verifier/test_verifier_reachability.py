"""An issuer's did:web document that cannot be fetched: inconclusive, not a forgery (issue 18).

Item 11 of the issue.

A real did:web host on loopback answers as a test tells it (the document, 503, 429, too slow,
404, a document without the key); the verifier app runs with its real graph (proof threads,
resolver, caches) against the registry stand-in. Also: proof verification does not hold the
event loop (canonicalization and didkit run on the proof threads).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from verifier_support import Issuer, RegistryStandIn, build_app, serve, settings_for

from sceau_credentials.dids import DidWebSettings, PublishedKey, institution_did_document
from sceau_credentials.keys import SigningKey
from sceau_credentials.presentations import sign_presentation
from sceau_credentials.results import (
    Check,
    CheckName,
    CheckStatus,
    CredentialSummary,
    VerificationResult,
)
from sceau_verifier import verification
from sceau_verifier.reachability import DID_DOCUMENT_UNREACHABLE, explain


@dataclass
class DidHost:
    """A did:web host whose answer the test chooses."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    mode: str = "ok"
    hits: int = 0
    down: set[str] = field(default_factory=set)
    """Names whose document answers 503 whatever the mode."""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/institutions/{name}/did.json")
        async def document(name: str) -> Response:
            self.hits += 1
            if self.mode == "slow":
                await asyncio.sleep(3)
            if name in self.down:
                return Response(status_code=503, headers={"Retry-After": "5"})
            if self.mode in {"503", "429", "404"}:
                return Response(status_code=int(self.mode), headers={"Retry-After": "5"})
            found = self.documents.get(name)
            if found is None:
                return Response(status_code=404)
            if self.mode == "nokey":
                other = SigningKey.generate()
                found = institution_did_document(
                    found["id"], [PublishedKey("key-9", other.public_key_multibase)]
                )
            return JSONResponse(found, media_type="application/did+json")

        return app


@dataclass
class World:
    client: httpx.AsyncClient
    host: DidHost
    credential: dict[str, Any] | str
    holder: SigningKey


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = RegistryStandIn()
    host = DidHost()
    async with serve(registry.app()) as base, serve(host.app()) as host_base:
        port = httpx.URL(host_base).port
        did = f"did:web:127.0.0.1%3A{port}:institutions:college"
        key = SigningKey.from_seed(uuid.uuid4().bytes * 2, did, "key-1")
        host.documents["college"] = institution_did_document(
            did, [PublishedKey("key-1", key.public_key_multibase)]
        )
        issuer = Issuer(key=key)
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        credential, _ = await issuer.issue(lists=[revocation])
        holder_did = f"did:web:127.0.0.1%3A{port}:institutions:holder"
        holder = SigningKey.from_seed(uuid.uuid4().bytes * 2, holder_did, "key-1")
        host.documents["holder"] = institution_did_document(
            holder_did, [PublishedKey("key-1", holder.public_key_multibase)]
        )
        settings = settings_for(
            base,
            # No document cache: every verification fetches the document again.
            did_web=DidWebSettings(allow_private_hosts=True, timeout_s=1.0, cache_ttl_s=0),
            proof_memo_entries=0,
        )
        built = build_app(settings)
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield World(client, host, credential, holder)


async def _verify(world: World) -> dict[str, Any]:
    response = await world.client.post("/v1/verify?lang=fr", json=world.credential)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _proof(answer: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in answer["checks"] if c["name"] == "proof")


@pytest.mark.parametrize("mode", ["503", "429", "slow"])
async def test_an_unreachable_document_gives_inconclusive_in_both_languages(
    world: World, mode: str
) -> None:
    assert (await _verify(world))["verified"] is True
    world.host.mode = mode
    answer = await _verify(world)
    assert answer["verified"] is False
    assert answer["outcome"] == "inconclusive", answer["checks"]
    proof = _proof(answer)
    assert proof["status"] == "inconclusive"
    assert proof["problem_type"] == DID_DOCUMENT_UNREACHABLE
    assert "réessayez plus tard" in proof["reason_fr"]
    assert "try again later" in proof["reason_en"]
    assert proof["reason"] == proof["reason_fr"]
    others = {c["name"]: c for c in answer["checks"]}
    assert others["status"]["status"] == "inconclusive"
    assert "pas encore pu être vérifiée" in others["status"]["reason_fr"]
    world.host.mode = "ok"
    assert (await _verify(world))["verified"] is True  # back once the host answers


@pytest.mark.parametrize("mode", ["nokey", "404"])
async def test_a_document_that_answers_without_the_key_still_fails(world: World, mode: str) -> None:
    world.host.mode = mode
    answer = await _verify(world)
    assert answer["outcome"] == "not-verified"
    assert _proof(answer)["status"] == "failed"


async def test_proof_verification_does_not_hold_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_verify = verification.verify_proof

    async def slow_cpu(document: Any, resolver: Any) -> Any:
        time.sleep(0.4)  # noqa: ASYNC251 - stands for a long canonicalization: CPU, no await
        return await engine_verify(document, resolver)

    monkeypatch.setattr(verification, "verify_proof", slow_cpu)
    lag = 0.0
    running = True

    async def ticker() -> None:
        nonlocal lag
        while running:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = max(lag, time.perf_counter() - started - 0.01)

    ticking = asyncio.create_task(ticker())
    answers = await asyncio.gather(*(_verify(world) for _ in range(3)))
    running = False
    await ticking
    assert all(a["verified"] for a in answers), answers[0]["checks"]
    assert lag < 0.2, f"the event loop stalled for {lag:.2f} s"


def _presentation(world: World, challenge: str) -> dict[str, Any]:
    return sign_presentation(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiablePresentation"],
            "holder": world.holder.controller,
            "verifiableCredential": [world.credential],
        },
        world.holder,
        challenge=challenge,
    )


def test_explain_reads_a_presentations_proof_as_the_holders() -> None:
    """Item 11 for the holder: a presentation's proof needs its holder's DID document."""
    holder = "did:web:holder.example"
    failed = Check.failed(
        CheckName.PROOF,
        "https://w3id.org/security#PROOF_VERIFICATION_ERROR",
        f"The proof is not valid: cannot retrieve {holder}.",
        f"La preuve n'est pas valide : {holder} n'a pas pu être obtenu.",
        details={"verification_method": f"{holder}#key-1", "signer": None},
    )
    result = VerificationResult(
        checks=(failed,),
        is_presentation=True,
        credential=CredentialSummary(subject_id=holder),
    )
    explained = explain(result, {holder})
    proof = explained.check(CheckName.PROOF)
    assert proof is not None
    assert proof.status is CheckStatus.INCONCLUSIVE
    assert proof.problem_type == DID_DOCUMENT_UNREACHABLE
    assert "holder" in proof.reason_en
    assert "détenteur" in proof.reason_fr
    assert "présentation" in proof.reason_fr
    # Without a holder, the proof's verification method names the signer.
    anonymous = result.model_copy(update={"credential": CredentialSummary()})
    assert explain(anonymous, {holder}).check(CheckName.PROOF).status is CheckStatus.INCONCLUSIVE  # type: ignore[union-attr]
    # A holder whose document was fetched (not in the set): the failure stands.
    assert explain(result, {"did:web:other.example"}).check(CheckName.PROOF) == failed


async def _present(world: World, presented: dict[str, Any], challenge: str) -> dict[str, Any]:
    response = await world.client.post(
        "/v1/verify?lang=fr", json={"credential": presented, "challenge": challenge}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_an_unreachable_holder_document_gives_inconclusive(world: World) -> None:
    """The same through the service: holder's host down, then up, then without the key."""
    challenge = uuid.uuid4().hex
    presented = _presentation(world, challenge)
    baseline = _proof(await _present(world, presented, challenge))
    assert baseline["status"] == "passed", baseline
    world.host.down.add("holder")
    answer = await _present(world, presented, challenge)
    proof = _proof(answer)
    assert proof["status"] == "inconclusive", json.dumps(proof)
    assert proof["problem_type"] == DID_DOCUMENT_UNREACHABLE
    assert "détenteur" in proof["reason_fr"]
    assert answer["outcome"] == "inconclusive", answer["checks"]
    world.host.down.clear()
    assert _proof(await _present(world, presented, challenge))["status"] == "passed"
    world.host.mode = "nokey"  # fetched, without the holder's key: a forgery
    answer = await _present(world, presented, challenge)
    assert _proof(answer)["status"] == "failed"
    assert answer["outcome"] == "not-verified"
