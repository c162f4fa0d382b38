"""Following a credential's ``refreshService`` (``1EdTechCredentialRefresh``) once.

Open Badges 3.0 / CLR 2.0 credentials may name a refresh service: ``{"id": <URL>, "type":
"1EdTechCredentialRefresh"}``, where the issuer serves the newest version of the credential. A
verifier that follows it can tell an employer "this is what the institution says today".

The URL is written by whoever signed the credential, so following it is a request to a
stranger's server: the verifier follows it only after the credential's proof passed *and* the
registry recognised the issuer (the service decides that), exactly **once** (a refreshed
credential's own ``refreshService`` is never followed), through the SSRF guard (public
addresses, https; no redirects), with a deadline and a body limit. What comes back is a
credential like any other: it is verified in full, and it only counts when the same issuer
signed it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

import httpx

from sceau_credentials.ob3.fields import as_list
from sceau_shared.ssrf import FetchError, UnsafeUrlError, UrlPolicy, safe_fetch
from sceau_verifier.errors import MalformedBody
from sceau_verifier.inputs import check_depth

__all__ = ["REFRESH_SERVICE_TYPE", "RefreshClient", "RefreshFailed", "refresh_url"]

#: The ``refreshService.type`` this verifier follows.
REFRESH_SERVICE_TYPE: Final = "1EdTechCredentialRefresh"

_TIMEOUT_S: Final = 3.0
_MAX_BYTES: Final = 1_048_576
_ACCEPT: Final = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8, " + (
    "application/vc+jwt;q=0.7, application/jwt;q=0.6"
)
_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class RefreshFailed(Exception):
    """The refresh service could not give a credential (refused URL, network, HTTP, body)."""


def refresh_url(credential: Mapping[str, Any]) -> str | None:
    """The URL of the credential's first ``1EdTechCredentialRefresh`` service, if any."""
    for service in as_list(credential.get("refreshService")):
        if not isinstance(service, Mapping):
            continue
        kinds = as_list(service.get("type"))
        url = service.get("id")
        if REFRESH_SERVICE_TYPE in kinds and isinstance(url, str) and url:
            return url
    return None


class RefreshClient:
    """Fetches a refreshed credential through the SSRF-guarded client.

    Args:
        client: the client for URLs taken from credentials (``GuardedTransport``).
        max_depth: deepest nesting accepted (the verifier's input limit).
        allow_private: development switch: http and loopback/private addresses allowed.
    """

    def __init__(
        self, client: httpx.AsyncClient, *, max_depth: int, allow_private: bool = False
    ) -> None:
        self._client = client
        self._max_depth = max_depth
        schemes = {"https", "http"} if allow_private else {"https"}
        self._policy = UrlPolicy(allowed_schemes=frozenset(schemes), allow_private=allow_private)
        self.requests = 0
        """Refresh requests made (for tests)."""

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        """GET the refreshed credential: a JSON object or a compact VC-JWT.

        Raises:
            RefreshFailed: anything but a 200 answer holding one of those.
        """
        self.requests += 1
        try:
            result = await safe_fetch(
                self._client,
                url,
                policy=self._policy,
                timeout_s=_TIMEOUT_S,
                max_bytes=_MAX_BYTES,
                headers={"Accept": _ACCEPT},
                max_redirects=0,
            )
        except (FetchError, UnsafeUrlError) as exc:
            raise RefreshFailed(f"{type(exc).__name__}: {exc}") from exc
        if result.status_code != 200:
            raise RefreshFailed(f"HTTP {result.status_code}")
        try:
            text = result.content.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise RefreshFailed("the answer is not UTF-8 text") from exc
        if _JWT.match(text):
            return text
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise RefreshFailed("the answer is not JSON") from exc
        if not isinstance(document, dict):
            raise RefreshFailed("the answer is not a credential")
        try:
            check_depth(document, self._max_depth)
        except MalformedBody as exc:
            raise RefreshFailed(exc.detail) from exc
        return document
