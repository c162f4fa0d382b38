"""``GET /s/{token}``: share links resolved through the issuer's contract, verified now, shown.

The issuer is a loopback stand-in serving SHARING.md's ``GET /v1/shares/{token}``
(:mod:`sceau_dev.testing.shares_stand_in`) with documents signed by
:mod:`sceau_dev.testing.credentials`; the registry is its stand-in too.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from verifier_support import (
    Built,
    Issuer,
    RegistryStandIn,
    SharesStandIn,
    StatusList,
    build_app,
    serve,
    served,
    settings_for,
)

from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    AccreditationChangedV1,
    InstitutionStatus,
    ShareOpenedV1,
    VerificationCompletedV1,
)
from sceau_shared.http.server_spans import ServerSpans
from sceau_shared.settings import HttpSettings
from sceau_verifier.api import shares as shares_api
from sceau_verifier.api.redaction import ShareTokenRedaction
from sceau_verifier.consumers import accreditation_changed, status_list_published
from sceau_verifier.settings import SharesSettings
from sceau_verifier.share_pages import PageKey, RenderedShare, SharePages


@dataclass
class ShareWorld:
    client: httpx.AsyncClient
    issuer: Issuer
    revocation: StatusList
    shares: SharesStandIn
    built: Built
    spans: InMemorySpanExporter
    base: str
    registry: RegistryStandIn

    async def share(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        credential, _ = await self.issuer.issue(lists=[self.revocation])
        assert isinstance(credential, dict)
        token, _ = self.shares.add(credential, **kwargs)
        return token, credential

    async def opened(self) -> list[ShareOpenedV1]:
        await self.built.graphs[0].service.drain()
        return [e for e in self.built.events if isinstance(e, ShareOpenedV1)]


async def _world(rate_limit: int = 6000, ttl_s: float = 2.0) -> AsyncIterator[ShareWorld]:
    registry = RegistryStandIn()
    shares = SharesStandIn()
    async with serve(registry.app()) as base, serve(shares.app()) as issuer_url:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        built = build_app(
            settings_for(
                base,
                http=HttpSettings(rate_limit_per_minute=rate_limit),
                shares=SharesSettings(issuer_url=issuer_url, cache_ttl_s=ttl_s),
            )
        )
        # The service's SERVER span middleware, inside the token redaction (as in create_api).
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app = built.app
        app.user_middleware.insert(
            1,
            app.user_middleware[0].__class__(
                ServerSpans, tracer_provider=provider, routes=lambda: app.router.routes
            ),
        )
        assert app.user_middleware[0].cls is ShareTokenRedaction
        async with served(built) as client:
            yield ShareWorld(client, issuer, revocation, shares, built, exporter, base, registry)


async def _refreshed(world: ShareWorld, requests: int) -> None:
    """Wait until the issuer stand-in has had ``requests`` requests (a background refresh)."""
    await eventually(
        lambda: world.shares.requests == requests,
        timeout_s=5,
        interval_s=0.02,
        message="the background refresh",
    )
    await asyncio.sleep(0.05)  # the refreshed answer is stored after the request returns


@pytest.fixture
async def world() -> AsyncIterator[ShareWorld]:
    async for item in _world():
        yield item


def _assert_private(response: httpx.Response) -> None:
    assert "noindex" in response.headers["x-robots-tag"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


class TestSharePage:
    @pytest.mark.parametrize(
        ("params", "headers", "lang", "verified", "what_is"),
        [
            ({"lang": "en"}, {}, "en", "Credential verified", "What is a micro-credential?"),
            ({}, {"Accept-Language": "fr-CA"}, "fr", "Titre vérifié", "Qu'est-ce qu'un micro"),
        ],
    )
    async def test_verified_share_in_the_viewers_language(
        self,
        world: ShareWorld,
        params: dict[str, str],
        headers: dict[str, str],
        lang: str,
        verified: str,
        what_is: str,
    ) -> None:
        token, _ = await world.share()
        response = await world.client.get(f"/s/{token}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        _assert_private(response)
        html = response.text.replace("&#39;", "'")
        assert f'<html lang="{lang}">' in html
        assert '<meta name="robots" content="noindex">' in html
        assert verified in html
        assert what_is in html
        assert "Boreal College" in html or "Collège Boréal" in html
        assert html.count('class="st-passed"') == 5
        assert 'href="?download=1"' in html
        assert token not in html  # links are relative: the page never repeats its token
        assert "<script" not in html
        assert len(response.content) < 200_000
        (event,) = await world.opened()
        share = world.shares.shares[token]
        assert event.share_id == share.share_id
        assert event.institution_id == share.institution_id
        assert event.answer == "verified"
        assert token not in event.model_dump_json()

    async def test_json_is_the_same_answer_as_post_verify(self, world: ShareWorld) -> None:
        token, credential = await world.share()
        shared = await world.client.get(
            f"/s/{token}", params={"lang": "en"}, headers={"Accept": "application/json"}
        )
        assert shared.status_code == 200
        assert shared.headers["content-type"] == "application/json"
        _assert_private(shared)
        direct = await world.client.post("/v1/verify", params={"lang": "en"}, json=credential)
        left, right = shared.json(), direct.json()
        for answer in (left, right):
            answer.pop("verified_at")
            for check in answer["checks"]:
                check["details"].pop("checked_at", None)  # the moment of each verification
        assert left == right
        assert left["verified"] is True
        # A verification is still a verification: both events are published.
        await world.built.graphs[0].service.drain()
        kinds = [type(e) for e in world.built.events]
        assert kinds.count(VerificationCompletedV1) == 2
        assert kinds.count(ShareOpenedV1) == 1

    async def test_revoked_credential_is_a_plain_200(self, world: ShareWorld) -> None:
        credential, index = await world.issuer.issue(lists=[world.revocation])
        assert isinstance(credential, dict)
        token, _ = world.shares.add(credential)
        await world.issuer.set_status(world.revocation, index, True)
        world.built.graphs[0].status_lists.clear()
        en = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert en.status_code == 200
        assert "has revoked or suspended this credential" in en.text
        assert "Credential NOT verified" in en.text
        fr = await world.client.get(f"/s/{token}", params={"lang": "fr"})
        assert "révoqué ou suspendu" in fr.text
        (first, second) = await world.opened()
        assert first.answer == second.answer == "not-verified"

    async def test_expired_credential_is_said_plainly(self, world: ShareWorld) -> None:
        now = datetime.now(UTC)
        credential, _ = await world.issuer.issue(
            lists=[world.revocation],
            issued_at=now - timedelta(days=30),
            valid_until=now - timedelta(days=1),
        )
        assert isinstance(credential, dict)
        token, _ = world.shares.add(credential)
        response = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert response.status_code == 200
        assert "This credential has expired" in response.text

    async def test_hidden_fields_and_expiry_are_told(self, world: ShareWorld) -> None:
        expiry = datetime.now(UTC) + timedelta(days=90)
        token, _ = await world.share(hidden=("result", "evidence"), expires_at=expiry)
        response = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert "chose not to share some parts: the result, the evidence" in response.text
        assert f"expires on {expiry.date().isoformat()}" in response.text

    @pytest.mark.parametrize(
        ("profile", "fmt"), [("jwt", "BitstringStatusList"), ("jwt-1.1", "StatusList2021")]
    )
    async def test_jwt_share(self, world: ShareWorld, profile: str, fmt: str) -> None:
        status_list = world.issuer.add_list(world.base, "revocation", fmt=fmt)
        await world.issuer.sign_list(status_list)
        jwt, _ = await world.issuer.issue(profile, lists=[status_list])
        assert isinstance(jwt, str)
        token, _ = world.shares.add(jwt)
        page = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert "Credential verified" in page.text
        assert 'download="credential.jwt"' in page.text
        download = await world.client.get(f"/s/{token}", params={"download": "1"})
        assert download.headers["content-type"].startswith("application/jwt")
        assert download.text == jwt

    async def test_download_is_the_shown_document_and_not_an_opening(
        self, world: ShareWorld
    ) -> None:
        token, credential = await world.share()
        response = await world.client.get(f"/s/{token}", params={"download": "1"})
        assert response.status_code == 200
        _assert_private(response)
        assert response.headers["content-type"].startswith("application/ld+json")
        assert 'filename="credential.json"' in response.headers["content-disposition"]
        assert json.loads(response.content) == credential
        assert await world.opened() == []


class TestRefusals:
    @pytest.mark.parametrize(
        ("lang", "title", "body"),
        [
            ("en", "This link is no longer valid", "has withdrawn it"),
            ("fr", "Ce lien n&#39;est plus valide", "l&#39;a retiré"),
        ],
    )
    async def test_revoked_share_is_410(
        self, world: ShareWorld, lang: str, title: str, body: str
    ) -> None:
        token, _ = await world.share(state="revoked")
        response = await world.client.get(f"/s/{token}", params={"lang": lang})
        assert response.status_code == 410
        _assert_private(response)
        assert f"<h1>{title}</h1>" in response.text
        assert body in response.text
        assert '<meta name="robots" content="noindex">' in response.text
        assert await world.opened() == []

    async def test_expired_share_is_410_and_json_clients_get_a_problem(
        self, world: ShareWorld
    ) -> None:
        token, _ = await world.share(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        page = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert page.status_code == 410
        assert "This share link has expired" in page.text
        problem = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert problem.status_code == 410
        assert problem.headers["content-type"] == "application/problem+json"
        body = problem.json()
        assert body["type"].endswith("/share-gone")
        assert body["reason"] == "expired"
        assert token not in problem.text

    @pytest.mark.parametrize("state", ["unknown", "not-accepted", "malformed"])
    async def test_unknown_tokens_are_404(self, world: ShareWorld, state: str) -> None:
        if state == "unknown":
            token = "A" * 43
        elif state == "malformed":
            token = "short"
        else:
            token, _ = await world.share(state="not-accepted")
        before = world.shares.requests
        page = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert page.status_code == 404
        assert "<h1>Link not found</h1>" in page.text
        _assert_private(page)
        problem = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
        # Malformed tokens never reach the issuer; refusals are cached like answers.
        assert world.shares.requests - before == (0 if state == "malformed" else 1)

    async def test_issuer_down_is_503_never_a_verification(self, world: ShareWorld) -> None:
        token, _ = await world.share()
        world.shares.down = True
        page = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert page.status_code == 503
        assert "temporarily unavailable" in page.text
        problem = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert problem.status_code == 503
        assert await world.opened() == []

    async def test_robots_txt_disallows_share_links(self, world: ShareWorld) -> None:
        response = await world.client.get("/robots.txt")
        assert response.status_code == 200
        assert "Disallow: /s/" in response.text


class TestCacheAndPrivacy:
    async def test_answers_are_kept_briefly_so_a_revocation_shows_within_seconds(self) -> None:
        # A TTL of 1 s: past it the answer is served for one more second, enough slack for a
        # loaded machine (0.3 s left too little: the grace could end before the next request).
        async for world in _world(ttl_s=1.0):
            token, _ = await world.share()
            for _ in range(5):
                assert (await world.client.get(f"/s/{token}")).status_code == 200
            assert world.shares.requests == 1
            world.shares.shares[token].revoked = True
            await asyncio.sleep(1.05)
            # Past the TTL: the held answer once more, while one background request refreshes.
            assert (await world.client.get(f"/s/{token}")).status_code == 200
            await _refreshed(world, 2)
            assert (await world.client.get(f"/s/{token}")).status_code == 410
            assert world.shares.requests == 2

    async def test_an_answer_is_never_served_past_two_ttls(self) -> None:
        # A TTL of 1 s, so a loaded machine (CI) still gets its stale request in within the grace.
        async for world in _world(ttl_s=1.0):
            token, _ = await world.share()
            assert (await world.client.get(f"/s/{token}")).status_code == 200
            world.shares.down = True
            await asyncio.sleep(1.05)
            # Stale but within the grace TTL: served; its refresh fails (logged, not kept).
            assert (await world.client.get(f"/s/{token}")).status_code == 200
            await asyncio.sleep(1.0)
            assert (await world.client.get(f"/s/{token}")).status_code == 503

    async def test_an_unchanged_answer_is_not_parsed_again(self) -> None:
        async for world in _world(ttl_s=0.5):
            token, _ = await world.share()
            client = world.built.graphs[0].shares
            first = await client.resolve(token)
            await asyncio.sleep(0.55)
            await client.resolve(token)  # stale: served while one request refreshes it
            await _refreshed(world, 2)
            assert await client.resolve(token) is first  # same bytes: the same share object
            world.shares.shares[token].hidden = ["result"]
            await asyncio.sleep(0.55)
            await client.resolve(token)
            await _refreshed(world, 3)
            changed = await client.resolve(token)
            assert changed is not first
            assert changed.hidden == ("result",)

    async def test_concurrent_openings_make_one_issuer_request(self, world: ShareWorld) -> None:
        token, _ = await world.share()
        answers = await asyncio.gather(*(world.client.get(f"/s/{token}") for _ in range(8)))
        assert {a.status_code for a in answers} == {200}
        assert world.shares.requests == 1

    async def test_rate_limited(self) -> None:
        async for world in _world(rate_limit=3):
            token, _ = await world.share()
            codes = [(await world.client.get(f"/s/{token}")).status_code for _ in range(6)]
            assert codes[0] == 200
            assert 429 in codes

    async def test_token_never_in_spans_logs_or_problems(
        self, world: ShareWorld, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        token, _ = await world.share()
        gone, _ = await world.share(state="revoked")
        await world.client.get(f"/s/{token}")
        await world.client.get(f"/s/{token}", params={"download": "1"})
        await world.client.get(f"/s/{gone}", headers={"Accept": "application/json"})
        world.shares.down = True
        world.built.graphs[0].shares.clear()
        await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        spans = [s for s in world.spans.get_finished_spans() if "/s/" in str(s.attributes or {})]
        assert len(spans) == 4
        for span in spans:
            assert token not in span.name
            attributes = json.dumps(dict(span.attributes or {}))
            assert token not in attributes
            assert gone not in attributes
            assert (span.attributes or {})["url.path"] == "/s/redacted"
        # The service's own records (the test's client logs its requests as "httpx" too).
        logged = "\n".join(
            record.getMessage()
            for record in caplog.records
            if "http://verifier/" not in record.getMessage()
        )
        assert token not in logged
        assert gone not in logged


class TestKeptAnswers:
    """Rendered answers are kept as long as the share answer, and dropped by the cache events."""

    async def test_a_kept_page_is_dropped_when_the_status_list_changes(
        self, world: ShareWorld
    ) -> None:
        credential, index = await world.issuer.issue(lists=[world.revocation])
        assert isinstance(credential, dict)
        token, _ = world.shares.add(credential)
        graph = world.built.graphs[0]
        first = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert "Credential verified" in first.text
        again = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert graph.share_pages.hits == 1
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["content-language"] == "en"
        _assert_private(again)
        # Revoked at the issuer: until the list's event arrives, the kept page is what the
        # verifier knows (its status list cache holds the old list too).
        await world.issuer.set_status(world.revocation, index, True)
        kept = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert "Credential verified" in kept.text
        await status_list_published(world.issuer.published(world.revocation), graph)
        assert len(graph.share_pages) == 0
        revoked = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert revoked.status_code == 200
        assert "has revoked or suspended this credential" in revoked.text
        assert "Credential NOT verified" in revoked.text
        answer = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert answer.json()["verified"] is False

    async def test_an_accreditation_change_drops_kept_answers(self, world: ShareWorld) -> None:
        token, _ = await world.share()
        graph = world.built.graphs[0]
        await world.client.get(f"/s/{token}")
        assert len(graph.share_pages) == 1
        await accreditation_changed(
            AccreditationChangedV1(
                producer="sceau-registry",
                institution_id="inst",
                status=InstitutionStatus.SUSPENDED,
                effective_at=datetime.now(UTC),
            ),
            graph,
        )
        assert len(graph.share_pages) == 0

    async def test_every_opening_is_reported_even_from_a_kept_answer(
        self, world: ShareWorld
    ) -> None:
        token, _ = await world.share()
        for _ in range(3):
            await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert world.built.graphs[0].share_pages.hits == 2
        await world.built.graphs[0].service.drain()
        opened = [e for e in world.built.events if isinstance(e, ShareOpenedV1)]
        completed = [e for e in world.built.events if isinstance(e, VerificationCompletedV1)]
        assert len(opened) == len(completed) == 3
        assert len({e.event_id for e in completed}) == 3
        assert {e.credential_id_hash for e in completed} == {completed[0].credential_id_hash}
        assert {e.answer for e in opened} == {"verified"}

    async def test_languages_and_media_types_are_kept_apart(self, world: ShareWorld) -> None:
        token, _ = await world.share()
        for _ in range(2):
            en = await world.client.get(f"/s/{token}", params={"lang": "en"})
            fr = await world.client.get(f"/s/{token}", params={"lang": "fr"})
            machine = await world.client.get(
                f"/s/{token}", params={"lang": "en"}, headers={"Accept": "application/json"}
            )
            assert "Credential verified" in en.text
            assert "Titre vérifié" in fr.text
            assert machine.json()["lang"] == "en"
        assert world.built.graphs[0].share_pages.hits == 3

    async def test_an_inconclusive_answer_is_not_kept(self, world: ShareWorld) -> None:
        token, _ = await world.share()
        world.registry.down = True  # status list and trust answers out of reach
        for _ in range(2):
            answer = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
            assert answer.json()["outcome"] == "inconclusive"
        assert world.built.graphs[0].share_pages.hits == 0
        world.registry.down = False
        answer = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert answer.json()["outcome"] == "verified"

    async def test_kept_answers_expire_with_the_share_ttl(self) -> None:
        async for world in _world(ttl_s=0.5):
            token, _ = await world.share()
            pages = world.built.graphs[0].share_pages
            await world.client.get(f"/s/{token}")
            await world.client.get(f"/s/{token}")
            assert pages.hits == 1
            await asyncio.sleep(0.55)
            assert (await world.client.get(f"/s/{token}")).status_code == 200
            assert pages.hits == 1  # verified again

    async def test_a_kept_page_is_sent_by_the_gate_with_the_routes_headers(
        self, world: ShareWorld, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        token, _ = await world.share()
        resolved = 0
        route_resolve = shares_api._resolve

        async def counted(graph: Any, token: str) -> Any:
            nonlocal resolved
            resolved += 1
            return await route_resolve(graph, token)

        monkeypatch.setattr(shares_api, "_resolve", counted)
        first = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert resolved == 1
        again = await world.client.get(f"/s/{token}", params={"lang": "en"})
        assert resolved == 1  # the gate sent it: the route did not run
        assert again.content == first.content
        assert dict(again.headers.items()) == dict(first.headers.items())
        _assert_private(again)
        # Anything the gate does not key exactly like the route goes to the route.
        await world.client.get(f"/s/{token}", params={"lang": "en", "download": "1"})
        await world.client.get(f"/s/{token}", params={"lang": "EN"})
        await world.client.get(f"/s/{token}", params=[("lang", "en"), ("lang", "fr")])
        assert resolved == 4
        json_first = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        json_again = await world.client.get(f"/s/{token}", headers={"Accept": "application/json"})
        assert resolved == 5
        assert json_again.json() == json_first.json()
        spans = [s for s in world.spans.get_finished_spans() if s.name == "GET /s/{token}"]
        assert len(spans) == 7  # kept answers sent by the gate are named by the route too
        opened = await world.opened()
        assert len(opened) == 6  # every opening but the download

    async def test_a_revoked_share_is_410_although_its_page_is_kept(self) -> None:
        async for world in _world(ttl_s=0.2):
            token, _ = await world.share()
            assert (await world.client.get(f"/s/{token}")).status_code == 200
            world.shares.shares[token].revoked = True
            world.built.graphs[0].shares.clear()
            assert (await world.client.get(f"/s/{token}")).status_code == 410


def test_an_answer_verified_before_an_invalidation_is_not_kept() -> None:
    pages = SharePages(ttl_s=60, max_entries=4)
    rendered = RenderedShare(b"page", "text/html", {}, "verified", ())
    key: PageKey = ("digest", "en", "html")
    generation = pages.generation
    pages.invalidate()  # a status list event arrives while the verification runs
    assert pages.put(key, rendered, generation=generation) is False
    assert pages.get(key) is None
    assert pages.put(key, rendered, generation=pages.generation) is True
    assert pages.get(key) is rendered
    off = SharePages(ttl_s=60, max_entries=0)
    assert off.put(key, rendered, generation=off.generation) is False


@pytest.mark.parametrize(
    ("lang", "heading", "words"),
    [
        ("fr", "Vous avez reçu un lien ou un code QR?", "lisez le code QR"),
        ("en", "Did you receive a link or a QR code?", "scan the QR code"),
    ],
)
async def test_home_page_explains_links_and_qr_codes(
    world: ShareWorld, lang: str, heading: str, words: str
) -> None:
    response = await world.client.get("/", params={"lang": lang})
    assert response.status_code == 200
    assert f'<h2 id="links-heading">{heading}</h2>' in response.text
    assert words in response.text
    # The home page is meant to be found: indexable, unlike share links.
    assert "noindex" not in response.text
    assert "x-robots-tag" not in response.headers


def test_the_service_app_redacts_before_its_span_middleware() -> None:
    from sceau_verifier.app import create_api
    from sceau_verifier.settings import VerifierSettings

    app = create_api(VerifierSettings(_env_file=None))  # type: ignore[call-arg]
    classes = [m.cls for m in app.user_middleware]
    # user_middleware is outermost first: the token is gone before the span sees the path.
    assert classes.index(ShareTokenRedaction) < classes.index(ServerSpans)
