"""Tenant life cycle: creation from the registry's announcement, key rotation and revocation."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_issuer.coalesced import CoalescedReads
from sceau_issuer.errors import InstitutionNotFound, KeyConflict, KeyNotFound
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.tenants.accreditation import Accreditation
from sceau_issuer.tenants.dids import controller_for, signing_key
from sceau_issuer.tenants.models import InstitutionSettings, KeyRecord, KeyState, Tenant
from sceau_issuer.tenants.repository import AccreditationRepository, TenantRepository
from sceau_issuer.vault import EncryptedSecret, Vault
from sceau_shared.events import (
    AccreditationChangedV1,
    InstitutionRegisteredV1,
    IssuerKeyPublishedV1,
    KeyAction,
    utcnow,
)

_log = logging.getLogger(__name__)


def key_event(
    producer: str, institution_id: str, key: KeyRecord, action: KeyAction
) -> IssuerKeyPublishedV1:
    """Return the public announcement of a key change (never any secret material)."""
    return IssuerKeyPublishedV1(
        producer=producer,
        institution_id=institution_id,
        did=key.did,
        verification_method=key.verification_method,
        public_key_multibase=key.public_key_multibase,
        action=action,
        active_from=key.active_from,
        rotated_at=key.rotated_at,
        revoked_as_of=key.revoked_as_of,
        key_version=key.version,
    )


class TenantService:
    """Creates tenants and manages their keys; decrypted keys are cached per process."""

    def __init__(
        self,
        repository: TenantRepository,
        vault: Vault,
        *,
        producer: str,
        registry_public_url: str,
        accreditations: AccreditationRepository,
        lists: StatusListRepository | None = None,
    ) -> None:
        self._repo = repository
        self._lists = lists
        self.accreditations = accreditations
        self._vault = vault
        self._producer = producer
        self._registry_public_url = registry_public_url
        self._keys: dict[tuple[str, str, str], SigningKey] = {}
        # Every request reads its tenant: concurrent ones share a read started after they asked.
        self._lookups = CoalescedReads(repository.get)

    def _new_key(
        self,
        institution_id: str,
        version: int,
        *,
        method: str,
        domain: str | None,
        hosted: str | None,
        now: datetime,
    ) -> KeyRecord:
        seed = os.urandom(32)
        did = controller_for(
            method,
            seed=seed,
            institution_id=institution_id,
            domain=domain,
            hosted=hosted,
            registry_public_url=self._registry_public_url,
        )
        key = signing_key(seed, did, version)
        key_id = f"k{version}"
        secret = self._vault.encrypt(seed, context=f"{institution_id}:{key_id}")
        return KeyRecord(
            key_id=key_id,
            version=version,
            did=did,
            verification_method=key.verification_method,
            public_key_multibase=key.public_key_multibase,
            secret=secret.to_doc(),
            state=KeyState.ACTIVE,
            active_from=now,
        )

    async def register(self, event: InstitutionRegisteredV1) -> bool:
        """Make the institution a tenant with a fresh key; False if it already was one.

        A redelivered announcement finds the document and changes nothing, so the key is made
        exactly once.
        """
        if await self._repo.get(event.institution_id) is not None:
            return False
        # The registry's accreditation topic is consumed apart: it may have arrived first.
        accreditation = await self.accreditations.get(event.institution_id)
        now = utcnow()
        key = self._new_key(
            event.institution_id,
            1,
            method=event.did_method,
            domain=event.domain,
            hosted=event.hosted_did,
            now=now,
        )
        doc: dict[str, Any] = {
            "_id": event.institution_id,
            "name": event.legal_name.model_dump(),
            "languages": list(event.languages),
            "category": event.category,
            "domain": event.domain,
            "did_method": str(event.did_method),
            "contact_email": event.contact_email,
            "hosted_did": event.hosted_did,
            "status": accreditation.status if accreditation else "active",
            "keys": [key.model_dump()],
            "active_key_id": key.key_id,
            "created_at": now,
        }
        events = [key_event(self._producer, event.institution_id, key, KeyAction.ADDED)]
        return await self._repo.insert(doc, events)

    async def get(self, institution_id: str) -> Tenant:
        """Return a tenant or raise :class:`InstitutionNotFound`."""
        tenant = await self._lookups.get(institution_id)
        if tenant is None:
            raise InstitutionNotFound(f"institution {institution_id!r} is not a tenant here")
        return tenant

    def signing_key(
        self, tenant: Tenant, key_id: str | None = None, profile: str = "ob3-v2"
    ) -> SigningKey:
        """Decrypt (once per process) the key that signs for ``tenant`` in ``profile``."""
        record = tenant.key(key_id) if key_id else tenant.active_key
        cache_key = (tenant.institution_id, record.key_id, profile)
        cached = self._keys.get(cache_key)
        if cached is None:
            seed = self._vault.decrypt(
                EncryptedSecret.from_doc(record.secret),
                context=f"{tenant.institution_id}:{record.key_id}",
            )
            cached = signing_key(seed, record.did, record.version, profile)
            self._keys[cache_key] = cached
        return cached

    async def rotate(self, institution_id: str) -> KeyRecord:
        """Make a new key active; the old one stays published so old credentials verify."""
        tenant = await self.get(institution_id)
        now = utcnow()
        old = tenant.active_key.model_copy(update={"state": KeyState.ROTATED, "rotated_at": now})
        new = self._new_key(
            institution_id,
            max(k.version for k in tenant.keys) + 1,
            method=tenant.did_method,
            domain=tenant.domain,
            hosted=tenant.active_key.did if tenant.did_method != "key" else None,
            now=now,
        )
        keys = [old if k.key_id == old.key_id else k for k in tenant.keys] + [new]
        events = [
            key_event(self._producer, institution_id, old, KeyAction.ROTATED),
            key_event(self._producer, institution_id, new, KeyAction.ADDED),
        ]
        if not await self._repo.replace_keys(
            institution_id,
            expected_active_key_id=old.key_id,
            keys=keys,
            active_key_id=new.key_id,
            events=events,
        ):
            raise KeyConflict("the keys changed concurrently; retry")
        await self._resign_lists(institution_id, new.did)
        return new

    async def _resign_lists(self, institution_id: str, did: str) -> None:
        """Ask for the DID's status lists to be signed by its new active key (issue 18, item 1).

        A list keeps the signature of the key that last published it; once that key is revoked
        it leaves the DID document and every credential on the list (those of the new key too)
        would fail its status check. The request is a flag on each list (read by every
        replica's publisher); if this process dies first, the publisher's sweep finds the lists
        whose signer is no longer the current key. A did:key rotation changes the DID: the old
        DID's lists can only be signed by the old key and are left as they are.
        """
        if self._lists is None:
            return
        try:
            asked = await self._lists.request_resign(
                await self._lists.lists_of(institution_id, [did])
            )
        except Exception:  # noqa: BLE001 - the keys are stored; the sweep re-signs later
            _log.exception("could not ask for %s's status lists to be re-signed", institution_id)
            return
        if asked:
            _log.info("asked for %d status list(s) of %s to be re-signed", asked, institution_id)

    async def revoke(self, institution_id: str, key_id: str, as_of: datetime) -> KeyRecord:
        """Revoke a (compromised) key as of a date; revoking the active key rotates first."""
        tenant = await self.get(institution_id)
        try:
            target = tenant.key(key_id)
        except LookupError as exc:
            raise KeyNotFound(f"key {key_id!r} not found") from exc
        if target.state == KeyState.REVOKED:
            raise KeyConflict(f"key {key_id!r} is already revoked")
        now = utcnow()
        revoked = target.model_copy(update={"state": KeyState.REVOKED, "revoked_as_of": as_of})
        keys = [revoked if k.key_id == key_id else k for k in tenant.keys]
        events = [key_event(self._producer, institution_id, revoked, KeyAction.REVOKED)]
        active_id = tenant.active_key_id
        if key_id == tenant.active_key_id:
            new = self._new_key(
                institution_id,
                max(k.version for k in tenant.keys) + 1,
                method=tenant.did_method,
                domain=tenant.domain,
                hosted=target.did if tenant.did_method != "key" else None,
                now=now,
            )
            keys.append(new)
            events.append(key_event(self._producer, institution_id, new, KeyAction.ADDED))
            active_id = new.key_id
        if not await self._repo.replace_keys(
            institution_id,
            expected_active_key_id=tenant.active_key_id,
            keys=keys,
            active_key_id=active_id,
            events=events,
        ):
            raise KeyConflict("the keys changed concurrently; retry")
        for cached in [k for k in self._keys if k[:2] == (institution_id, key_id)]:
            self._keys.pop(cached, None)
        active = next(k for k in keys if k.key_id == active_id)
        await self._resign_lists(institution_id, active.did)
        return revoked

    async def update_settings(
        self, institution_id: str, *, suspension: bool
    ) -> InstitutionSettings:
        """Turn suspension on or off for the credentials signed from now on.

        Credentials already issued keep the status entries they were signed with: turning
        suspension on does not make them suspendable, turning it off does not take the suspension
        entry out of those that carry one. ``updated_at`` moves only when something changed, so
        repeating a setting is a no-op.
        """
        tenant = await self.get(institution_id)
        if tenant.settings.suspension == suspension:
            return tenant.settings
        now = utcnow()
        # Milliseconds, as MongoDB stores them: the answer and a later read agree.
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        settings = tenant.settings.model_copy(update={"suspension": suspension, "updated_at": at})
        if not await self._repo.set_settings(institution_id, settings):
            raise InstitutionNotFound(f"institution {institution_id!r} is not a tenant here")
        return settings

    async def apply_accreditation(self, event: AccreditationChangedV1) -> bool:
        """Remember the registry's status and scopes (issuing checks them); False if stale.

        The tenant document's ``status`` follows too (shown in the institution profile); when the
        tenant does not exist yet, :meth:`register` reads it from the stored accreditation.
        """
        if not await self.accreditations.save(Accreditation.of(event)):
            return False
        await self._repo.set_status(event.institution_id, str(event.status))
        return True

    async def accreditation(self, institution_id: str) -> Accreditation | None:
        """The latest accreditation the registry announced (None before the first one)."""
        return await self.accreditations.get(institution_id)
