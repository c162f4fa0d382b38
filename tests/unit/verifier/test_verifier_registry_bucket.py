"""Status lists and registry-hosted did:web documents draw from the verifiers' bucket (item 8).

The registry rate-limits public routes per client address; the public verifier asks on behalf
of all its users, so the deployment gives it a token (``VERIFIER_TRUST__REGISTRY_TOKEN``) and
its own bucket. Trust lookups carried it; status-list fetches and the did:web documents the
registry hosts did not, so under load they drew from the public bucket, got 429 and were
reported "inconclusive" (issue 18, item 8). Here the graph is assembled as in the service
(``assemble``) against a registry that keeps a public bucket of 3 requests and lets the token
through: 12 lists and 12 hosted documents are all served, and no other host sees the token.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from sceau_credentials.dids import DidWebSettings, PublishedKey, institution_did_document
from sceau_credentials.keys import SigningKey
from sceau_verifier.graph import assemble
from sceau_verifier.registry import RegistryHosts
from sceau_verifier.settings import StatusSettings, TrustSettings, VerifierSettings

TOKEN = "verifier-token-of-this-deployment-0123"
REGISTRY = "127.0.0.1:8002"
OTHER = "127.0.0.1:9000"
COUNT = 12


class RateLimitedRegistry:
    """Status lists and hosted DID documents behind a public bucket of ``public`` requests."""

    def __init__(self, public: int = 3) -> None:
        self.public_left = public
        self.requests: list[httpx.Request] = []
        self.key = SigningKey.generate()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if (
            request.url.netloc.decode() == REGISTRY
            and request.headers.get("x-sceau-registry-token") != TOKEN
        ):
            if self.public_left <= 0:
                return httpx.Response(429, headers={"Retry-After": "60"})
            self.public_left -= 1
        path = request.url.path
        if path.startswith("/v1/status-lists/"):
            document = {
                "id": str(request.url),
                "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"type": "BitstringStatusList", "encodedList": "uH4sI"},
            }
            return httpx.Response(200, json=document)
        if path.endswith("/did.json"):
            did = "did:web:" + ":".join(
                [request.url.netloc.decode().replace(":", "%3A"), *path.strip("/").split("/")[:-1]]
            )
            document = institution_did_document(
                did, [PublishedKey("key-1", self.key.public_key_multibase)]
            )
            return httpx.Response(
                200, content=json.dumps(document), headers={"Content-Type": "application/did+json"}
            )
        return httpx.Response(404)


def settings(token: str | None = TOKEN) -> VerifierSettings:
    return VerifierSettings(  # type: ignore[call-arg]
        _env_file=None,
        status=StatusSettings(allowed_hosts=[REGISTRY], allow_private_hosts=True),
        trust=TrustSettings(registry_url=f"http://{REGISTRY}", registry_token=token),
        did_web=DidWebSettings(allow_private_hosts=True),
        publish_events=False,
    )


def graph_on(registry: RateLimitedRegistry, config: VerifierSettings) -> Any:
    transport = httpx.MockTransport(registry)
    return assemble(
        config,
        guarded=httpx.AsyncClient(transport=transport),
        registry_http=httpx.AsyncClient(transport=transport),
        publish=None,
    )


async def test_lists_and_hosted_documents_use_the_verifiers_bucket() -> None:
    registry = RateLimitedRegistry()
    graph = graph_on(registry, settings())
    try:
        for n in range(COUNT):
            await graph.status_lists.fetch(f"http://{REGISTRY}/v1/status-lists/list-{n}")
        for n in range(COUNT):
            did = f"did:web:127.0.0.1%3A8002:institutions:college-{n}"
            document = await graph.resolver.resolve(did)
            assert document["id"] == did
        # A did:web elsewhere: fetched, without the token.
        await graph.resolver.resolve("did:web:127.0.0.1%3A9000:institutions:elsewhere")
    finally:
        await graph.close()
    to_registry = [r for r in registry.requests if r.url.netloc.decode() == REGISTRY]
    assert len(to_registry) == 2 * COUNT
    assert all(r.headers["x-sceau-registry-token"] == TOKEN for r in to_registry)
    elsewhere = [r for r in registry.requests if r.url.netloc.decode() == OTHER]
    assert len(elsewhere) == 1
    assert "x-sceau-registry-token" not in elsewhere[0].headers
    assert registry.public_left == 3  # the public bucket untouched


async def test_without_a_token_nothing_is_added() -> None:
    registry = RateLimitedRegistry(public=100)
    graph = graph_on(registry, settings(token=None))
    try:
        await graph.status_lists.fetch(f"http://{REGISTRY}/v1/status-lists/list-0")
        await graph.resolver.resolve("did:web:127.0.0.1%3A8002:institutions:college-0")
    finally:
        await graph.close()
    assert all("x-sceau-registry-token" not in r.headers for r in registry.requests)


def test_only_the_registrys_hosts_get_the_token() -> None:
    hosts = RegistryHosts.of(
        TrustSettings(registry_url="http://sceau-registry:8002", registry_token=TOKEN),
        ["registry.example.ca"],
    )
    header = {"X-Sceau-Registry-Token": TOKEN}
    assert hosts.headers_for("https://registry.example.ca/v1/status-lists/x") == header
    assert hosts.headers_for("http://sceau-registry:8002/institutions/a/did.json") == header
    assert hosts.headers_for("https://registry.example.ca:8443/x") == {}
    assert hosts.headers_for("https://evil.example/registry.example.ca") == {}
    assert hosts.headers_for("not a url") == {}
