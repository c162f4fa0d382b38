"""Supersession (R52): the verifier names the credential that replaces a re-issued one.

The issuer stand-in (``SharesStandIn``) answers ``GET /v1/public/credentials/{id}/supersession``
over real HTTP; the registry stand-in recognises the institution. The answer is a notice (API
field, warning, page paragraph), distinct from revocation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from verifier_support import (
    Issuer,
    RegistryStandIn,
    SharesStandIn,
    serve,
    settings_for,
    verifier_client,
)

from sceau_verifier.settings import SharesSettings

NEW_ID = "urn:uuid:0b5c7a4e-9a47-4c8e-8f7c-3a1e2d4c5b6a"


@dataclass
class World:
    client: httpx.AsyncClient
    registry: RegistryStandIn
    issuer: Issuer
    stand_in: SharesStandIn

    async def verify(self, credential: Any, lang: str = "en") -> dict[str, Any]:
        response = await self.client.post("/v1/verify", json=credential, params={"lang": lang})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def supersede(
        self, credential: dict[str, Any], *, revoked: bool = False, did: str = ""
    ) -> None:
        self.stand_in.superseded[credential["id"]] = {
            "credential_id": credential["id"],
            "issuer_did": did or self.issuer.did,
            "superseded_by": NEW_ID,
            "superseded_at": "2026-12-01T10:00:00Z",
            "revoked": revoked,
        }


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry, stand_in = RegistryStandIn(), SharesStandIn()
    async with serve(registry.app()) as base, serve(stand_in.app()) as issuer_base:
        issuer = Issuer()
        registry.register(issuer)
        async with verifier_client(
            settings_for(base, shares=SharesSettings(issuer_url=issuer_base))
        ) as client:
            yield World(client, registry, issuer, stand_in)


async def test_a_renewed_credential_is_valid_and_names_its_replacement(world: World) -> None:
    credential, _ = await world.issuer.issue(lists=[])
    assert isinstance(credential, dict)
    world.supersede(credential)
    answer = await world.verify(credential, lang="fr")
    assert answer["verified"] is True  # superseded is not revoked
    assert answer["superseded_by"] == NEW_ID
    (notice,) = [w for w in answer["warnings"] if w["code"] == "warn_superseded"]
    assert NEW_ID in notice["message_fr"]
    assert "remplacé" in notice["message"]
    assert "superseded" in notice["message_en"]


async def test_a_corrected_credential_says_revoked_because_replaced(world: World) -> None:
    credential, _ = await world.issuer.issue(lists=[])
    assert isinstance(credential, dict)
    world.supersede(credential, revoked=True)
    answer = await world.verify(credential)
    assert answer["superseded_by"] == NEW_ID
    assert [w["code"] for w in answer["warnings"]].count("warn_superseded_revoked") == 1


async def test_an_answer_naming_another_issuer_is_ignored(world: World) -> None:
    credential, _ = await world.issuer.issue(lists=[])
    assert isinstance(credential, dict)
    world.supersede(credential, did=Issuer().did)
    answer = await world.verify(credential)
    assert answer["superseded_by"] is None


async def test_current_credentials_are_asked_once_and_forgeries_never(world: World) -> None:
    credential, _ = await world.issuer.issue(lists=[])
    assert isinstance(credential, dict)
    first = await world.verify(credential)
    again = await world.verify(credential)
    assert first["superseded_by"] is None
    assert again["superseded_by"] is None
    assert world.stand_in.supersession_asked == [
        credential["id"]
    ]  # "nothing to report" is kept too
    forged = {**credential, "name": "Forged"}
    world.supersede(forged)
    assert (await world.verify(forged))["superseded_by"] is None
    stranger, _ = await Issuer().issue(lists=[])  # valid proof, unregistered institution
    assert isinstance(stranger, dict)
    world.supersede(stranger)
    assert (await world.verify(stranger))["superseded_by"] is None
    assert world.stand_in.supersession_asked == [credential["id"]]


async def test_the_page_shows_the_replacement_in_both_languages(world: World) -> None:
    credential, _ = await world.issuer.issue(lists=[])
    assert isinstance(credential, dict)
    world.supersede(credential)
    import json

    for lang, label in (("fr", "Remplacé par"), ("en", "Superseded by")):
        page = await world.client.post(
            f"/?lang={lang}", data={"credential": json.dumps(credential), "lang": lang}
        )
        assert page.status_code == 200
        assert label in page.text
        assert NEW_ID in page.text
        assert 'class="superseded"' in page.text
        assert page.text.count(NEW_ID) == 2  # the label's value and the sentence, not a warning


async def test_an_unreachable_issuer_means_no_notice_and_a_short_pause(world: World) -> None:
    from sceau_verifier.supersession import SupersessionClient

    async with httpx.AsyncClient() as http:
        client = SupersessionClient(
            http, SharesSettings(issuer_url="http://127.0.0.1:9", timeout_s=1)
        )
        credential_id = "urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d"
        assert await client.lookup(credential_id, "did:key:z6Mk") is None
        assert await client.lookup(credential_id, "did:key:z6Mk") is None
        assert client.requests == 1  # paused after the failure
        assert await client.lookup("https://not-a-uuid.example/1", "did:key:z6Mk") is None
        assert client.requests == 1


async def test_a_re_issue_shows_once_the_short_current_answer_expires() -> None:
    from sceau_verifier.supersession import SupersessionClient

    credential_id = "urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d"
    answers = [httpx.Response(404)]

    def issuer(request: httpx.Request) -> httpx.Response:
        return answers[-1]

    now = [1000.0]
    client = SupersessionClient(
        httpx.AsyncClient(transport=httpx.MockTransport(issuer)),  # no sockets to close
        SharesSettings(issuer_url="http://issuer"),
        clock=lambda: now[0],
    )
    assert await client.lookup(credential_id, "did:key:z6Mk") is None
    answers.append(
        httpx.Response(
            200,
            json={"credential_id": credential_id, "issuer_did": "did:key:z6Mk",
                  "superseded_by": NEW_ID},
        )
    )  # fmt: skip
    now[0] += 5
    assert await client.lookup(credential_id, "did:key:z6Mk") is None  # still the kept answer
    now[0] += 6
    found = await client.lookup(credential_id, "did:key:z6Mk#key-1")
    assert found is not None
    assert found.superseded_by == NEW_ID
    assert client.requests == 2
