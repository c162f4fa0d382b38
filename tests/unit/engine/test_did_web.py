"""did:web: URL mapping, resolution against a real local HTTP server, guards and cache."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from local_http import LocalServer, Route, json_route, serve

from sceau_credentials.dids import (
    DidResolutionError,
    DidWebResolver,
    DidWebSettings,
    KeyState,
    PublishedKey,
    ResolutionErrorCode,
    did_web_to_url,
    find_verification_method,
    institution_did_document,
    url_to_did_web,
    verification_method_ids,
)
from sceau_credentials.keys import SigningKey, public_key_bytes, public_key_from_method
from sceau_shared import ssrf
from sceau_shared.ssrf import GuardedTransport


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # The examples of the did:web specification.
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:Example.COM#key-1", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("did:web:", "empty segment"),
        ("did:web:example.com::x", "empty segment"),
        ("did:web:example.com:..", "not allowed"),
        ("did:web:example.com:a%2Fb", "not allowed"),
        ("did:web:127.0.0.1", "must be a domain name"),
        ("did:web:localhost", "fully qualified"),
        ("did:web:exa_mple.com", "not a valid domain"),
        ("did:web:example.com%3A99999", "out of range"),
        ("did:web:user%40example.com", "bad host"),
        ("did:key:z6Mk", "not a did:web"),
    ],
)
def test_invalid_did_web(did: str, message: str) -> None:
    with pytest.raises(DidResolutionError, match=message) as caught:
        did_web_to_url(did)
    assert caught.value.code is ResolutionErrorCode.INVALID_DID


def test_local_development_mapping() -> None:
    assert did_web_to_url("did:web:localhost%3A8000", allow_local=True) == (
        "http://localhost:8000/.well-known/did.json"
    )
    assert did_web_to_url("did:web:127.0.0.1%3A8000:i:x", allow_local=True) == (
        "http://127.0.0.1:8000/i/x/did.json"
    )
    assert did_web_to_url("did:web:10.1.2.3", allow_local=True).startswith("https://10.1.2.3/")


@pytest.mark.parametrize(
    "did",
    ["did:web:example.edu", "did:web:example.edu%3A8443:issuers:a", "did:web:example.edu:a%20b"],
)
def test_url_to_did_round_trip(did: str) -> None:
    assert url_to_did_web(did_web_to_url(did)) == did
    assert url_to_did_web("https://example.edu") == "did:web:example.edu"


def _keys() -> tuple[SigningKey, SigningKey, SigningKey]:
    return SigningKey.generate(), SigningKey.generate(), SigningKey.generate()


def test_institution_document_keeps_rotated_keys_and_drops_revoked_ones() -> None:
    did = "did:web:badges.example.edu"
    active, rotated, revoked = _keys()
    document = institution_did_document(
        did,
        [
            PublishedKey("key-2025", active.public_key_multibase),
            PublishedKey("key-2024", rotated.public_key_multibase, KeyState.ROTATED),
            PublishedKey("key-2023", revoked.public_key_multibase, KeyState.REVOKED),
        ],
        also_known_as=["https://badges.example.edu"],
    )
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
    ]
    ids = [method["id"] for method in document["verificationMethod"]]
    assert ids == [
        f"{did}#key-2025",
        f"{did}#key-2025-2020",
        f"{did}#key-2024",
        f"{did}#key-2024-2020",
    ]
    assert [m["type"] for m in document["verificationMethod"]] == [
        "Multikey",
        "Ed25519VerificationKey2020",
    ] * 2
    assert document["assertionMethod"] == ids
    assert document["authentication"] == ids[:2]
    assert document["capabilityInvocation"] == ids[:2]
    for method_id, key in zip(ids, [active, active, rotated, rotated], strict=True):
        method = find_verification_method(document, method_id, "assertionMethod")
        assert public_key_bytes(public_key_from_method(method)) == key.public_key_bytes
    with pytest.raises(DidResolutionError, match="not in the DID document"):
        find_verification_method(document, f"{did}#key-2023", "assertionMethod")
    with pytest.raises(DidResolutionError, match="not authorized for 'authentication'"):
        find_verification_method(document, f"{did}#key-2024", "authentication")
    assert verification_method_ids(did, "k") == (f"{did}#k", f"{did}#k-2020")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "at least one active key"),
        ([("a", KeyState.ROTATED)], "at least one active key"),
        ([("a", KeyState.ACTIVE), ("a", KeyState.ROTATED)], "duplicate key fragment"),
        ([("a", KeyState.ACTIVE), ("a-2020", KeyState.ROTATED)], "collides"),
    ],
)
def test_institution_document_refusals(keys: list[tuple[str, KeyState]], message: str) -> None:
    published = [PublishedKey(f, SigningKey.generate().public_key_multibase, s) for f, s in keys]
    with pytest.raises(ValueError, match=message):
        institution_did_document("did:web:example.edu", published)


def test_published_key_validation() -> None:
    with pytest.raises(ValueError, match="fragment"):
        PublishedKey("a#b", SigningKey.generate().public_key_multibase)
    with pytest.raises(ValueError, match="expected ed25519-pub"):
        PublishedKey("a", SigningKey.generate().secret_key_multibase)
    with pytest.raises(ValueError, match="invalid did:web"):
        institution_did_document("did:web:", [])


# --- resolution over real HTTP -------------------------------------------------------------


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def server(key: SigningKey) -> Iterator[LocalServer]:
    routes: dict[str, Route] = {}
    with serve(routes) as local:
        host = f"127.0.0.1%3A{local.port}"

        def doc(did: str) -> str:
            return json.dumps(
                institution_did_document(did, [PublishedKey("key-1", key.public_key_multibase)])
            )

        def padded(did: str, size: int) -> str:
            document = json.loads(doc(did))
            document["padding"] = "x" * size
            return json.dumps(document)

        routes.update(
            {
                "/.well-known/did.json": json_route(doc(f"did:web:{host}")),
                "/issuers/a/did.json": json_route(doc(f"did:web:{host}:issuers:a"), "text/plain"),
                "/wrong/did.json": json_route(doc("did:web:attacker.example")),
                "/notjson/did.json": json_route("<html>"),
                "/array/did.json": json_route("[]"),
                "/big/did.json": lambda: (200, {}, b'{"id": "' + b"x" * 300_000 + b'"}'),
                "/padded/did.json": json_route(padded(f"did:web:{host}:padded", 100_000)),
                "/p1/did.json": json_route(padded(f"did:web:{host}:p1", 4_000)),
                "/p2/did.json": json_route(padded(f"did:web:{host}:p2", 4_000)),
                "/p3/did.json": json_route(padded(f"did:web:{host}:p3", 4_000)),
                "/stuck/a/did.json": lambda: (200, {}, [3.0, b"{}"]),
                "/stuck/b/did.json": lambda: (200, {}, [3.0, b"{}"]),
                "/slow/did.json": lambda: (200, {}, [1.5, b"{}"]),
                "/error/did.json": lambda: (500, {}, b"oops"),
                "/gone/did.json": lambda: (410, {}, b""),
                "/moved/did.json": lambda: (301, {"Location": "/.well-known/did.json"}, b""),
            }
        )
        yield local


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as http:
        yield http


DEV = DidWebSettings(allow_private_hosts=True, timeout_s=1.0, max_document_bytes=100_000)


async def test_resolves_from_a_real_server(
    server: LocalServer, client: httpx.AsyncClient, key: SigningKey
) -> None:
    resolver = DidWebResolver(client, DEV)
    did = f"did:web:127.0.0.1%3A{server.port}"
    document = await resolver.resolve(did)
    assert document["id"] == did
    method = find_verification_method(document, f"{did}#key-1", "assertionMethod")
    assert public_key_bytes(public_key_from_method(method)) == key.public_key_bytes
    nested = await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}:issuers:a#key-1")
    assert nested["id"] == f"did:web:127.0.0.1%3A{server.port}:issuers:a"
    localhost = f"did:web:localhost%3A{server.port}"
    with pytest.raises(DidResolutionError, match="expected 'did:web:localhost") as caught:
        await resolver.resolve(localhost)  # served document names the 127.0.0.1 DID
    assert caught.value.code is ResolutionErrorCode.INVALID_DOCUMENT


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("wrong", ResolutionErrorCode.INVALID_DOCUMENT, "has id 'did:web:attacker.example'"),
        ("notjson", ResolutionErrorCode.INVALID_DOCUMENT, "not JSON"),
        ("array", ResolutionErrorCode.INVALID_DOCUMENT, "not a JSON object"),
        ("big", ResolutionErrorCode.INVALID_DOCUMENT, "too large"),
        ("slow", ResolutionErrorCode.RETRIEVAL_ERROR, "timed out after 1 s"),
        ("error", ResolutionErrorCode.RETRIEVAL_ERROR, "HTTP 500"),
        ("gone", ResolutionErrorCode.NOT_FOUND, "HTTP 410"),
        ("missing", ResolutionErrorCode.NOT_FOUND, "HTTP 404"),
    ],
)
async def test_bad_documents_and_servers(
    server: LocalServer,
    client: httpx.AsyncClient,
    path: str,
    code: ResolutionErrorCode,
    message: str,
) -> None:
    resolver = DidWebResolver(client, DEV)
    with pytest.raises(DidResolutionError, match=message) as caught:
        await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}:{path}")
    assert caught.value.code is code


async def test_redirect_target_must_hold_the_right_document(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    # /moved redirects to the root document, whose id is not the :moved DID.
    resolver = DidWebResolver(client, DEV)
    with pytest.raises(DidResolutionError, match=r"expected 'did:web:127\.0\.0\.1"):
        await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}:moved")
    assert server.hits["/.well-known/did.json"] == 1


async def test_cache_honours_its_ttl(server: LocalServer, client: httpx.AsyncClient) -> None:
    now = [1000.0]
    resolver = DidWebResolver(
        client, DEV.model_copy(update={"cache_ttl_s": 60}), clock=lambda: now[0]
    )
    did = f"did:web:127.0.0.1%3A{server.port}"
    first = await resolver.resolve(did)
    first["id"] = "mutated by the caller"
    assert (await resolver.resolve(did))["id"] == did  # the cache hands out copies
    assert server.hits["/.well-known/did.json"] == 1
    now[0] += 61
    await resolver.resolve(did)
    assert server.hits["/.well-known/did.json"] == 2
    resolver.clear_cache()
    await resolver.resolve(did)
    assert server.hits["/.well-known/did.json"] == 3


async def test_concurrent_resolutions_share_one_request(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    resolver = DidWebResolver(client, DEV)
    root = f"did:web:127.0.0.1%3A{server.port}"
    documents = await asyncio.gather(*(resolver.resolve(root) for _ in range(5)))
    assert all(doc["id"] == root for doc in documents)
    assert server.hits["/.well-known/did.json"] == 1
    failures = await asyncio.gather(
        *(resolver.resolve(f"{root}:gone") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(f, DidResolutionError) for f in failures)
    assert server.hits["/gone/did.json"] == 1


async def test_cache_is_bounded(server: LocalServer, client: httpx.AsyncClient) -> None:
    resolver = DidWebResolver(client, DEV.model_copy(update={"cache_max_entries": 1}))
    root = f"did:web:127.0.0.1%3A{server.port}"
    await resolver.resolve(root)
    await resolver.resolve(f"{root}:issuers:a")
    await resolver.resolve(root)
    assert server.hits["/.well-known/did.json"] == 2


async def test_production_settings_refuse_local_servers(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport()) as http:
        resolver = DidWebResolver(http, DidWebSettings())
        with pytest.raises(DidResolutionError, match="must be a domain name") as caught:
            await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}")
        assert caught.value.code is ResolutionErrorCode.INVALID_DID

        # A real-looking domain whose DNS answer is private (no network: the answer is faked).
        async def private_dns(host: str, port: int) -> list[ssrf.IPAddress]:
            return [ipaddress.ip_address("192.168.1.20")]

        monkeypatch.setattr(ssrf, "resolve_host", private_dns)
        with pytest.raises(DidResolutionError, match=r"192\.168\.1\.20: it is a private") as caught:
            await resolver.resolve("did:web:badges.example.edu")
        assert caught.value.code is ResolutionErrorCode.UNSAFE_URL
    assert server.hits == {}


# --- bounds a hostile did:web server meets (issue 18, item 9) -------------------------------


async def test_default_settings_refuse_documents_over_64_kb(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    resolver = DidWebResolver(client, DidWebSettings(allow_private_hosts=True))
    with pytest.raises(DidResolutionError, match="too large") as caught:
        await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}:padded")
    assert caught.value.code is ResolutionErrorCode.INVALID_DOCUMENT
    assert (await resolver.resolve(f"did:web:127.0.0.1%3A{server.port}"))["id"]


async def test_cache_is_bounded_by_bytes(server: LocalServer, client: httpx.AsyncClient) -> None:
    resolver = DidWebResolver(client, DEV.model_copy(update={"cache_max_bytes": 10_000}))
    root = f"did:web:127.0.0.1%3A{server.port}"
    for name in ("p1", "p2", "p3"):
        await resolver.resolve(f"{root}:{name}")
        assert resolver.cached_bytes <= 10_000
    await resolver.resolve(f"{root}:p3")
    await resolver.resolve(f"{root}:p1")
    assert server.hits["/p3/did.json"] == 1  # kept
    assert server.hits["/p1/did.json"] == 2  # evicted for the bytes, fetched again


async def test_a_cache_hit_parses_the_kept_bytes_instead_of_deep_copying(
    server: LocalServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    def refused(value: object, memo: object = None) -> object:
        raise AssertionError("deepcopy on a cache hit")

    resolver = DidWebResolver(client, DEV)
    did = f"did:web:127.0.0.1%3A{server.port}"
    await resolver.resolve(did)
    monkeypatch.setattr(copy, "deepcopy", refused)
    first = await resolver.resolve(did)
    first["verificationMethod"][0]["id"] = "changed by a caller"
    second = await resolver.resolve(did)
    assert second["verificationMethod"][0]["id"] != "changed by a caller"
    assert first is not second
    assert server.hits["/.well-known/did.json"] == 1


async def test_a_slow_host_holds_only_its_own_fetch_slots(
    server: LocalServer, client: httpx.AsyncClient, key: SigningKey
) -> None:
    settings = DEV.model_copy(update={"max_fetches_per_host": 1, "timeout_s": 5.0})
    resolver = DidWebResolver(client, settings)
    stuck = f"did:web:127.0.0.1%3A{server.port}:stuck"
    waiting = [asyncio.create_task(resolver.resolve(f"{stuck}:{n}")) for n in ("a", "b")]
    await asyncio.sleep(0.2)
    assert server.hits.get("/stuck/b/did.json") is None  # queued behind the first, same host
    other: dict[str, Route] = {}
    with serve(other) as second:
        did = f"did:web:localhost%3A{second.port}"
        other["/.well-known/did.json"] = json_route(
            json.dumps(
                institution_did_document(did, [PublishedKey("key-1", key.public_key_multibase)])
            )
        )
        started = asyncio.get_running_loop().time()
        assert (await resolver.resolve(did))["id"] == did
        assert asyncio.get_running_loop().time() - started < 1.0
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
