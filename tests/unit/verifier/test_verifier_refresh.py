"""``refreshService`` (1EdTechCredentialRefresh): followed once, after the proof check.

The refresh service is a second local HTTP server (real HTTP, loopback allowed by the
development switch); credentials are signed by the engine; the registry stand-in recognises
the institution.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
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


@dataclass
class World:
    client: httpx.AsyncClient
    issuer: Issuer
    service: DocumentServer
    url: str

    async def credential(self, issuer: Issuer | None = None, **extra: Any) -> dict[str, Any]:
        refresh = {"id": self.url, "type": "1EdTechCredentialRefresh"}
        return await signed_with(issuer or self.issuer, refreshService=refresh, **extra)

    async def verify(self, credential: Any, lang: str = "en") -> dict[str, Any]:
        response = await self.client.post("/v1/verify", json=credential, params={"lang": lang})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def codes(answer: dict[str, Any]) -> list[str]:
    return [w["code"] for w in answer["warnings"]]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry, service = RegistryStandIn(), DocumentServer()
    async with serve(registry.app()) as base, serve(service.app()) as service_base:
        issuer = Issuer()
        registry.register(issuer)
        # settings_for turns allow_private_hosts on: the loopback refresh service is allowed.
        async with verifier_client(settings_for(base)) as client:
            yield World(client, issuer, service, f"{service_base}/document")


async def test_the_refreshed_credential_is_verified_and_reported_once(world: World) -> None:
    old = await world.credential()
    newer = await world.credential(name="Updated")  # points at the service too: not followed
    world.service.document = newer
    answer = await world.verify(old, lang="fr")
    assert answer["verified"] is True
    refreshed = answer["refreshed"]
    assert refreshed["verified"] is True
    assert refreshed["summary"]["credential_id"] == newer["id"]
    assert refreshed["refreshed"] is None
    assert world.service.hits == 1  # once: the refreshed credential's service is not followed
    (notice,) = [w for w in answer["warnings"] if w["code"] == "warn_refreshed_verified"]
    assert notice["message"] == notice["message_fr"]
    assert "vérifiée." in notice["message_fr"]
    assert "verified." in notice["message_en"]


async def test_a_tampered_refreshed_credential_is_reported_not_verified(world: World) -> None:
    old = await world.credential()
    newer = await world.credential()
    newer["credentialSubject"]["achievement"]["name"] = "Doctorat"
    world.service.document = newer
    answer = await world.verify(old)
    assert answer["verified"] is True  # the presented credential is still what it is
    assert answer["refreshed"]["verified"] is False
    assert "warn_refreshed_not-verified" in codes(answer)


async def test_another_institutions_credential_is_ignored(world: World) -> None:
    world.service.document = await world.credential(issuer=Issuer())
    answer = await world.verify(await world.credential())
    assert answer["refreshed"] is None
    assert "warn_refresh_other_issuer" in codes(answer)


@pytest.mark.parametrize(
    ("status_code", "document"),
    [(404, {"title": "gone"}), (200, "not a credential"), (200, [1, 2])],
)
async def test_an_unusable_refresh_service_is_a_warning(
    world: World, status_code: int, document: Any
) -> None:
    world.service.status_code = status_code
    world.service.document = json.dumps(document) if isinstance(document, list) else document
    answer = await world.verify(await world.credential())
    assert answer["verified"] is True
    assert answer["refreshed"] is None
    assert "warn_refresh_failed" in codes(answer)


async def test_not_followed_for_unregistered_issuers_or_forgeries(world: World) -> None:
    world.service.document = await world.credential()
    stranger = await world.credential(issuer=Issuer())  # valid proof, not in the registry
    assert (await world.verify(stranger))["refreshed"] is None
    forged = {**(await world.credential()), "name": "Forged"}
    assert (await world.verify(forged))["refreshed"] is None
    assert world.service.hits == 0


async def test_the_page_shows_the_refreshed_version(world: World) -> None:
    world.service.document = await world.credential()
    credential = await world.credential()
    for lang, heading in (
        ("fr", "Version à jour fournie par l&#39;établissement"),
        ("en", "Up-to-date version from the institution"),
    ):
        page = await world.client.post(
            f"/?lang={lang}", data={"credential": json.dumps(credential), "lang": lang}
        )
        assert page.status_code == 200
        assert heading in page.text
        assert page.text.count("outcome outcome-verified") == 2
