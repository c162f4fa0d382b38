"""Server-side request forgery guards for every URL a service fetches on someone else's say-so.

A did:web DID, a status list URL or an issuer's image comes from a credential that anyone can
write, so a naive fetch would let an attacker make our verifier call internal services
(``http://10.0.0.5/admin``), cloud metadata (``169.254.169.254``) or loopback ports. The guards:

* **scheme allow-list** — HTTPS only by default;
* **address classification** — every address a host name resolves to is classified; only
  public unicast addresses are accepted. ``allow_private`` (local development only) also accepts
  loopback, private, shared (CGNAT), link-local and unique-local addresses; multicast,
  unspecified, broadcast, documentation and other reserved addresses are never accepted because
  no legitimate server lives there. IPv4 embedded in IPv6 (mapped ``::ffff:a.b.c.d``, NAT64
  ``64:ff9b::/96``, 6to4 ``2002::/16``) is judged by the embedded IPv4 address;
* **connect-time check** — :class:`GuardedTransport` repeats the check when the socket is
  opened and connects to the checked address, so DNS rebinding between check and use fails;
* **bounded fetch** — :func:`safe_fetch` applies an overall deadline, streams at most
  ``max_bytes`` and follows redirects only to URLs that pass the same checks.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

import httpcore
import httpx

from sceau_shared.compat.httpx import set_connection_pool

__all__ = [
    "AddressClass",
    "FetchError",
    "FetchResult",
    "GuardedTransport",
    "IPAddress",
    "ResponseTooLargeError",
    "UnsafeUrlError",
    "UrlPolicy",
    "check_address",
    "check_url",
    "classify_address",
    "resolve_host",
    "safe_fetch",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressClass(enum.Enum):
    """What kind of destination an IP address is, as far as SSRF is concerned."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    SHARED = "shared (carrier-grade NAT)"
    LINK_LOCAL = "link-local"
    UNIQUE_LOCAL = "unique-local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    BROADCAST = "broadcast"
    DOCUMENTATION = "documentation"
    RESERVED = "reserved"


_LOCAL_CLASSES: Final = frozenset(
    {
        AddressClass.LOOPBACK,
        AddressClass.PRIVATE,
        AddressClass.SHARED,
        AddressClass.LINK_LOCAL,
        AddressClass.UNIQUE_LOCAL,
    }
)
"""Classes a developer may legitimately run a server on; accepted only with ``allow_private``."""


def _v4(*pairs: tuple[str, AddressClass]) -> tuple[tuple[ipaddress.IPv4Network, AddressClass], ...]:
    return tuple((ipaddress.IPv4Network(net), kind) for net, kind in pairs)


def _v6(*pairs: tuple[str, AddressClass]) -> tuple[tuple[ipaddress.IPv6Network, AddressClass], ...]:
    return tuple((ipaddress.IPv6Network(net), kind) for net, kind in pairs)


# IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates); more specific first.
_V4_SPECIAL: Final = _v4(
    ("255.255.255.255/32", AddressClass.BROADCAST),
    ("0.0.0.0/32", AddressClass.UNSPECIFIED),
    ("0.0.0.0/8", AddressClass.RESERVED),  # "this network"
    ("10.0.0.0/8", AddressClass.PRIVATE),
    ("100.64.0.0/10", AddressClass.SHARED),
    ("127.0.0.0/8", AddressClass.LOOPBACK),
    ("169.254.0.0/16", AddressClass.LINK_LOCAL),
    ("172.16.0.0/12", AddressClass.PRIVATE),
    ("192.0.0.0/24", AddressClass.RESERVED),  # IETF protocol assignments
    ("192.0.2.0/24", AddressClass.DOCUMENTATION),
    ("192.31.196.0/24", AddressClass.RESERVED),  # AS112
    ("192.52.193.0/24", AddressClass.RESERVED),  # AMT
    ("192.88.99.0/24", AddressClass.RESERVED),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", AddressClass.PRIVATE),
    ("192.175.48.0/24", AddressClass.RESERVED),  # AS112 direct delegation
    ("198.18.0.0/15", AddressClass.RESERVED),  # benchmarking
    ("198.51.100.0/24", AddressClass.DOCUMENTATION),
    ("203.0.113.0/24", AddressClass.DOCUMENTATION),
    ("224.0.0.0/4", AddressClass.MULTICAST),
    ("240.0.0.0/4", AddressClass.RESERVED),
)

# IPv6: only global unicast 2000::/3 can be public; within it these are special.
_V6_GLOBAL_UNICAST: Final = ipaddress.IPv6Network("2000::/3")
_V6_SPECIAL: Final = _v6(
    ("::/128", AddressClass.UNSPECIFIED),
    ("::1/128", AddressClass.LOOPBACK),
    ("fc00::/7", AddressClass.UNIQUE_LOCAL),
    ("fe80::/10", AddressClass.LINK_LOCAL),
    ("fec0::/10", AddressClass.PRIVATE),  # deprecated site-local
    ("ff00::/8", AddressClass.MULTICAST),
    ("2001:db8::/32", AddressClass.DOCUMENTATION),
    ("3fff::/20", AddressClass.DOCUMENTATION),
    ("2001::/23", AddressClass.RESERVED),  # IETF protocol assignments (Teredo handled before)
    ("5f00::/16", AddressClass.RESERVED),  # SRv6 SIDs
)
_NAT64_WELL_KNOWN: Final = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address stands for on the wire, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    # Teredo (2001::/32) is not unwrapped: it falls in 2001::/23 and is refused as reserved.
    return None


def classify_address(address: IPAddress | str) -> AddressClass:
    """Classify an IPv4 or IPv6 address (see :class:`AddressClass`)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return AddressClass.LINK_LOCAL
        embedded = _embedded_v4(ip)
        if embedded is not None:
            return classify_address(embedded)
        for network6, kind in _V6_SPECIAL:
            if ip in network6:
                return kind
        return AddressClass.PUBLIC if ip in _V6_GLOBAL_UNICAST else AddressClass.RESERVED
    for network4, kind in _V4_SPECIAL:
        if ip in network4:
            return kind
    return AddressClass.PUBLIC


class UnsafeUrlError(ValueError):
    """A URL was refused before any request was sent (scheme, host or address not allowed)."""


class FetchError(Exception):
    """Fetching a URL that passed the checks failed (network, timeout, HTTP status, size)."""


class ResponseTooLargeError(FetchError):
    """The response body exceeded the byte limit; the transfer was aborted."""


@dataclass(frozen=True)
class UrlPolicy:
    """Which URLs may be fetched.

    Attributes:
        allowed_schemes: URL schemes accepted; HTTPS only unless configured otherwise.
        allow_private: Local development only: accept loopback/private/link-local/unique-local
            destinations (never multicast, unspecified, broadcast or reserved ones).
        allowed_ports: When set, the only ports accepted (``None`` accepts any port).
    """

    allowed_schemes: frozenset[str] = field(default_factory=lambda: frozenset({"https"}))
    allow_private: bool = False
    allowed_ports: frozenset[int] | None = None


def check_address(address: IPAddress | str, *, allow_private: bool = False) -> IPAddress:
    """Return the parsed address if it may be connected to, else raise :class:`UnsafeUrlError`."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    kind = classify_address(ip)
    if kind is AddressClass.PUBLIC or (allow_private and kind in _LOCAL_CLASSES):
        return ip
    hint = " (allowed only in local development)" if kind in _LOCAL_CLASSES else ""
    raise UnsafeUrlError(f"refusing to connect to {ip}: it is a {kind.value} address{hint}")


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` to its addresses (A and AAAA), without blocking the event loop."""
    literal = _literal_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:  # pragma: no cover - getaddrinfo raises instead
        raise FetchError(f"host {host!r} has no address")
    return addresses


def _check_addresses(host: str, addresses: Iterable[IPAddress], allow_private: bool) -> None:
    # Every address must pass: a resolver answering with one public and one private address
    # would otherwise let the connection land on the private one.
    for ip in addresses:
        try:
            check_address(ip, allow_private=allow_private)
        except UnsafeUrlError as exc:
            raise UnsafeUrlError(f"host {host!r} resolves to a refused address: {exc}") from None


def _names_loopback(host: str) -> bool:
    # RFC 6761: "localhost" and its subdomains always mean loopback; refuse without a lookup.
    return host in {"localhost", "localhost.localdomain"} or host.endswith(".localhost")


def check_url_syntax(url: str | httpx.URL, policy: UrlPolicy) -> httpx.URL:
    """Check scheme, credentials, host and port of ``url`` without any network access."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UnsafeUrlError(f"invalid URL {str(url)!r}: {exc}") from exc
    if parsed.scheme not in policy.allowed_schemes:
        allowed = ", ".join(sorted(policy.allowed_schemes))
        raise UnsafeUrlError(f"URL scheme {parsed.scheme!r} is not allowed (allowed: {allowed})")
    if not parsed.host:
        raise UnsafeUrlError(f"URL {str(url)!r} has no host")
    if parsed.userinfo:
        raise UnsafeUrlError("URLs with user credentials are not allowed")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        raise UnsafeUrlError(f"port {port} is not allowed")
    literal = _literal_ip(parsed.host)
    host = parsed.host.lower()
    if literal is not None:
        check_address(literal, allow_private=policy.allow_private)
    elif _names_loopback(host) and not policy.allow_private:
        raise UnsafeUrlError(
            f"refusing host {parsed.host!r}: it names loopback (allowed only in local development)"
        )
    return parsed


async def check_url(url: str | httpx.URL, policy: UrlPolicy) -> httpx.URL:
    """Check ``url`` against ``policy``, resolving its host; return the parsed URL.

    Raises:
        UnsafeUrlError: if the scheme, port or any resolved address is refused.
        FetchError: if the host name does not resolve.
    """
    parsed = check_url_syntax(url, policy)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    _check_addresses(parsed.host, await resolve_host(parsed.host, port), policy.allow_private)
    return parsed


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Network backend that checks resolved addresses at connect time and pins the connection."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        # httpcore's public asyncio backend (anyio): what its private auto-backend picks on asyncio.
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_host(host, port)
        _check_addresses(host, addresses, self._allow_private)
        last: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # noqa: S101 - addresses is never empty
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeUrlError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose every TCP connection goes to an address the policy accepts.

    Build the ``httpx.AsyncClient`` used for untrusted URLs with it (composition roots do), so
    a host that re-resolves to a private address between :func:`check_url` and the request
    (DNS rebinding) is still refused. Proxies are disabled: a proxy would make the check moot.
    """

    def __init__(self, *, allow_private: bool = False, retries: int = 0) -> None:
        super().__init__(trust_env=False, retries=retries)
        # httpx does not expose httpcore's network_backend: swap the pool it built for one with
        # the same SSL settings and our backend (sceau_shared.compat.httpx names the internal).
        pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            retries=retries,
            network_backend=_GuardedBackend(allow_private),
        )
        set_connection_pool(self, pool)


@dataclass(frozen=True)
class FetchResult:
    """A fully read, size-bounded HTTP response."""

    url: str
    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased (``""`` if absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLargeError(
            f"response from {response.url} declares {declared} bytes, limit is {max_bytes}"
        )
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise ResponseTooLargeError(
                f"response from {response.url} exceeds the {max_bytes}-byte limit"
            )
    return bytes(body)


async def safe_fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: UrlPolicy,
    timeout_s: float,
    max_bytes: int,
    headers: Mapping[str, str] | None = None,
    max_redirects: int = 3,
) -> FetchResult:
    """GET ``url`` under ``policy`` with an overall deadline and a body size limit.

    Redirects are followed by hand (at most ``max_redirects``) so that each target is checked
    like the original URL. Any HTTP status is returned; callers decide what a 404 means.

    Args:
        client: The HTTP client; for untrusted URLs build it with :class:`GuardedTransport`.
        url: The URL to fetch.
        policy: Scheme/address rules.
        timeout_s: Deadline for the whole exchange, redirects and body included; a server
            dripping bytes cannot hold us longer than this.
        max_bytes: Largest body accepted; the transfer is aborted beyond it.
        headers: Extra request headers (e.g. ``Accept``).
        max_redirects: Redirects followed before giving up.

    Raises:
        UnsafeUrlError: the URL or a redirect target is refused.
        ResponseTooLargeError: the body is larger than ``max_bytes``.
        FetchError: DNS, connection, TLS or protocol failure, too many redirects, or timeout.
    """
    current = str(url)
    try:
        async with asyncio.timeout(timeout_s):
            for _ in range(max_redirects + 1):
                checked = await check_url(current, policy)
                request = client.build_request(
                    "GET", checked, headers=dict(headers or {}), timeout=timeout_s
                )
                response = await client.send(request, stream=True, follow_redirects=False)
                try:
                    if response.is_redirect and "location" in response.headers:
                        current = str(checked.join(response.headers["location"]))
                        continue
                    content = await _read_limited(response, max_bytes)
                    return FetchResult(
                        url=str(checked),
                        status_code=response.status_code,
                        headers=dict(response.headers),
                        content=content,
                    )
                finally:
                    await response.aclose()
            raise FetchError(f"too many redirects fetching {url} (limit {max_redirects})")
    except TimeoutError as exc:
        raise FetchError(f"timed out after {timeout_s:g} s fetching {current}") from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out after {timeout_s:g} s fetching {current}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {current}: {type(exc).__name__}: {exc}") from exc
