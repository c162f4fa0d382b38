"""SSRF guards: address classification over whole ranges, URL checks and the bounded fetch."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from local_http import LocalServer, Route, serve

from sceau_shared import ssrf
from sceau_shared.ssrf import (
    AddressClass,
    FetchError,
    GuardedTransport,
    ResponseTooLargeError,
    UnsafeUrlError,
    UrlPolicy,
    check_address,
    check_url,
    classify_address,
    safe_fetch,
)

REFUSED_V4 = {
    "10.0.0.0/8": AddressClass.PRIVATE,
    "172.16.0.0/12": AddressClass.PRIVATE,
    "192.168.0.0/16": AddressClass.PRIVATE,
    "127.0.0.0/8": AddressClass.LOOPBACK,
    "169.254.0.0/16": AddressClass.LINK_LOCAL,
    "100.64.0.0/10": AddressClass.SHARED,
    "224.0.0.0/4": AddressClass.MULTICAST,
    "240.0.0.0/5": AddressClass.RESERVED,
    "0.0.0.1/32": AddressClass.RESERVED,
    "192.0.2.0/24": AddressClass.DOCUMENTATION,
    "198.51.100.0/24": AddressClass.DOCUMENTATION,
    "203.0.113.0/24": AddressClass.DOCUMENTATION,
    "198.18.0.0/15": AddressClass.RESERVED,
}
REFUSED_V6 = {
    "fc00::/7": AddressClass.UNIQUE_LOCAL,
    "fe80::/10": AddressClass.LINK_LOCAL,
    "ff00::/8": AddressClass.MULTICAST,
    "2001:db8::/32": AddressClass.DOCUMENTATION,
    "2001::/32": AddressClass.RESERVED,  # Teredo
    "4000::/2": AddressClass.RESERVED,  # outside global unicast 2000::/3
}
LOCAL = {
    AddressClass.PRIVATE,
    AddressClass.LOOPBACK,
    AddressClass.LINK_LOCAL,
    AddressClass.SHARED,
    AddressClass.UNIQUE_LOCAL,
}


def _in(network: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    net = ipaddress.ip_network(network)
    return st.ip_addresses(network=net)


@pytest.mark.parametrize(("network", "kind"), [*REFUSED_V4.items(), *REFUSED_V6.items()])
@given(data=st.data())
def test_special_ranges_are_classified_and_refused(
    network: str, kind: AddressClass, data: st.DataObject
) -> None:
    address = data.draw(_in(network))
    assert classify_address(address) is kind
    with pytest.raises(UnsafeUrlError, match=re.escape(kind.value)):
        check_address(address)
    if kind in LOCAL:
        assert check_address(address, allow_private=True) == address
    else:  # never a legitimate server, even in development
        with pytest.raises(UnsafeUrlError):
            check_address(address, allow_private=True)


@given(st.ip_addresses(v=4))
def test_ipv4_embedded_in_ipv6_is_judged_by_the_ipv4_address(v4: ipaddress.IPv4Address) -> None:
    kind = classify_address(v4)
    mapped = ipaddress.IPv6Address(f"::ffff:{v4}")
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(v4))
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)
    assert classify_address(mapped) is kind
    assert classify_address(nat64) is kind
    assert classify_address(sixtofour) is kind


@given(st.ip_addresses(v=4))
def test_public_ipv4_agrees_with_the_stdlib(v4: ipaddress.IPv4Address) -> None:
    # We are stricter than ipaddress.is_global (multicast, AS112…), never looser.
    if classify_address(v4) is AddressClass.PUBLIC:
        assert v4.is_global
        assert not v4.is_multicast


@given(st.ip_addresses(v=6))
def test_public_ipv6_is_global_unicast(v6: ipaddress.IPv6Address) -> None:
    embeds_v4 = v6.ipv4_mapped is not None or v6 in ipaddress.IPv6Network("64:ff9b::/96")
    if classify_address(v6) is AddressClass.PUBLIC and not embeds_v4:
        assert v6 in ipaddress.IPv6Network("2000::/3")
        assert not v6.is_multicast
        assert not v6.is_private or v6.sixtofour is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4007:80a::200e"],
)
def test_real_public_addresses_pass(address: str) -> None:
    assert classify_address(address) is AddressClass.PUBLIC
    assert str(check_address(address)) == address


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("0.0.0.0", AddressClass.UNSPECIFIED),  # noqa: S104 - not a bind address
        ("::", AddressClass.UNSPECIFIED),
        ("255.255.255.255", AddressClass.BROADCAST),
        ("::1", AddressClass.LOOPBACK),
        ("::ffff:127.0.0.1", AddressClass.LOOPBACK),
        ("::ffff:169.254.169.254", AddressClass.LINK_LOCAL),
        ("64:ff9b::a00:1", AddressClass.PRIVATE),
        ("2002:c0a8:0101::1", AddressClass.PRIVATE),
        ("::127.0.0.1", AddressClass.RESERVED),  # deprecated IPv4-compatible
    ],
)
def test_named_special_addresses(address: str, kind: AddressClass) -> None:
    assert classify_address(address) is kind
    with pytest.raises(UnsafeUrlError):
        check_address(address, allow_private=kind not in LOCAL)


HTTPS = UrlPolicy()
DEV = UrlPolicy(allowed_schemes=frozenset({"http", "https"}), allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org/x", "scheme 'http' is not allowed"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("gopher://example.org", "scheme 'gopher'"),
        ("https://user:pw@example.org/", "user credentials"),
        ("https://10.1.2.3/", "private address"),
        ("https://[::1]/", "loopback address"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://localhost/", "names loopback"),
        ("https://evil.localhost/", "names loopback"),
        ("https:///nohost", "no host|invalid URL"),
    ],
)
async def test_urls_refused_without_dns(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrlError, match=message):
        await check_url(url, HTTPS)


async def test_port_allow_list() -> None:
    policy = UrlPolicy(allowed_ports=frozenset({443}))
    with pytest.raises(UnsafeUrlError, match="port 8443 is not allowed"):
        await check_url("https://93.184.215.14:8443/", policy)
    assert (await check_url("https://93.184.215.14/", policy)).host == "93.184.215.14"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Answer DNS from a dict (no network in tests); each call pops the next answer if several."""
    answers: dict[str, list[str]] = {}

    async def resolve(host: str, port: int) -> list[ssrf.IPAddress]:
        if host in answers:
            return [ipaddress.ip_address(a) for a in answers[host]]
        return [ipaddress.ip_address(host)]

    monkeypatch.setattr(ssrf, "resolve_host", resolve)
    return answers


async def test_host_resolving_to_any_private_address_is_refused(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["badges.example.edu"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(UnsafeUrlError, match=r"resolves to a refused address.*10\.0\.0\.7"):
        await check_url("https://badges.example.edu/x", HTTPS)
    fake_dns["badges.example.edu"] = ["93.184.215.14"]
    await check_url("https://badges.example.edu/x", HTTPS)


async def test_unresolvable_host_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot resolve host"):
        await check_url("https://does-not-exist.invalid/", HTTPS)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    port = [0]
    routes: dict[str, Route] = {
        "/ok": lambda: (200, {"Content-Type": "application/json"}, b'{"ok": true}'),
        "/big": lambda: (200, {}, b"x" * 5000),
        "/big-chunked": lambda: (200, {}, [b"x" * 1000 for _ in range(5)]),
        "/lying-length": lambda: (200, {"Content-Length": "999999"}, b"short"),
        "/slow": lambda: (200, {}, [0.8, b"late"]),
        "/drip": lambda: (200, {}, [b"a", 0.3, b"b", 0.3, b"c", 0.3, b"d", 0.3, b"e"]),
        "/loop": lambda: (302, {"Location": "/loop"}, b""),
        "/to-ok": lambda: (302, {"Location": "/ok"}, b""),
        "/to-file": lambda: (302, {"Location": "file:///etc/passwd"}, b""),
        # 0.0.0.0 reaches loopback on Linux; it is refused even with the development flag.
        "/to-unspecified": lambda: (302, {"Location": f"http://0.0.0.0:{port[0]}/ok"}, b""),
        "/status": lambda: (503, {}, b"busy"),
    }
    with serve(routes) as local:
        port[0] = local.port
        yield local


async def _fetch(url: str, policy: UrlPolicy = DEV, **kwargs: object) -> ssrf.FetchResult:
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as client:
        options: dict[str, object] = {"timeout_s": 2.0, "max_bytes": 1024, **kwargs}
        return await safe_fetch(client, url, policy=policy, **options)  # type: ignore[arg-type]


async def test_fetch_reads_a_small_body(server: LocalServer) -> None:
    result = await _fetch(f"{server.base}/ok")
    assert result.status_code == 200
    assert result.content == b'{"ok": true}'
    assert result.content_type == "application/json"


async def test_fetch_returns_error_statuses(server: LocalServer) -> None:
    assert (await _fetch(f"{server.base}/status")).status_code == 503
    assert (await _fetch(f"{server.base}/missing")).status_code == 404


@pytest.mark.parametrize("path", ["/big", "/big-chunked", "/lying-length"])
async def test_fetch_stops_at_the_size_limit(server: LocalServer, path: str) -> None:
    with pytest.raises(ResponseTooLargeError, match="1024"):
        await _fetch(f"{server.base}{path}")


@pytest.mark.parametrize("path", ["/slow", "/drip"])
async def test_fetch_has_an_overall_deadline(server: LocalServer, path: str) -> None:
    # /drip sends a byte every 0.3 s: per-read timeouts never fire, the overall one must.
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s"):
        await _fetch(f"{server.base}{path}", timeout_s=0.5)


async def test_redirects_are_followed_only_to_allowed_targets(server: LocalServer) -> None:
    result = await _fetch(f"{server.base}/to-ok")
    assert result.url.endswith("/ok")
    assert result.content == b'{"ok": true}'
    with pytest.raises(UnsafeUrlError, match="scheme 'file'"):
        await _fetch(f"{server.base}/to-file")
    with pytest.raises(UnsafeUrlError, match="unspecified"):
        await _fetch(f"{server.base}/to-unspecified")
    with pytest.raises(FetchError, match="too many redirects"):
        await _fetch(f"{server.base}/loop", max_redirects=2)
    assert server.hits["/loop"] == 3
    assert server.hits["/ok"] == 1


async def test_loopback_refused_without_the_development_flag(server: LocalServer) -> None:
    with pytest.raises(UnsafeUrlError, match="loopback"):
        await _fetch(f"{server.base}/ok", UrlPolicy(allowed_schemes=frozenset({"http"})))
    assert "/ok" not in server.hits


async def test_guarded_transport_refuses_at_connect_time(server: LocalServer) -> None:
    # Even a caller that skips check_url cannot reach loopback through the guarded client.
    async with httpx.AsyncClient(transport=GuardedTransport()) as client:
        with pytest.raises(UnsafeUrlError, match="loopback"):
            await client.get(f"{server.base}/ok")
    assert "/ok" not in server.hits


async def test_dns_rebinding_is_caught_at_connect(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # First lookup (the check) says public, the second (the connection) says loopback.
    answers = iter(["93.184.215.14", "127.0.0.1"])

    async def rebinding(host: str, port: int) -> list[ssrf.IPAddress]:
        return [ipaddress.ip_address(next(answers))]

    monkeypatch.setattr(ssrf, "resolve_host", rebinding)
    policy = UrlPolicy(allowed_schemes=frozenset({"http"}))
    async with httpx.AsyncClient(transport=GuardedTransport()) as client:
        with pytest.raises(UnsafeUrlError, match="loopback"):
            await safe_fetch(
                client,
                f"http://rebind.example:{server.port}/ok",
                policy=policy,
                timeout_s=2,
                max_bytes=100,
            )
    assert "/ok" not in server.hits


async def test_guarded_transport_connects_to_the_checked_address(server: LocalServer) -> None:
    async with httpx.AsyncClient(transport=GuardedTransport(allow_private=True)) as client:
        response = await client.get(f"http://localhost:{server.port}/ok")
    assert response.json() == {"ok": True}
