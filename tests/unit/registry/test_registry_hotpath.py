"""The fast path answers cached lookups byte for byte like the FastAPI routes, or steps aside."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from registry_app import client, registry_app
from registry_samples import at, institution, key, scope
from test_registry_statuslists import MemoryStatusStore, published

from sceau_registry.institutions.models import Institution
from sceau_registry.keys.models import KeyRecord
from sceau_registry.settings import RegistrySettings
from sceau_registry.status_lists.service import StatusListService
from sceau_registry.trust.service import TrustService
from sceau_shared.events import InstitutionStatus as S

DID = "did:web:127.0.0.1%3A8002:institutions:cegep-a"
PATH = "/v1/issuers/did:web:127.0.0.1%253A8002:institutions:cegep-a"


class FakeInstitutions:
    def __init__(self, inst: Institution) -> None:
        self.inst = inst
        self.reads = 0

    async def by_did(self, did: str) -> Institution | None:
        self.reads += 1
        return self.inst if did in self.inst.dids else None

    async def get(self, institution_id: str) -> Institution | None:
        return self.inst if institution_id == self.inst.institution_id else None


class FakeKeys:
    def __init__(self, keys: list[KeyRecord]) -> None:
        self.keys = keys

    async def for_did(self, did: str) -> list[KeyRecord]:
        return [k for k in self.keys if k.did == did]

    async def institution_of(self, did: str) -> str | None:
        return None


def build(*, hot: bool, per_minute: int = 0) -> tuple[FastAPI, FakeInstitutions]:
    settings = RegistrySettings(
        operator_token=SecretStr("t" * 32),
        master_key=SecretStr("A" * 43 + "="),
        http={"rate_limit_per_minute": per_minute},
        verifier_token=SecretStr(VERIFIER_TOKEN),
        verifier_rate_limit_per_minute=600,
    )
    inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(6)), scopes=(scope(),), dids=(DID,))
    institutions = FakeInstitutions(inst)
    trust = TrustService(
        institutions,  # type: ignore[arg-type]
        FakeKeys([key(DID, fragment="k1", rotated=at(5))]),  # type: ignore[arg-type]
        cache_ttl_s=60,
        cache_max_entries=100,
        dcc_language="en",
    )
    lists = StatusListService(
        MemoryStatusStore(),  # type: ignore[arg-type]
        default_max_age_s=300,
        cache_ttl_s=60,
        cache_max_entries=100,
    )
    app = registry_app(settings, SimpleNamespace(trust=trust, status_lists=lists), hot=hot)
    return app, institutions


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/status-lists/L1", {}),
    ("HEAD", "/v1/status-lists/L1", {}),
    ("GET", "/v1/status-lists/nope", {}),
    ("GET", PATH, {"params": {"at": "2025-03-01T00:00:00Z"}}),
    ("GET", PATH, {"params": {"at": "2025-07-01T00:00:00.5+02:00"}}),
    ("GET", PATH, {"params": {"at": "2025-03-01T00:00:00Z", "verification_method": DID + "#k1"}}),
    ("GET", PATH, {"params": {"at": "2025-03-01T00:00:00Z", "verification_method": DID + "#k1-2020"}}),  # noqa: E501
    ("GET", PATH, {"params": {"at": "2025-03-01"}}),
    ("GET", PATH, {"params": {"at": "2025-03-01T00:00:00"}}),
    ("GET", PATH, {"params": {"verification_method": "did:key:x#y"}}),
    ("GET", PATH, {"params": {"other": "1"}}),
    ("GET", "/v1/issuers/did:key:z6MkUnknown", {}),
    ("GET", "/v1/issuers/not-a-did", {}),
]  # fmt: skip


async def answers(app: FastAPI) -> list[tuple[int, bytes, dict[str, str]]]:
    await app.state.graph.status_lists.publish(published(1))
    out = []
    async with client(app) as c:
        for _ in range(2):  # the first round fills the caches, the second hits them
            for method, path, kwargs in REQUESTS:
                response = await c.request(method, path, **kwargs)
                kept = {
                    k: v
                    for k, v in response.headers.items()
                    if k in ("content-type", "etag", "cache-control", "content-length")
                }
                out.append((response.status_code, response.content, kept))
        etag = out[0][2]["etag"]
        conditional = await c.get("/v1/status-lists/L1", headers={"If-None-Match": etag})
        out.append((conditional.status_code, conditional.content, {}))
    return out


async def test_fast_path_answers_exactly_like_the_routes() -> None:
    slow, _ = build(hot=False)
    fast, institutions = build(hot=True)
    expected = await answers(slow)
    got = await answers(fast)
    assert got == expected
    assert institutions.reads == 2  # DB read once per DID; the rest came from memory
    assert expected[-1][0] == 304


async def test_fast_path_is_used_for_cached_answers() -> None:
    app, _ = build(hot=True)
    await app.state.graph.status_lists.publish(published(1))
    calls: list[str] = []
    inner_build = app.build_middleware_stack

    def counting() -> Any:
        inner: Any = inner_build()
        assert type(inner).__name__ == "HotPathMiddleware"
        downstream = inner.app

        async def spy(scope: Any, receive: Any, send: Any) -> None:
            calls.append(scope["path"])
            await downstream(scope, receive, send)

        inner.app = spy
        return inner

    app.build_middleware_stack = counting  # type: ignore[method-assign]
    async with client(app) as c:
        for _ in range(5):
            assert (await c.get("/v1/status-lists/L1")).status_code == 200
            assert (await c.get(PATH, params={"at": "2025-03-01T00:00:00Z"})).status_code == 200
    # Only the first trust lookup (cache miss) reached the framework.
    assert calls == ["/v1/issuers/did:web:127.0.0.1%3A8002:institutions:cegep-a"]


VERIFIER_TOKEN = "verifier-token-of-this-deployment-0123"


@pytest.mark.parametrize("hot", [False, True])
async def test_the_verifier_has_its_own_bucket_on_both_paths(hot: bool) -> None:
    app, _ = build(hot=hot, per_minute=2)
    await app.state.graph.status_lists.publish(published(1))
    query = {"at": "2025-03-01T00:00:00Z", "verification_method": f"{DID}#k1"}
    verifier = {"X-Sceau-Registry-Token": VERIFIER_TOKEN}
    async with client(app) as c:
        public = [(await c.get("/v1/status-lists/L1")).status_code for _ in range(3)]
        lookups = [
            (await c.get(PATH, params=query, headers=verifier)).status_code for _ in range(20)
        ]
        wrong = await c.get("/v1/status-lists/L1", headers={"X-Sceau-Registry-Token": "nope"})
    assert public == [200, 200, 429]  # the public bucket of this address is empty...
    assert set(lookups) == {200}  # ...and the verifier, from the same address, is not limited
    assert wrong.status_code == 429  # a wrong token is a public caller


def test_a_short_verifier_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        RegistrySettings(
            operator_token=SecretStr("t" * 32),
            master_key=SecretStr("A" * 43 + "="),
            verifier_token=SecretStr("short"),
        )


@pytest.mark.parametrize("hot", [False, True])
async def test_rate_limit_applies_on_both_paths(hot: bool) -> None:
    app, _ = build(hot=hot, per_minute=2)
    await app.state.graph.status_lists.publish(published(1))
    async with client(app) as c:
        codes = [(await c.get("/v1/status-lists/L1")).status_code for _ in range(3)]
        limited = await c.get("/v1/status-lists/L1")
    assert codes == [200, 200, 429]
    assert limited.headers["content-type"] == "application/problem+json"
    assert "retry-after" in limited.headers
