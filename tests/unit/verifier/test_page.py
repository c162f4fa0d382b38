"""The server-rendered page: FR/EN, accessible markup, paste and upload, same answer as the API."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from verifier_support import Issuer, RegistryStandIn, StatusList, build_app, serve, settings_for


@pytest.fixture
async def page_world() -> AsyncIterator[tuple[httpx.AsyncClient, Issuer, StatusList]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        built = build_app(settings_for(base))
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield client, issuer, revocation


class TestPage:
    @pytest.mark.parametrize(
        ("params", "headers", "lang", "heading"),
        [
            ({"lang": "fr"}, {}, "fr", "Vérifier un titre de compétences"),
            ({"lang": "en"}, {"Accept-Language": "fr"}, "en", "Verify a credential"),
            ({}, {"Accept-Language": "en-CA,en;q=0.8"}, "en", "Verify a credential"),
            ({}, {}, "fr", "Vérifier un titre de compétences"),
        ],
    )
    async def test_form_in_both_languages(
        self,
        page_world: Any,
        params: dict[str, str],
        headers: dict[str, str],
        lang: str,
        heading: str,
    ) -> None:
        client, _, _ = page_world
        response = await client.get("/", params=params, headers=headers)
        assert response.status_code == 200
        html = response.text
        assert f'<html lang="{lang}">' in html
        assert f"<h1>{heading}</h1>" in html
        assert '<label for="credential">' in html
        assert '<label for="file">' in html
        assert 'enctype="multipart/form-data"' in html
        assert "<script" not in html
        assert (
            "Qu'est-ce qu'un micro-titre?" if lang == "fr" else "What is a micro-credential?"
        ) in (html.replace("&#39;", "'"))
        assert len(response.content) < 200_000

    async def test_paste_shows_the_same_answer_as_the_api(self, page_world: Any) -> None:
        client, issuer, revocation = page_world
        credential, _ = await issuer.issue(lists=[revocation])
        response = await client.post("/", data={"credential": json.dumps(credential), "lang": "en"})
        assert response.status_code == 200
        html = response.text
        assert 'role="status"' in html
        assert "Credential verified" in html
        assert "Boreal College" in html
        assert "Teaching with AI" in html
        assert "DigCompEdu" in html
        assert "15 h" in html
        assert html.count('class="st-passed"') == 5

    async def test_upload_a_file_in_french(self, page_world: Any) -> None:
        client, issuer, revocation = page_world
        credential, _ = await issuer.issue(lists=[revocation])
        tampered = json.loads(json.dumps(credential))
        tampered["credentialSubject"]["achievement"]["name"] = "Falsifié"
        response = await client.post(
            "/",
            data={"lang": "fr"},
            files={"file": ("badge.json", json.dumps(tampered).encode(), "application/json")},
        )
        html = response.text
        assert "Titre NON vérifié" in html
        assert re.search(r'class="st-failed"><span class="badge">Échec</span> — Signature', html)

    async def test_unreadable_input_is_explained(self, page_world: Any) -> None:
        client, _, _ = page_world
        empty = await client.post("/", data={"credential": "  ", "lang": "en"})
        assert empty.status_code == 400
        assert "Paste the credential content" in empty.text
        broken = await client.post("/", data={"credential": '{"a": ', "lang": "fr"})
        assert broken.status_code == 400
        assert 'role="alert"' in broken.text
