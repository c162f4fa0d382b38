"""Institution webhooks: endpoint management, fan-out of events and signed, retried delivery.

Each (event, endpoint) pair is one delivery, keyed ``<webhook id>:<endpoint id>`` where the webhook
id is ``msg_`` + the triggering event id: replaying a topic finds the deliveries already recorded
and queues nothing. The ``webhook-id`` header stays the same on every retry and on a re-send after
a crash, so receivers can deduplicate; ``webhook-timestamp`` is the time of each attempt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sceau_notifier.backoff import Backoff
from sceau_notifier.clock import Clock
from sceau_notifier.errors import (
    DeliveryNotFound,
    DeliveryNotReplayable,
    EndpointNotFound,
    WebhooksNotConfigured,
)
from sceau_notifier.ledger_repository import Claim, Document, Ledger
from sceau_notifier.repository import EndpointRepository
from sceau_notifier.service.deadletters import DeadLetterSink
from sceau_notifier.settings import RetrySettings
from sceau_notifier.webhooks.client import DeliveryError
from sceau_notifier.webhooks.secretbox import SecretBox, SecretBoxError
from sceau_notifier.webhooks.signatures import generate_secret, sign
from sceau_shared.logs import redact

_log = logging.getLogger(__name__)

WEBHOOK_CHANNEL = "webhook-deliveries"


class WebhookEventType(StrEnum):
    """Event types an endpoint can subscribe to (Standard Webhooks' dotted naming)."""

    CREDENTIAL_ISSUED = "credential.issued"
    CREDENTIAL_STATUS_CHANGED = "credential.status_changed"
    CREDENTIAL_EXPIRING = "credential.expiring"
    VERIFICATION_COMPLETED = "verification.completed"


class HttpPoster(Protocol):
    """Posts a delivery and returns the status code (raises DeliveryError without an answer)."""

    async def post(self, url: str, *, headers: Mapping[str, str], body: bytes) -> int:
        """Send one request."""


class UrlChecker(Protocol):
    """Refuses endpoint URLs the SSRF policy does not allow (raises ValueError)."""

    async def __call__(self, url: str, /) -> None:
        """Check ``url``."""


def webhook_id(event_id: uuid.UUID | str, suffix: str = "") -> str:
    """``msg_`` + the event id (hex) + an optional suffix; never contains a dot."""
    return f"msg_{uuid.UUID(str(event_id)).hex}{suffix}"


class WebhookService:
    """Endpoint CRUD, fan-out and the delivery loop's work."""

    def __init__(
        self,
        endpoints: EndpointRepository,
        ledger: Ledger,
        http: HttpPoster,
        *,
        box: SecretBox | None,
        check_url: UrlChecker,
        retry: RetrySettings,
        clock: Clock,
        concurrency: int,
        dead_letters: DeadLetterSink | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._ledger = ledger
        self._http = http
        self._box = box
        self._check_url = check_url
        self._retry = retry
        self._clock = clock
        self._concurrency = asyncio.Semaphore(concurrency)
        self._limit = concurrency * 4
        self._dead_letters = dead_letters
        self._backoff = backoff or Backoff(retry)
        self.wakeup = asyncio.Event()

    # --- endpoints -----------------------------------------------------------------------------

    def _require_box(self) -> SecretBox:
        if self._box is None:
            raise WebhooksNotConfigured(
                "webhooks are not configured: set NOTIFIER_WEBHOOKS__SECRET_KEY"
            )
        return self._box

    async def create_endpoint(
        self, institution_id: str, *, url: str, event_types: list[str], description: str
    ) -> tuple[Document, str]:
        """Register an endpoint; return it and its secret (shown this once only)."""
        box = self._require_box()
        await self._check_url(url)
        endpoint_id = f"ep_{uuid.uuid4().hex}"
        secret = generate_secret()
        now = self._clock()
        doc: Document = {
            "_id": endpoint_id,
            "institution_id": institution_id,
            "url": url,
            "event_types": sorted(set(event_types)),
            "description": description,
            "enabled": True,
            "deleted": False,
            "secret_enc": box.seal(secret, context=endpoint_id),
            "created_at": now,
            "updated_at": now,
        }
        await self._endpoints.insert(doc)
        _log.info("webhook endpoint %s registered for institution %s", endpoint_id, institution_id)
        return doc, secret

    async def list_endpoints(self, institution_id: str) -> list[Document]:
        """An institution's endpoints."""
        return await self._endpoints.list_for(institution_id)

    async def get_endpoint(self, institution_id: str, endpoint_id: str) -> Document:
        """One endpoint of an institution."""
        doc = await self._endpoints.get(institution_id, endpoint_id)
        if doc is None:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id} for this institution")
        return doc

    async def update_endpoint(
        self, institution_id: str, endpoint_id: str, changes: dict[str, Any]
    ) -> Document:
        """Change the URL, event types, description or enabled flag."""
        if "url" in changes:
            await self._check_url(changes["url"])
        if "event_types" in changes:
            changes["event_types"] = sorted(set(changes["event_types"]))
        changes["updated_at"] = self._clock()
        doc = await self._endpoints.update(institution_id, endpoint_id, changes)
        if doc is None:
            raise EndpointNotFound(f"no webhook endpoint {endpoint_id} for this institution")
        return doc

    async def delete_endpoint(self, institution_id: str, endpoint_id: str) -> None:
        """Stop deliveries to an endpoint; its delivery log stays visible."""
        await self.update_endpoint(institution_id, endpoint_id, {"deleted": True, "enabled": False})

    # --- fan-out -------------------------------------------------------------------------------

    async def fan_out(
        self,
        *,
        event_id: uuid.UUID | str,
        institution_id: str,
        event_type: WebhookEventType,
        occurred_at: datetime,
        data: Mapping[str, Any],
        id_suffix: str = "",
    ) -> int:
        """Queue one delivery per subscribed endpoint; return how many were new."""
        endpoints = await self._endpoints.subscribed(
            institution_id, event_type.value, created_before=occurred_at
        )
        if not endpoints:
            return 0
        msg_id = webhook_id(event_id, id_suffix)
        body = json.dumps(
            {"type": event_type.value, "timestamp": occurred_at.isoformat(), "data": dict(data)},
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        now = self._clock()
        records = [
            {
                "_id": f"{msg_id}:{ep['_id']}",
                "webhook_id": msg_id,
                "endpoint_id": ep["_id"],
                "institution_id": institution_id,
                "event_type": event_type.value,
                "source_event_id": str(event_id),
                "body": body,
                "created_at": now,
            }
            for ep in endpoints
        ]
        await self._ledger.record(records)
        keys = [r["_id"] for r in records]
        pending = [k for k in keys if not await self._ledger.is_done(k)]
        extra = {
            r["_id"]: {"endpoint_id": r["endpoint_id"], "institution_id": institution_id}
            for r in records
        }
        queued = await self._ledger.enqueue(pending, now=now, extra=extra)
        if queued:
            self.wakeup.set()
        return len(queued)

    # --- delivery ------------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Attempt every due delivery (concurrently, bounded); return how many succeeded."""
        now = self._clock()
        keys = await self._ledger.due_keys(now, self._limit)
        results = await asyncio.gather(*(self._attempt(key) for key in keys))
        return sum(1 for ok in results if ok)

    async def _attempt(self, key: str) -> bool:
        async with self._concurrency:
            now = self._clock()
            claim = await self._ledger.claim_due(
                key, now=now, lease_until=now + timedelta(seconds=self._retry.lease_s)
            )
            if claim is None or await self._ledger.already_done(key):
                return False
            record = await self._ledger.get_record(key)
            endpoint = await self._endpoints.get_any(record["endpoint_id"]) if record else None
            if record is None or endpoint is None or endpoint.get("deleted"):
                await self._finish_failed(claim, record, "endpoint removed", permanent=True)
                return False
            if not endpoint.get("enabled", True):
                # Disabled after the delivery was queued (by an operator, or by a 410): nothing
                # more is sent to it. The delivery is marked failed — not dead-lettered, the
                # operator chose this — and can be replayed once the endpoint is enabled again.
                await self._finish_failed(
                    claim, record, "endpoint disabled", permanent=True, dead_letter=False
                )
                return False
            try:
                secret = self._require_box().open(endpoint["secret_enc"], context=endpoint["_id"])
            except (SecretBoxError, WebhooksNotConfigured) as exc:
                await self._finish_failed(claim, record, str(exc), permanent=False)
                return False
            body = record["body"].encode()
            timestamp = int(now.timestamp())
            headers = {
                "content-type": "application/json",
                "webhook-id": record["webhook_id"],
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(secret, record["webhook_id"], timestamp, body),
            }
            try:
                status = await self._http.post(endpoint["url"], headers=headers, body=body)
            except DeliveryError as exc:
                await self._finish_failed(claim, record, redact(str(exc)), permanent=False)
                return False
            if 200 <= status < 300:
                await self._ledger.succeed(
                    {key: {"attempts": claim.attempts + 1, "status_code": status}},
                    now=self._clock(),
                )
                _log.info("webhook %s delivered (HTTP %d)", key, status)
                return True
            if status == 410:
                # Standard Webhooks: 410 Gone means "stop sending"; disable the endpoint.
                await self._endpoints.update(
                    endpoint["institution_id"], endpoint["_id"], {"enabled": False}
                )
            await self._finish_failed(
                claim, record, f"HTTP {status}", permanent=status == 410, status_code=status
            )
            return False

    async def _finish_failed(
        self,
        claim: Claim,
        record: Document | None,
        error: str,
        *,
        permanent: bool,
        status_code: int | None = None,
        dead_letter: bool = True,
    ) -> None:
        now = self._clock()
        attempts = claim.attempts + 1
        retry_at = None if permanent else self._backoff.next_attempt(attempts, now)
        extra = {"status_code": status_code} if status_code is not None else {}
        await self._ledger.fail(
            claim.key,
            attempts=attempts,
            error=error,
            now=now,
            next_attempt_at=retry_at,
            extra=extra,
        )
        if retry_at is not None:
            _log.warning("webhook %s attempt %d failed: %s", claim.key, attempts, error)
            return
        _log.error("webhook %s failed after %d attempts: %s", claim.key, attempts, error)
        if dead_letter and self._dead_letters is not None and record is not None:
            await self._dead_letters(
                channel=WEBHOOK_CHANNEL, key=claim.key, payload=record["body"], error=error
            )

    # --- operators -----------------------------------------------------------------------------

    async def deliveries(
        self,
        *,
        status: str | None,
        institution_id: str | None,
        endpoint_id: str | None,
        limit: int,
    ) -> list[Document]:
        """Delivery log (per endpoint or institution), optionally only one status."""
        query: dict[str, Any] = {}
        if institution_id:
            query["institution_id"] = institution_id
        if endpoint_id:
            query["endpoint_id"] = endpoint_id
        return await self._ledger.find_views(query, status=status, limit=limit)

    async def delivery(self, key: str) -> Document:
        """One delivery with its status."""
        record = await self._ledger.get_record(key)
        if record is None:
            raise DeliveryNotFound(f"no delivery {key}")
        return await self._ledger.view(record)

    async def replay(self, key: str) -> Document:
        """Operator action: queue a failed delivery again (same webhook-id)."""
        record = await self._ledger.get_record(key)
        if record is None:
            raise DeliveryNotFound(f"no delivery {key}")
        if not await self._ledger.replay(key, now=self._clock()):
            raise DeliveryNotReplayable(
                f"delivery {key} has not failed; only failed deliveries are replayed"
            )
        self.wakeup.set()
        return await self._ledger.view(record)
