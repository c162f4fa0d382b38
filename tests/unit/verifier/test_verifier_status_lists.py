"""StatusListCache: allow-list, ttl/ETag freshness, conditional GET, events, failures."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from sceau_shared.ssrf import UnsafeUrlError
from sceau_verifier.errors import StatusListUnavailable
from sceau_verifier.settings import StatusSettings
from sceau_verifier.status_lists import StatusListCache, host_allowed

URL = "http://127.0.0.1:8002/v1/status-lists/abc"


def _list(valid_from: str = "2026-01-01T00:00:00Z", ttl: int | None = None) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": "BitstringStatusList", "encodedList": "uH4sI"}
    if ttl is not None:
        subject["ttl"] = ttl
    return {"id": URL, "validFrom": valid_from, "credentialSubject": subject}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Server:
    """A scripted status list endpoint with ETags."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = _list()
        self.etag = '"v1"'
        self.requests: list[httpx.Request] = []
        self.status = 200
        self.cache_control: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status)
        headers = {"ETag": self.etag}
        if self.cache_control:
            headers["Cache-Control"] = self.cache_control
        if request.headers.get("if-none-match") == self.etag:
            return httpx.Response(304, headers=headers)
        return httpx.Response(200, json=self.document, headers=headers)


def _cache(server: Server, clock: Clock, **overrides: Any) -> StatusListCache:
    settings = StatusSettings(
        allowed_hosts=["127.0.0.1:8002"], allow_private_hosts=True, **overrides
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return StatusListCache(client, settings, clock=clock)


class TestHostAllowed:
    def test_exact_host_and_port(self) -> None:
        assert host_allowed(httpx.URL("http://127.0.0.1:8002/x"), ["127.0.0.1:8002"])
        assert not host_allowed(httpx.URL("http://127.0.0.1:8003/x"), ["127.0.0.1:8002"])

    def test_bare_host_means_default_port_only(self) -> None:
        allowed = ["registry.example.ca"]
        assert host_allowed(httpx.URL("https://registry.example.ca/x"), allowed)
        assert not host_allowed(httpx.URL("https://registry.example.ca:6379/x"), allowed)
        assert not host_allowed(httpx.URL("https://evil.example/x"), allowed)

    def test_ipv6_literal(self) -> None:
        assert host_allowed(httpx.URL("http://[::1]:8002/x"), ["[::1]:8002"])


class TestStatusListCache:
    async def test_refuses_hosts_off_the_allow_list_without_a_request(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock)
        with pytest.raises(ValueError, match="allow-list"):
            await cache.fetch("http://10.0.0.5:8002/v1/status-lists/abc")
        with pytest.raises(ValueError, match="scheme"):
            await cache.fetch("file:///etc/passwd")
        assert server.requests == []

    async def test_https_only_without_the_dev_switch(self) -> None:
        server, clock = Server(), Clock()
        settings = StatusSettings(allowed_hosts=["127.0.0.1:8002"])
        cache = StatusListCache(
            httpx.AsyncClient(transport=httpx.MockTransport(server)), settings, clock=clock
        )
        with pytest.raises(ValueError, match="scheme"):
            await cache.fetch(URL)

    async def test_fresh_entry_is_served_from_memory(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=60)
        assert await cache.fetch(URL) == server.document
        clock.now += 59
        await cache.fetch(URL)
        assert len(server.requests) == 1

    async def test_list_ttl_wins_over_default(self) -> None:
        server, clock = Server(), Clock()
        server.document = _list(ttl=5000)
        cache = _cache(server, clock, default_ttl_s=600)
        await cache.fetch(URL)
        clock.now += 6
        await cache.fetch(URL)
        assert len(server.requests) == 2

    async def test_cache_control_max_age_when_no_ttl(self) -> None:
        server, clock = Server(), Clock()
        server.cache_control = "public, max-age=10"
        cache = _cache(server, clock, default_ttl_s=600)
        await cache.fetch(URL)
        clock.now += 11
        await cache.fetch(URL)
        assert len(server.requests) == 2

    async def test_stale_entry_is_revalidated_with_if_none_match(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=10)
        first = await cache.fetch(URL)
        clock.now += 11
        again = await cache.fetch(URL)
        assert again == first
        assert server.requests[1].headers["if-none-match"] == '"v1"'
        clock.now += 5
        await cache.fetch(URL)  # the 304 renewed freshness
        assert len(server.requests) == 2

    async def test_only_a_list_new_or_different_counts_as_a_change(self) -> None:
        # Kept verify answers rest on `changes`: a 304, or the same list sent again without an
        # ETag, must not drop them; a new version must.
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=10)
        await cache.fetch(URL)
        assert cache.changes == 1  # new here
        clock.now += 11
        await cache.fetch(URL)  # 304
        server.etag = '"v1-again"'
        clock.now += 11
        await cache.fetch(URL)  # 200, the same document
        assert (len(server.requests), cache.changes) == (3, 1)
        server.document = _list(valid_from="2026-02-01T00:00:00Z")
        server.etag = '"v2"'
        clock.now += 11
        await cache.fetch(URL)
        assert (len(server.requests), cache.changes) == (4, 2)
        cache.invalidate(URL)
        assert cache.changes == 3

    async def test_failures_are_raised_and_not_cached(self) -> None:
        server, clock = Server(), Clock()
        server.status = 503
        cache = _cache(server, clock)
        with pytest.raises(StatusListUnavailable, match="503"):
            await cache.fetch(URL)
        server.status = 200
        assert await cache.fetch(URL) == server.document

    async def test_stale_entry_is_not_served_when_the_registry_is_down(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=10)
        await cache.fetch(URL)
        clock.now += 11
        server.status = 500
        with pytest.raises(StatusListUnavailable):
            await cache.fetch(URL)

    async def test_concurrent_misses_share_one_request(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock)
        results = await asyncio.gather(*(cache.fetch(URL) for _ in range(20)))
        assert all(r == server.document for r in results)
        assert len(server.requests) == 1

    async def test_published_event_replaces_the_entry_at_once(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=600)
        await cache.fetch(URL)
        newer = _list(valid_from="2026-02-01T00:00:00Z")
        assert cache.publish(URL, newer, version=2)
        assert await cache.fetch(URL) == newer
        assert len(server.requests) == 1

    async def test_older_event_is_ignored(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock)
        v3 = _list(valid_from="2026-03-01T00:00:00Z")
        assert cache.publish(URL, v3, version=3)
        assert not cache.publish(URL, _list(valid_from="2026-02-01T00:00:00Z"), version=2)
        assert await cache.fetch(URL) == v3

    async def test_registry_serving_an_older_version_does_not_downgrade(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock, default_ttl_s=10)
        newer = _list(valid_from="2026-03-01T00:00:00Z", ttl=1000)
        cache.publish(URL, newer, version=3)
        clock.now += 2
        assert await cache.fetch(URL) == newer  # refetched, registry still has the old list
        assert len(server.requests) == 1

    async def test_invalidate_forgets(self) -> None:
        server, clock = Server(), Clock()
        cache = _cache(server, clock)
        await cache.fetch(URL)
        cache.invalidate(URL)
        await cache.fetch(URL)
        assert len(server.requests) == 2

    async def test_jwt_lists_are_returned_as_strings(self) -> None:
        token = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"

        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, text=token, headers={"Content-Type": "application/vc+jwt"})

        cache = StatusListCache(
            httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            StatusSettings(allowed_hosts=["127.0.0.1:8002"], allow_private_hosts=True),
        )
        assert await cache.fetch(URL) == token

    @pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe"])
    async def test_unusable_bodies_raise(self, body: bytes) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=body)

        cache = StatusListCache(
            httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            StatusSettings(allowed_hosts=["127.0.0.1:8002"], allow_private_hosts=True),
        )
        with pytest.raises(StatusListUnavailable):
            await cache.fetch(URL)

    async def test_size_limit(self) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, content=b"{" + b" " * 5000 + b"}")

        cache = StatusListCache(
            httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            StatusSettings(
                allowed_hosts=["127.0.0.1:8002"], allow_private_hosts=True, max_bytes=1000
            ),
        )
        with pytest.raises(StatusListUnavailable, match="limit"):
            await cache.fetch(URL)


class TestCheckUrl:
    def test_accepted_urls_are_remembered_refused_ones_always_refused(self) -> None:
        cache = _cache(Server(), Clock())
        url = "http://127.0.0.1:8002/v1/status-lists/l1"
        first = cache.check_url(url)
        assert cache.check_url(url) is first
        for refused in ("http://127.0.0.1:9999/x", "ftp://127.0.0.1:8002/x", "http://[::1"):
            for _ in range(2):
                with pytest.raises(UnsafeUrlError):
                    cache.check_url(refused)
