"""POST webhook deliveries through the SSRF-guarded transport, with a hard deadline.

Redirects are not followed (Standard Webhooks treats 3xx as a failure: the endpoint URL should be
updated instead), the response body is never read, and every TCP connection is checked against the
address policy when it is opened, so a DNS answer that changes after registration cannot point a
delivery at an internal service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx

from sceau_notifier.errors import EndpointUrlRefused
from sceau_notifier.settings import WebhookSettings
from sceau_shared.ssrf import (
    FetchError,
    GuardedTransport,
    UnsafeUrlError,
    UrlPolicy,
    check_url,
    check_url_syntax,
)


class DeliveryError(Exception):
    """The request did not produce an HTTP answer (refused address, network error, timeout)."""


def url_policy(settings: WebhookSettings) -> UrlPolicy:
    """The URL policy for endpoints, from settings."""
    return UrlPolicy(
        allowed_schemes=frozenset(settings.allowed_schemes), allow_private=settings.allow_private
    )


def endpoint_url_checker(settings: WebhookSettings) -> Callable[[str], Coroutine[Any, Any, None]]:
    """Return the registration-time check of endpoint URLs (scheme, host, resolved addresses).

    Registration refuses what delivery would refuse anyway, so an institution learns at once that
    its URL points at a private address instead of watching every delivery fail.
    """
    policy = url_policy(settings)

    async def check(url: str) -> None:
        try:
            await check_url(url, policy)
        except (UnsafeUrlError, FetchError) as exc:
            raise EndpointUrlRefused(
                f"endpoint URL refused: {exc}", errors=[{"loc": ["url"], "msg": str(exc)}]
            ) from exc

    return check


class WebhookHttp:
    """An HTTP client for deliveries (one per process, owned and closed by the graph)."""

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings
        self._policy = url_policy(settings)
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(allow_private=settings.allow_private),
            timeout=httpx.Timeout(settings.timeout_s),
            follow_redirects=False,
            headers={"user-agent": "Sceau-Webhooks/1"},
        )

    async def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> int:
        """Send one delivery and return the HTTP status code."""
        try:
            checked = check_url_syntax(url, self._policy)
            async with asyncio.timeout(self._settings.timeout_s):
                async with self._client.stream(
                    "POST", checked, headers=dict(headers), content=body
                ) as response:
                    return response.status_code
        except UnsafeUrlError as exc:
            raise DeliveryError(f"refused: {exc}") from exc
        except TimeoutError as exc:
            raise DeliveryError(f"no answer within {self._settings.timeout_s:g} s") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"no answer within {self._settings.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from exc

    async def close(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()
