"""Where notifications go when every attempt failed: a dead-letter topic, besides the ledger."""

from __future__ import annotations

from typing import Protocol


class DeadLetterSink(Protocol):
    """Publishes a dead letter for a notification that will not be retried automatically."""

    async def __call__(self, *, channel: str, key: str, payload: str, error: str) -> None:
        """Publish; ``payload`` must never contain a learner's contact details."""
