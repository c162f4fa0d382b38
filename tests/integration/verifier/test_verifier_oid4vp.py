"""OpenID4VP at the verifier, end to end: the real verifier over HTTP, its store on the real
MongoDB-protocol server, a wallet library nobody here wrote (``@openid4vc/openid4vp``) with
Digital Bazaar's ``@digitalbazaar/vc`` signing the presentation (``oid4vp-wallet.mjs``).

Covers: the wallet resolves the signed request by reference and its answer is accepted and
explained; replays (same request, another request), wrong nonce, wrong audience, wrong state,
another holder, a credential not asked for, an expired request — each a clear error with
nothing recorded; a declined request; two replicas sharing the store; fuzzing of the routes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oid4vp_support import bound_credential, holder_keys, oid4vp_settings, wallet
from pymongo import AsyncMongoClient
from verifier_support import Issuer, RegistryStandIn, build_app, free_port, serve, settings_for

from sceau_credentials.keys import SigningKey
from sceau_dev.testing.fixtures import Endpoints
from sceau_shared.settings import HttpSettings, KafkaSettings
from sceau_verifier.app import create_api
from sceau_verifier.oid4vp.repository import Oid4vpRepository
from sceau_verifier.settings import Oid4vpSettings, StatusSettings, TrustSettings, VerifierSettings

pytestmark = [pytest.mark.integration, pytest.mark.interop]

ACHIEVEMENT = "https://boreal.example/achievements/teaching-with-ai"
ANOTHER_VERIFIER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _settings(
    registry: str, kafka: KafkaSettings, oid4vp: Oid4vpSettings | None, public: str
) -> VerifierSettings:
    url = httpx.URL(registry)
    values: dict[str, Any] = {
        "kafka": kafka,
        "status": StatusSettings(
            allowed_hosts=[f"{url.host}:{url.port}"], allow_private_hosts=True
        ),
        "trust": TrustSettings(registry_url=registry),
        "http": HttpSettings(port=8003, public_base_url=public, rate_limit_per_minute=100_000),
    }
    if oid4vp is not None:
        values["oid4vp"] = oid4vp
    return VerifierSettings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Live:
    base: str
    http: httpx.AsyncClient
    issuer: Issuer
    registry: RegistryStandIn
    db: Any
    settings: VerifierSettings

    async def ask(self, **body: Any) -> dict[str, Any]:
        created = await self.http.post(
            "/v1/oid4vp/requests", json=body or {"achievement_id": ACHIEVEMENT}
        )
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer

    async def status(self, created: dict[str, Any], lang: str = "en") -> dict[str, Any]:
        read = await self.http.get(
            f"/v1/oid4vp/requests/{created['request_id']}?lang={lang}",
            headers={"Authorization": f"Bearer {created['read_token']}"},
        )
        assert read.status_code == 200, read.text
        body: dict[str, Any] = read.json()
        return body


@pytest.fixture
async def live(
    kafka_settings: KafkaSettings, real_endpoints: Endpoints, unique_id: str
) -> AsyncIterator[Live]:
    registry = RegistryStandIn()
    issuer = Issuer()
    registry.register(issuer)
    database = f"t_{unique_id}_verifier"
    async with serve(registry.app()) as registry_base:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        settings_ = _settings(
            registry_base,
            kafka_settings,
            oid4vp_settings(real_endpoints.mongo_uri, database),
            public,
        )
        app = create_api(settings_)
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(real_endpoints.mongo_uri)
        try:
            async with (
                serve(app, port, lifespan=True) as base,
                httpx.AsyncClient(base_url=base, timeout=30) as http,
            ):
                yield Live(base, http, issuer, registry, mongo[database], settings_)
        finally:
            await mongo.drop_database(database)
            await mongo.close()


async def test_a_wallet_library_presents_a_credential_and_the_employer_reads_it(
    live: Live,
) -> None:
    holder = SigningKey.generate()
    credential = await bound_credential(live.issuer, holder, ACHIEVEMENT)
    created = await live.ask(achievement_id=ACHIEVEMENT, issuer=live.issuer.did)
    assert created["deep_link"].startswith("openid4vp://?")
    assert (await live.status(created))["status"] == "pending"
    other = await live.ask()
    got = await wallet(
        {
            "link": created["deep_link"],
            "holder": holder_keys(holder),
            "credential": credential,
            "replay": True,
            "alsoTo": other["deep_link"],
        }
    )
    assert "error" not in got, got
    # The library verified our signed request object (did:key of the verifier) by reference.
    assert got["client"] == "decentralized_identifier"
    assert got["request"]["client_id"] == created["client_id"]
    assert got["request"]["response_mode"] == "direct_post"
    assert got["status"] == 200, got["body"]
    assert got["holder"] == holder.did_key
    # The same answer again: refused as a replay; towards another request: wrong nonce.
    assert got["replayStatus"] == 409, got["replayBody"]
    assert got["replayBody"]["reason"] == "already_answered"
    assert got["alsoStatus"] == 400, got["alsoBody"]
    assert got["alsoBody"]["reason"] == "wrong_nonce"
    assert got["alsoBody"]["detail_fr"]
    assert got["alsoBody"]["error"] == "invalid_request"
    assert (await live.status(other))["status"] == "pending"

    status = await live.status(created)
    assert status["status"] == "answered"
    assert status["verified"] is True, status
    assert status["holder"] == holder.did_key
    assert {c["name"] for c in status["checks"]} == {"nonce", "audience", "holder_binding", "query"}
    [presentation] = status["presentations"]
    [inner] = presentation["credentials"]
    assert inner["verified"] is True
    assert inner["summary"]["achievement_name"] == "Teaching with AI"
    french = await live.status(created, lang="fr")
    assert french["presentations"][0]["credentials"][0]["summary"]["achievement_name"] == (
        "Enseigner avec l'IA"
    )
    # Another token reads nothing.
    stranger = await live.http.get(
        f"/v1/oid4vp/requests/{created['request_id']}",
        headers={"Authorization": "Bearer not-the-token"},
    )
    assert stranger.status_code == 404
    assert stranger.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"challenge": "not-the-nonce"}, "wrong_nonce"),
        ({"domain": f"decentralized_identifier:{ANOTHER_VERIFIER}"}, "wrong_audience"),
        ({"otherHolder": True}, "holder_binding"),
        ({"state": "another-state"}, "wrong_state"),
    ],
)
async def test_a_wrong_answer_is_refused_clearly_and_nothing_is_recorded(
    live: Live, override: dict[str, Any], reason: str
) -> None:
    holder = SigningKey.generate()
    credential = await bound_credential(live.issuer, holder, ACHIEVEMENT)
    created = await live.ask()
    payload = {
        "link": created["deep_link"],
        "holder": holder_keys(holder),
        "credential": credential,
    }
    got = await wallet({**payload, **override})
    assert "error" not in got, got
    assert got["status"] == 400, got["body"]
    assert got["body"]["reason"] == reason
    assert got["body"]["detail_en"]
    assert got["body"]["detail_fr"]
    assert await live.db["oid4vp_answers"].find_one({"_id": created["request_id"]}) is None
    assert (await live.status(created))["status"] == "pending"
    # Nothing was spent: the honest wallet's answer is still taken.
    honest = await wallet(payload)
    assert honest["status"] == 200, honest


async def test_a_credential_that_was_not_asked_for_is_refused(live: Live) -> None:
    holder = SigningKey.generate()
    credential = await bound_credential(
        live.issuer, holder, "https://boreal.example/achievements/other"
    )
    created = await live.ask()
    got = await wallet(
        {"link": created["deep_link"], "holder": holder_keys(holder), "credential": credential}
    )
    assert got["status"] == 400, got
    assert got["body"]["reason"] == "not_requested"


async def test_an_expired_request_is_refused(live: Live) -> None:
    holder = SigningKey.generate()
    credential = await bound_credential(live.issuer, holder, ACHIEVEMENT)
    created = await live.ask()
    resolved = await wallet({"link": created["deep_link"], "resolveOnly": True})
    request = resolved["request"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await live.db["oid4vp_requests"].update_one(
        {"_id": created["request_id"]}, {"$set": {"expires_at": past}}
    )
    got = await wallet(
        {"link": created["deep_link"], "holder": holder_keys(holder), "credential": credential}
    )
    assert "410" in got.get("error", ""), got  # the wallet cannot even fetch it
    late = await live.http.post(
        urlsplit(request["response_uri"]).path,
        data={"vp_token": json.dumps({"ob3_ldp": [{}]}), "state": request["state"]},
    )
    assert late.status_code == 410
    assert late.json()["reason"] == "expired"
    assert (await live.status(created))["status"] == "expired"


async def test_a_wallet_may_decline(live: Live) -> None:
    created = await live.ask()
    got = await wallet({"link": created["deep_link"], "decline": True})
    assert got["status"] == 200, got
    status = await live.status(created)
    assert (status["status"], status["wallet_error"]) == ("declined", "access_denied")


async def test_two_replicas_share_the_requests(live: Live) -> None:
    """Created and read on one replica, fetched and answered through another."""
    holder = SigningKey.generate()
    credential = await bound_credential(live.issuer, holder, ACHIEVEMENT)
    # Replica two: the same store, request key and public URL (the wallet reaches replica one).
    async with (
        serve(create_api(live.settings), lifespan=True) as second_base,
        httpx.AsyncClient(base_url=second_base, timeout=30) as second,
    ):
        created = (
            await second.post("/v1/oid4vp/requests", json={"achievement_id": ACHIEVEMENT})
        ).json()
        assert created["request_uri"].startswith(live.base)
        got = await wallet(
            {"link": created["deep_link"], "holder": holder_keys(holder), "credential": credential}
        )
        assert got["status"] == 200, got
        read = await second.get(
            f"/v1/oid4vp/requests/{created['request_id']}",
            headers={"Authorization": f"Bearer {created['read_token']}"},
        )
        assert read.json()["status"] == "answered"
        assert read.json()["verified"] is True


_TEXT = st.text(max_size=80)
_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


def test_fuzzing_the_openid4vp_routes_never_breaks_or_records(
    real_endpoints: Endpoints, unique_id: str
) -> None:
    """Any answer form, any request body, any id or token: 4xx problems, never a 5xx, and
    nothing recorded but a decline that carried the request's own state."""
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    database = f"t_{unique_id}_fuzz"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(real_endpoints.mongo_uri)

    async def setup() -> tuple[httpx.AsyncClient, dict[str, Any]]:
        registry = RegistryStandIn()
        base = await stack.enter_async_context(serve(registry.app()))
        built = build_app(
            settings_for(
                base,
                http=HttpSettings(rate_limit_per_minute=0),
                oid4vp=oid4vp_settings(real_endpoints.mongo_uri, database),
            )
        )
        manager = await stack.enter_async_context(LifespanManager(built.app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://v")
        )
        created = await client.post("/v1/oid4vp/requests", json={"issuer": "did:key:z6Mkx"})
        assert created.status_code == 201, created.text
        return client, created.json()

    try:
        client, created = loop.run_until_complete(setup())
        answers = mongo[database]["oid4vp_answers"]

        @given(
            vp_token=st.one_of(st.none(), _TEXT, _JSONISH.map(json.dumps)),
            state=st.one_of(st.none(), _TEXT, st.just(created["request_id"])),
            error=st.one_of(st.none(), _TEXT),
            body=_JSONISH,
            some_id=st.text(max_size=70),
        )
        @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        def check(
            vp_token: str | None, state: str | None, error: str | None, body: Any, some_id: str
        ) -> None:
            form = {
                k: v
                for k, v in {"vp_token": vp_token, "state": state, "error": error}.items()
                if v is not None
            }
            answered = loop.run_until_complete(
                client.post(f"/oid4vp/response/{created['request_id']}", data=form)
            )
            assert answered.status_code in {200, 400, 422}, answered.text
            if answered.status_code != 200:
                assert answered.headers["content-type"] == "application/problem+json"
            # No forged state matches: nothing is ever recorded.
            recorded = loop.run_until_complete(answers.find_one({"_id": created["request_id"]}))
            assert recorded is None, (form, answered.text)
            made = loop.run_until_complete(client.post("/v1/oid4vp/requests", json=body))
            assert made.status_code in {201, 422}, made.text
            some_id = quote(some_id, safe="") or "x"
            for path in (
                f"/v1/oid4vp/requests/{some_id}",
                f"/oid4vp/request/{some_id}",
                f"/oid4vp/sessions/{some_id}",
                f"/oid4vp/sessions/{some_id}/state",
            ):
                got = loop.run_until_complete(
                    client.get(path, headers={"Authorization": f"Bearer {some_id.encode().hex()}"})
                )
                assert got.status_code < 500, (path, got.text)

        check()
    finally:
        loop.run_until_complete(stack.aclose())
        loop.run_until_complete(mongo.drop_database(database))
        loop.run_until_complete(mongo.close())
        loop.close()


async def test_the_sweeper_deletes_only_what_is_past_its_keeping_time(live: Live) -> None:
    repository = Oid4vpRepository(None, live.db, timeout_s=5)
    now = datetime.now(UTC)
    await live.db["oid4vp_requests"].insert_many(
        [
            {"_id": "old-request-000000", "purge_at": now - timedelta(seconds=1)},
            {"_id": "kept-request-00000", "purge_at": now + timedelta(hours=1)},
        ]
    )
    await live.db["oid4vp_answers"].insert_one(
        {"_id": "old-request-000000", "purge_at": now - timedelta(seconds=1)}
    )
    assert await repository.sweep(now) == 2
    left = [doc["_id"] async for doc in live.db["oid4vp_requests"].find({})]
    assert left == ["kept-request-00000"]
    assert await live.db["oid4vp_answers"].count_documents({}) == 0
