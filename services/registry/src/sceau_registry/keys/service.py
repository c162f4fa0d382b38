"""Consuming the issuer's key events: every verification method with its validity window.

Handling is idempotent on ``event_id`` (processed-event markers) *and* by construction (the key
record is merged so that repeating or reordering events gives the same record), so replaying the
whole topic from the start changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sceau_registry.institutions.models import Institution, to_ms
from sceau_registry.keys.models import KeyRecord
from sceau_registry.keys.repository import Keys
from sceau_shared.events import IssuerKeyPublishedV1
from sceau_shared.mongo import ProcessedEvents

_log = logging.getLogger(__name__)

CONSUMER = "registry.keys"


def key_record(event: IssuerKeyPublishedV1) -> KeyRecord:
    """What a key event says about its verification method."""
    return KeyRecord(
        verification_method=event.verification_method,
        did=event.did,
        institution_id=event.institution_id,
        public_key_multibase=event.public_key_multibase,
        active_from=to_ms(event.active_from),
        rotated_at=to_ms(event.rotated_at) if event.rotated_at else None,
        revoked_as_of=to_ms(event.revoked_as_of) if event.revoked_as_of else None,
        key_version=event.key_version,
    )


class KeyIngest:
    """Records key events and links each DID to its institution."""

    def __init__(
        self,
        keys: Keys,
        processed: ProcessedEvents,
        *,
        link_did: Callable[[str, str], Awaitable[Institution | None]],
        on_change: Callable[[str, Institution | None], None],
    ) -> None:
        self._keys = keys
        self._processed = processed
        self._link_did = link_did
        self._on_change = on_change

    async def handle(self, event: IssuerKeyPublishedV1) -> None:
        """Apply one key event (safe to call again with the same event)."""
        if await self._processed.seen(CONSUMER, event.event_id):
            return
        if not event.verification_method.startswith(event.did + "#"):
            _log.warning("key event %s ignored: method does not belong to its DID", event.event_id)
            await self._processed.mark(CONSUMER, event.event_id)
            return
        await self._keys.merge(key_record(event))
        institution = await self._link_did(event.institution_id, event.did)
        self._on_change(event.did, institution)
        await self._processed.mark(CONSUMER, event.event_id)
