"""The signed trust list: re-signed when its content changes (or nears expiry), never per request.

A background task compares a fingerprint of the entries (accredited institutions and their DIDs,
as of now) with the stored list's; only a difference — or half of the validity period elapsed —
makes it sign again.

The registry signs with the credential engine's ``ob3-v2`` profile: a VC Data Model 2.0 credential
secured with a ``DataIntegrityProof`` using the ``eddsa-rdfc-2022`` cryptosuite — what the Digital
Bazaar stack in the wallets verifies. Canonicalization is CPU-bound, so :func:`sign_trust_list`
runs it in a worker thread with its own event loop instead of blocking the service's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_registry.identity.service import RegistryIdentity
from sceau_registry.institutions.models import to_ms
from sceau_registry.institutions.repository import Institutions
from sceau_registry.status_lists.service import strong_etag
from sceau_registry.trust.exports import (
    content_fingerprint,
    trust_list_credential,
    trust_list_subject,
)
from sceau_registry.trust.service import dump
from sceau_registry.trust_list.repository import StoredTrustList, TrustLists
from sceau_shared.events import utcnow

_log = logging.getLogger(__name__)

CredentialSigner = Callable[[Mapping[str, Any], SigningKey], Awaitable[dict[str, Any]]]
"""Signs an unsigned credential with a key (``ob3-v2`` / ``eddsa-rdfc-2022``)."""


def _sign_blocking(credential: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    signed = asyncio.run(sign_credential(credential, key, Profile.OB3_V2))
    if not isinstance(signed, dict):  # pragma: no cover - ob3-v2 always returns an object
        raise TypeError("ob3-v2 signing returned a JWT")
    return signed


async def sign_trust_list(credential: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """Sign the trust list credential with the registry key (off the event loop)."""
    return await asyncio.to_thread(_sign_blocking, dict(credential), key)


class TrustListPublisher:
    """Keeps the stored, signed trust list in line with the registry's content."""

    def __init__(
        self,
        institutions: Institutions,
        store: TrustLists,
        identity: RegistryIdentity,
        signer: CredentialSigner,
        *,
        list_url: str,
        issuer_name: str,
        validity: timedelta,
        poll_s: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._institutions = institutions
        self._store = store
        self._identity = identity
        self._signer = signer
        self._list_url = list_url
        self._issuer_name = issuer_name
        self._validity = validity
        self._poll_s = poll_s
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._current: StoredTrustList | None = None
        self.signatures = 0

    def wake(self) -> None:
        """Ask for a check now (after a change on this replica)."""
        self._wakeup.set()

    async def current(self) -> StoredTrustList | None:
        """The signed list to serve (memory first; another replica may have signed it)."""
        if self._current is None:
            self._current = await self._store.get()
        return self._current

    async def refresh(self, *, force: bool = False) -> bool:
        """Sign a new list if the content changed or the old one is half-expired."""
        now = to_ms(self._clock())
        entries = trust_list_subject(await self._institutions.all(), now)
        fingerprint = content_fingerprint(entries)
        stored = await self._store.get()
        if (
            not force
            and stored is not None
            and stored.fingerprint == fingerprint
            and now < stored.signed_at + (stored.valid_until - stored.signed_at) / 2
        ):
            self._current = stored
            return False
        unsigned = trust_list_credential(
            entries,
            issuer_did=self._identity.did,
            issuer_name=self._issuer_name,
            list_url=self._list_url,
            now=now,
            validity=self._validity,
            serial=str(uuid.uuid4()),
        )
        signed = await self._signer(unsigned, self._identity.key)
        body = dump(signed)
        fresh = StoredTrustList(
            body=body,
            etag=strong_etag(body),
            fingerprint=fingerprint,
            signed_at=now,
            valid_until=now + self._validity,
        )
        await self._store.put(fresh)
        self._current = fresh
        self.signatures += 1
        _log.info("trust list re-signed with %d institution(s)", len(entries))
        return True

    async def run(self) -> None:
        """Check on every wake-up and every ``poll_s`` until cancelled."""
        task = asyncio.current_task()
        while True:
            if task is not None and task.cancelling():
                # Cancelled, but a library swallowed the CancelledError (Python 3.11's wait_for
                # does when its wait ends at that moment; pymongo uses it): stop all the same.
                raise asyncio.CancelledError
            self._wakeup.clear()  # before the work, so a wake-up during it is not lost
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the loop alive; next tick retries
                _log.warning("trust list refresh failed: %s: %s", type(exc).__name__, exc)
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow a cancellation
            # that arrives as its wait ends, and the loop would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wakeup.wait()
