"""How a step decides it succeeded: expected HTTP answers and conditions reached in time.

Every failure is a :class:`StepFailed` whose message says what was expected and what came back,
which is what the demo prints and what the end-to-end tests report.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from sceau_dev.testing import polling


class StepFailed(Exception):
    """A step of the story did not reach its expected outcome (the message says what and why)."""


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, timeout_s: float, interval_s: float = 0.25
) -> Any:
    """Poll ``check`` until it returns something truthy, or raise :class:`StepFailed`.

    The shared polling of the tests (``sceau_dev.testing.polling``), failing as a demo step.
    """
    return await polling.eventually(
        check, timeout_s=timeout_s, message=what, interval_s=interval_s, error=StepFailed
    )


async def until_verified(
    answer: Callable[[], Awaitable[dict[str, Any]]],
    what: str,
    timeout_s: float,
    interval_s: float = 0.25,
) -> dict[str, Any]:
    """Ask the verifier (``answer``) until it says verified; return that answer.

    Right after issuance the status list may still be on its way to the registry, so the first
    answers may honestly be "inconclusive". A timeout names the last answer's checks.
    """
    last: dict[str, Any] = {}

    async def verified() -> bool:
        nonlocal last
        last = await answer()
        return bool(last["verified"])

    try:
        await eventually(verified, what, timeout_s, interval_s)
    except StepFailed as exc:
        raise StepFailed(f"{exc}; checks: {json.dumps(last.get('checks'))[:1500]}") from exc
    return last


def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """Return the JSON answer or raise :class:`StepFailed` with the exact failure."""
    if response.status_code not in statuses:
        raise StepFailed(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:1500]}"
        )
    data: dict[str, Any] = response.json() if response.content else {}
    return data


def expect_file(response: httpx.Response, media_type: str) -> bytes:
    """Return a downloaded file's bytes; :class:`StepFailed` unless a 200 of that media type."""
    got = response.headers.get("content-type", "")
    if response.status_code != 200 or not got.startswith(media_type):
        raise StepFailed(
            f"{response.request.method} {response.request.url} -> {response.status_code} "
            f"({got or 'no content type'}), expected a {media_type} file: {response.text[:300]}"
        )
    return response.content
