"""HTTP guards: operator token on /v1/admin, read-only public API, rate limit, problem details."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from registry_app import client, registry_app

from sceau_registry.settings import RegistrySettings

TOKEN = "operator-token-" + "x" * 20
PROBLEM = "application/problem+json"


class FakeTrust:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []

    async def issuer(self, did: str, *, at: Any, verification_method: Any) -> bytes:
        self.calls.append((did, at, verification_method))
        return b'{"did":"%s","registered":false}' % did.encode()


class FakeGovernance:
    def __init__(self) -> None:
        self.calls = 0

    async def register(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        raise AssertionError("must not be reached without the token")


def settings(per_minute: int = 600) -> RegistrySettings:
    return RegistrySettings(
        operator_token=SecretStr(TOKEN),
        master_key=SecretStr("A" * 43 + "="),
        http={"rate_limit_per_minute": per_minute},
    )


def make_app(per_minute: int = 600) -> tuple[FastAPI, FakeTrust, FakeGovernance]:
    trust, governance = FakeTrust(), FakeGovernance()
    graph = SimpleNamespace(trust=trust, governance=governance)
    return registry_app(settings(per_minute), graph), trust, governance


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": TOKEN},
    ],
)
async def test_operator_api_refuses_without_the_token(headers: dict[str, str]) -> None:
    app, _, governance = make_app()
    async with client(app) as c:
        for method, path, body in [
            ("POST", "/v1/admin/institutions", {"garbage": True}),
            ("POST", "/v1/admin/institutions", None),
            ("GET", "/v1/admin/audit", None),
            ("POST", "/v1/admin/institutions/x/status", {"status": "active", "reason": "r"}),
            ("DELETE", "/v1/admin/institutions/x", None),
            ("GET", "/v1/admin", None),
        ]:
            response = await c.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"] == PROBLEM
            assert response.json()["status"] == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="sceau-registry"'
            assert TOKEN not in response.text
    assert governance.calls == 0


async def test_operator_api_with_token_validates_the_body() -> None:
    app, _, governance = make_app()
    async with client(app) as c:
        response = await c.post(
            "/v1/admin/institutions",
            json={"legal_name": {}, "category": "castle"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert governance.calls == 0


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_public_endpoints_are_read_only(method: str) -> None:
    app, _, _ = make_app()
    async with client(app) as c:
        for path in ("/v1/issuers/did:key:z6Mk", "/v1/status-lists/L1", "/v1/institutions"):
            response = await c.request(method, path)
            assert response.status_code == 405, path
            assert response.headers["content-type"] == PROBLEM


async def test_malformed_did_is_400_and_strangers_are_200() -> None:
    app, trust, _ = make_app()
    async with client(app) as c:
        bad = await c.get("/v1/issuers/not-a-did")
        assert bad.status_code == 400
        assert bad.headers["content-type"] == PROBLEM
        wrong_method = await c.get(
            "/v1/issuers/did:key:z6Mk", params={"verification_method": "did:key:other#k"}
        )
        assert wrong_method.status_code == 400
        naive = await c.get("/v1/issuers/did:key:z6Mk", params={"at": "2025-01-01T00:00:00"})
        assert naive.status_code == 422
        overflow = await c.get(
            "/v1/issuers/did:key:z6Mk", params={"at": "9999-12-31T23:59:59-23:59"}
        )
        assert overflow.status_code == 422
        ok = await c.get(
            "/v1/issuers/did:web:127.0.0.1%253A8002:institutions:abc",
            params={"at": "2025-01-01T00:00:00Z"},
        )
        assert ok.status_code == 200
    assert trust.calls[-1][0] == "did:web:127.0.0.1%3A8002:institutions:abc"


async def test_public_rate_limit_answers_429_with_retry_after() -> None:
    app, _, _ = make_app(per_minute=3)
    async with client(app) as c:
        codes = [(await c.get("/v1/issuers/did:key:z6Mk")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await c.get("/v1/issuers/did:key:z6Mk")
        assert limited.headers["content-type"] == PROBLEM
        assert int(limited.headers["retry-after"]) >= 1


def test_settings_refuse_weak_or_missing_secrets() -> None:
    with pytest.raises(ValidationError):
        RegistrySettings(master_key=SecretStr("A" * 43 + "="))
    with pytest.raises(ValidationError):
        RegistrySettings(operator_token=SecretStr("short"), master_key=SecretStr("A" * 43 + "="))
    with pytest.raises(ValidationError):
        RegistrySettings(operator_token=SecretStr(TOKEN), master_key=SecretStr("dG9vIHNob3J0"))
    shown = repr(settings())
    assert TOKEN not in shown
