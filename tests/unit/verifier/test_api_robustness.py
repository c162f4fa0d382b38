"""Bad input never gets a 5xx: malformed bodies, limits, rate limiting, batches."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from verifier_support import Issuer, RegistryStandIn, build_app, serve, settings_for

from sceau_shared.settings import HttpSettings
from sceau_verifier.settings import LimitSettings


@pytest.fixture
async def stack() -> AsyncIterator[tuple[httpx.AsyncClient, RegistryStandIn, str]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        built = build_app(
            settings_for(
                base,
                http=HttpSettings(rate_limit_per_minute=6000, max_body_bytes=64_000),
                limits=LimitSettings(batch_max=5, max_depth=20),
            )
        )
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield client, registry, base


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["detail"]
    return body


class TestMalformedBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b"",
            b"{",
            b'{"credential": {"a": ',
            b"\xff\xfe\x00",
            b"NaN",
            b'{"x": Infinity}',
            b"1" * 5000,
            b'{"credential": {"creditsAvailable": 1e999}}',
            b"-1e400",
            b"[" * 100_000 + b"]" * 100_000,
        ],
        ids=[
            "empty",
            "brace",
            "truncated",
            "not-utf8",
            "nan",
            "infinity",
            "huge-int",
            "huge-float",
            "huge-negative",
            "deep",
        ],
    )
    async def test_unreadable_json_is_400(self, stack: Any, body: bytes) -> None:
        client, _, _ = stack
        response = await client.post(
            "/v1/verify", content=body, headers={"Content-Type": "application/json"}
        )
        if len(body) > 64_000:
            _problem(response, 413)
        else:
            _problem(response, 400)

    async def test_nesting_deeper_than_the_limit_is_400(self, stack: Any) -> None:
        client, _, _ = stack
        nested: Any = {"@context": "x"}
        for _ in range(30):
            nested = {"a": nested}
        body = _problem(await client.post("/v1/verify", json=nested), 400)
        assert "nested" in body["detail"]

    @pytest.mark.parametrize("value", [42, [1, 2], True, None, "not a jwt", {"credential": 3}])
    async def test_wrong_types_are_422(self, stack: Any, value: Any) -> None:
        client, _, _ = stack
        response = await client.post(
            "/v1/verify", content=json.dumps(value), headers={"Content-Type": "application/json"}
        )
        _problem(response, 422)

    async def test_unsupported_media_type_is_415(self, stack: Any) -> None:
        client, _, _ = stack
        response = await client.post(
            "/v1/verify", content=b"<xml/>", headers={"Content-Type": "application/xml"}
        )
        _problem(response, 415)

    async def test_too_large_is_413(self, stack: Any) -> None:
        client, _, _ = stack
        response = await client.post("/v1/verify", json={"credential": {"x": "a" * 70_000}})
        _problem(response, 413)

    @pytest.mark.parametrize(
        "document",
        [
            {"@context": ["https://unknown.example/ctx"], "type": ["VerifiableCredential"]},
            {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": 5, "issuer": []},
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "issuer": "did:key:zBad",
                "validFrom": "yesterday",
                "credentialSubject": {"id": 1e308},
                "proof": {"type": "DataIntegrityProof", "proofValue": "z1"},
            },
            {"@context": "https://www.w3.org/ns/credentials/v2", "credentialStatus": {"a": 1}},
        ],
        ids=["unknown-context", "wrong-types", "garbage-proof", "bad-status"],
    )
    async def test_readable_garbage_is_a_clear_failed_result(
        self, stack: Any, document: dict[str, Any]
    ) -> None:
        client, _, _ = stack
        response = await client.post("/v1/verify", json=document)
        assert response.status_code == 200
        result = response.json()
        assert result["verified"] is False
        assert result["checks"][0]["name"] == "structure"
        failed = [c for c in result["checks"] if c["status"] != "passed"]
        assert all(c["reason_en"] and c["reason_fr"] for c in failed)

    async def test_jwt_garbage(self, stack: Any) -> None:
        client, _, _ = stack
        response = await client.post(
            "/v1/verify", content=b"aaa.bbb.ccc", headers={"Content-Type": "application/jwt"}
        )
        assert response.status_code == 200
        assert response.json()["verified"] is False
        response = await client.post(
            "/v1/verify", content=b"a b c", headers={"Content-Type": "application/jwt"}
        )
        _problem(response, 422)


class TestBatch:
    async def test_batch_answers_in_order_with_item_errors(self, stack: Any) -> None:
        client, registry, base = stack
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        good, _ = await issuer.issue(lists=[revocation])
        stranger, _ = await Issuer().issue()
        response = await client.post(
            "/v1/verify/batch", json={"credentials": [good, 12, stranger]}, params={"lang": "en"}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert body["verified"] == 1
        first, second, third = body["results"]
        assert first["result"]["verified"] is True
        assert second["error"]["status"] == 422
        assert third["result"]["verified"] is False

    async def test_batch_limit(self, stack: Any) -> None:
        client, _, _ = stack
        body = _problem(await client.post("/v1/verify/batch", json=[{"a": 1}] * 6), 422)
        assert "at most 5" in body["detail"]
        _problem(await client.post("/v1/verify/batch", json={"credentials": []}), 422)
        _problem(await client.post("/v1/verify/batch", json={"credentials": "x"}), 422)


class TestRateLimit:
    async def test_429_with_retry_after(self) -> None:
        registry = RegistryStandIn()
        async with serve(registry.app()) as base:
            built = build_app(
                settings_for(
                    base,
                    http=HttpSettings(rate_limit_per_minute=60),
                    limits=LimitSettings(rate_limit_burst=3),
                )
            )
            async with (
                LifespanManager(built.app) as manager,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
                ) as client,
            ):
                statuses = [
                    (await client.post("/v1/verify", json={"credential": {}})).status_code
                    for _ in range(3)
                ]
                assert 429 not in statuses
                response = await client.post("/v1/verify", json={"credential": {}})
                _problem(response, 429)
                assert int(response.headers["Retry-After"]) >= 1
                page = await client.post("/", data={"credential": "{}"})
                assert page.status_code == 429
