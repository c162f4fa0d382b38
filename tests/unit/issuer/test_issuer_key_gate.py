"""API keys are checked before a request body is read (issue 18, item 12).

Before the gate, FastAPI received and parsed a whole JSON body (up to 8 MiB) before running the
API-key dependency, so anonymous posts could grow the issuer's memory. The test drives the real
issuer app over raw ASGI and watches whether the body is ever received.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import pytest
from pydantic import SecretStr

from sceau_issuer.apikeys.service import Principal, Scope
from sceau_issuer.app import create_api
from sceau_issuer.errors import InvalidApiKey
from sceau_issuer.settings import IssuerSettings
from sceau_shared.errors import NotFound, RateLimited


class _Keys:
    def __init__(self, *, known: bool = False) -> None:
        self.calls: list[str] = []
        self.known = known
        self.checking = asyncio.Event()
        self.may_answer = asyncio.Event()
        self.may_answer.set()

    def institution_hint(self, token: str) -> str | None:
        return "inst-1" if self.known and token.startswith("sceau.k1.") else None

    async def authenticate(self, token: str) -> Principal:
        self.calls.append(token)
        self.checking.set()
        await self.may_answer.wait()
        if token != "sceau.k1.good":
            raise InvalidApiKey("invalid API key")
        return Principal("inst-1", "k1", frozenset(Scope))


class _Tenants:
    def __init__(self, tenant: object | None = None) -> None:
        self.tenant = tenant
        self.calls: list[str] = []

    async def get(self, institution_id: str) -> Any:
        self.calls.append(institution_id)
        if self.tenant is None:
            raise NotFound(f"no tenant {institution_id}")
        return self.tenant


class _Limiter:
    def check(self, client: str) -> None:
        raise RateLimited("slow down", retry_after=1)


class _Graph:
    def __init__(self, *, known: bool = False, tenant: object | None = None) -> None:
        self.api_keys = _Keys(known=known)
        self.tenants = _Tenants(tenant)
        self.claim_limiter = _Limiter()


@pytest.fixture(scope="module")
def app() -> Any:
    settings = IssuerSettings(
        _env_file=None, master_key=SecretStr(base64.b64encode(os.urandom(32)).decode())
    )
    return create_api(settings)


async def _post(
    app: Any, graph: _Graph, path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, Any], int]:
    """POST a 1 MiB body; return the status, the JSON answer and how many body reads happened."""
    body = json.dumps({"recipients": ["x" * 1024] * 1024}).encode()
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"issuer.test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("issuer.test", 80),
        "state": {"graph": graph},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(payload), reads


@pytest.mark.parametrize(
    "headers",
    [[], [(b"authorization", b"Bearer sceau.k1.wrong")], [(b"authorization", b"Basic abc")]],
    ids=["no-key", "wrong-key", "other-scheme"],
)
@pytest.mark.parametrize("path", ["/v1/batches", "/v1/credentials", "/v1/achievements"])
async def test_anonymous_bodies_are_refused_unread(app: Any, path: str, headers: Any) -> None:
    status, problem, reads = await _post(app, _Graph(), path, headers)
    assert status == 401
    assert problem["type"].endswith("/invalid-api-key")
    assert reads == 0


async def test_a_valid_key_is_looked_up_once_and_the_body_read(app: Any) -> None:
    graph = _Graph()
    status, problem, reads = await _post(
        app, graph, "/v1/batches", [(b"authorization", b"Bearer sceau.k1.good")]
    )
    assert reads >= 1
    assert graph.api_keys.calls == ["sceau.k1.good"]
    assert status in {404, 422}, problem  # past authentication: the fake has no tenant


async def test_public_routes_with_a_body_pass_without_a_key(app: Any) -> None:
    graph = _Graph()
    status, _, reads = await _post(app, graph, "/learn/new-link", [])
    assert (status, reads) == (429, 1)
    assert graph.api_keys.calls == []


async def test_a_known_key_s_institution_is_read_while_the_key_is_checked(app: Any) -> None:
    """One round trip instead of two in a row; the route does not read the tenant again."""
    graph = _Graph(known=True, tenant=object())
    graph.api_keys.may_answer.clear()
    posting = asyncio.ensure_future(
        _post(app, graph, "/v1/batches", [(b"authorization", b"Bearer sceau.k1.good")])
    )
    await asyncio.wait_for(graph.api_keys.checking.wait(), 5)
    for _ in range(5):
        await asyncio.sleep(0)
    assert graph.tenants.calls == ["inst-1"]  # started before the key's answer came
    graph.api_keys.may_answer.set()
    status, problem, _ = await posting
    assert status == 422, problem  # past authentication: the junk body is refused
    assert graph.tenants.calls == ["inst-1"]


async def test_a_wrong_secret_for_a_known_key_is_refused_unread(app: Any) -> None:
    graph = _Graph(known=True, tenant=object())
    status, problem, reads = await _post(
        app, graph, "/v1/batches", [(b"authorization", b"Bearer sceau.k1.wrong")]
    )
    assert (status, reads) == (401, 0)
    assert problem["type"].endswith("/invalid-api-key")


async def test_an_early_read_that_fails_leaves_the_answer_to_the_route(app: Any) -> None:
    graph = _Graph(known=True, tenant=None)
    status, problem, _ = await _post(
        app, graph, "/v1/batches", [(b"authorization", b"Bearer sceau.k1.good")]
    )
    assert status == 404, problem  # the route's own read, answered as before
    assert graph.tenants.calls == ["inst-1", "inst-1"]
