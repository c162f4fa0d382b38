"""Tenant life cycle: creation from the registry's announcement, key rotation and revocation."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_issuer.coalesced import GATHER_S, CoalescedReads
from sceau_issuer.errors import InstitutionNotFound, KeyConflict, KeyNotFound
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.tenants.accreditation import Accreditation
from sceau_issuer.tenants.dids import any_signing_key, controller_for, signing_key
from sceau_issuer.tenants.models import (
    InstitutionSettings,
    JwtAlgorithm,
    KeyRecord,
    KeyState,
    KeyType,
    Tenant,
)
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

#: What ``rotate`` accepts: every key type at once (the default), or one.
ROTATE_ALL = "all"
#: Institutions :meth:`TenantService.exists` remembers at most (the field counts about 60).
MAX_SEEN = 10_000


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
        self._keys: dict[tuple[str, str, str], SigningKey | P256SigningKey] = {}
        # Every request reads its tenant: concurrent ones share a read started after they asked.
        self._lookups = CoalescedReads(repository.get, gather_s=GATHER_S)
        self._seen: set[str] = set()

    def _new_key(
        self,
        institution_id: str,
        version: int,
        *,
        method: str,
        domain: str | None,
        hosted: str | None,
        now: datetime,
        key_type: KeyType = KeyType.ED25519,
        did: str | None = None,
    ) -> KeyRecord:
        """A new key, its secret encrypted; a P-256 key needs the institution's did:web ``did``."""
        if key_type is KeyType.P256:
            if did is None or did.startswith("did:key:"):
                raise ValueError("a P-256 key belongs to a did:web institution")
            p256 = P256SigningKey.generate(did, f"p256-{version}")
            seed, key_id = p256.scalar, f"p{version}"
            verification_method, multibase = p256.verification_method, p256.public_key_multibase
        else:
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
            verification_method, multibase = key.verification_method, key.public_key_multibase
        secret = self._vault.encrypt(seed, context=f"{institution_id}:{key_id}")
        return KeyRecord(
            key_id=key_id,
            key_type=key_type,
            version=version,
            did=did,
            verification_method=verification_method,
            public_key_multibase=multibase,
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
        keys = [key]
        if not key.did.startswith("did:key:"):
            keys.append(
                self._new_key(
                    event.institution_id, 1, method="", domain=None, hosted=None, now=now,
                    key_type=KeyType.P256, did=key.did,
                )
            )  # fmt: skip
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
            "keys": [k.model_dump() for k in keys],
            "active_key_id": key.key_id,
            "active_p256_key_id": keys[1].key_id if len(keys) > 1 else None,
            "created_at": now,
        }
        events = [key_event(self._producer, event.institution_id, k, KeyAction.ADDED) for k in keys]
        return await self._repo.insert(doc, events)

    async def get(self, institution_id: str) -> Tenant:
        """Return a tenant or raise :class:`InstitutionNotFound`."""
        tenant = await self._lookups.get(institution_id)
        if tenant is None:
            raise InstitutionNotFound(f"institution {institution_id!r} is not a tenant here")
        if tenant.wants_p256_key:
            tenant = await self._add_p256_key(tenant)
        return tenant

    async def exists(self, institution_id: str) -> None:
        """Raise :class:`InstitutionNotFound` unless the institution is (or was) a tenant here.

        For answers that only need the institution to exist (a wallet's ``c_nonce``: whatever
        it is used for re-reads the tenant): tenants are never deleted, so an institution seen
        once is remembered (bounded by :data:`MAX_SEEN`) and costs no read afterwards.
        """
        if institution_id in self._seen:
            return
        await self.get(institution_id)
        if len(self._seen) < MAX_SEEN:
            self._seen.add(institution_id)

    async def _add_p256_key(self, tenant: Tenant) -> Tenant:
        """Give a did:web tenant created before P-256 keys existed its first one (the upgrade).

        Done on first use, so no migration is run by hand: one conditional update (it matches
        only while the tenant has no P-256 key, so concurrent first uses make one key) that
        also queues the key's ``IssuerKeyPublishedV1``, then a fresh read.
        """
        now = utcnow()
        versions = [k.version for k in tenant.keys if k.key_type is KeyType.P256]
        key = self._new_key(
            tenant.institution_id, max(versions, default=0) + 1, method="", domain=None,
            hosted=None, now=now, key_type=KeyType.P256, did=tenant.did,
        )  # fmt: skip
        added = await self._repo.replace_keys(
            tenant.institution_id,
            expected_active_key_id=tenant.active_key_id,
            keys=[*tenant.keys, key],
            active_key_id=tenant.active_key_id,
            events=[key_event(self._producer, tenant.institution_id, key, KeyAction.ADDED)],
            expected_p256_key_id=None,
            active_p256_key_id=key.key_id,
        )
        if added:
            _log.info("institution %s: P-256 key %s added", tenant.institution_id, key.key_id)
        fresh = await self._repo.get(tenant.institution_id)
        if fresh is None:
            raise InstitutionNotFound(f"institution {tenant.institution_id!r} is not a tenant here")
        return fresh

    def signing_key(
        self, tenant: Tenant, key_id: str | None = None, profile: str = "ob3-v2"
    ) -> SigningKey | P256SigningKey:
        """Decrypt (once per process) the key that signs for ``tenant`` in ``profile``.

        Without ``key_id``, the key :meth:`Tenant.signing_record` names: for ``jwt`` the active
        P-256 key (ES256) unless the institution chose EdDSA or has none.
        """
        record = tenant.key(key_id) if key_id else tenant.signing_record(profile)
        cache_key = (tenant.institution_id, record.key_id, profile)
        cached = self._keys.get(cache_key)
        if cached is None:
            cached = any_signing_key(
                self._decrypt(tenant, record), record.did, record.version, profile, record.key_type
            )
            self._keys[cache_key] = cached
        return cached

    def p256_key(self, tenant: Tenant) -> P256SigningKey | None:
        """The active P-256 key, decrypted once per process (None without one)."""
        record = tenant.active_p256_key
        if record is None:
            return None
        key = self.signing_key(tenant, record.key_id)
        return key if isinstance(key, P256SigningKey) else None

    def secret(self, tenant: Tenant, record: KeyRecord) -> bytes:
        """The 32 secret bytes of one key (seed or P-256 scalar), decrypted once per process."""
        key = self.signing_key(tenant, record.key_id)
        return key.scalar if isinstance(key, P256SigningKey) else key.seed

    def _decrypt(self, tenant: Tenant, record: KeyRecord) -> bytes:
        return self._vault.decrypt(
            EncryptedSecret.from_doc(record.secret),
            context=f"{tenant.institution_id}:{record.key_id}",
        )

    def _successor(self, tenant: Tenant, old: KeyRecord, now: datetime) -> KeyRecord:
        """A new key of ``old``'s type to replace it (same DID, except for did:key)."""
        version = max(k.version for k in tenant.keys if k.key_type is old.key_type) + 1
        if old.key_type is KeyType.P256:
            return self._new_key(
                tenant.institution_id, version, method="", domain=None, hosted=None, now=now,
                key_type=KeyType.P256, did=old.did,
            )  # fmt: skip
        return self._new_key(
            tenant.institution_id,
            version,
            method=tenant.did_method,
            domain=tenant.domain,
            hosted=old.did if tenant.did_method != "key" else None,
            now=now,
        )

    async def rotate(self, institution_id: str, key_type: str = ROTATE_ALL) -> KeyRecord:
        """:meth:`rotate_keys`, answering the first new key (the Ed25519 one when it rotated)."""
        return (await self.rotate_keys(institution_id, key_type))[0]

    async def rotate_keys(self, institution_id: str, key_type: str = ROTATE_ALL) -> list[KeyRecord]:
        """Make new keys active; the old ones stay published so old credentials verify.

        ``key_type`` ``all`` (the default: a scheduled rotation renews every signing key of the
        institution), ``Ed25519`` or ``P-256``. Returns the new keys, Ed25519 first.
        """
        tenant = await self.get(institution_id)
        now = utcnow()
        olds = [tenant.active_key]
        if tenant.active_p256_key is not None:
            olds.append(tenant.active_p256_key)
        if key_type != ROTATE_ALL:
            olds = [k for k in olds if k.key_type == key_type]
            if not olds:
                raise KeyNotFound(f"institution {institution_id!r} has no active {key_type} key")
        keys = list(tenant.keys)
        events: list[IssuerKeyPublishedV1] = []
        news: list[KeyRecord] = []
        for old_key in olds:
            old = old_key.model_copy(update={"state": KeyState.ROTATED, "rotated_at": now})
            new = self._successor(tenant, old, now)
            keys = [old if k.key_id == old.key_id else k for k in keys] + [new]
            events += [
                key_event(self._producer, institution_id, old, KeyAction.ROTATED),
                key_event(self._producer, institution_id, new, KeyAction.ADDED),
            ]
            news.append(new)
        active = {k.key_type: k.key_id for k in news}
        if not await self._repo.replace_keys(
            institution_id,
            expected_active_key_id=tenant.active_key_id,
            keys=keys,
            active_key_id=active.get(KeyType.ED25519, tenant.active_key_id),
            events=events,
            expected_p256_key_id=tenant.active_p256_key_id,
            active_p256_key_id=active.get(KeyType.P256, tenant.active_p256_key_id),
        ):
            raise KeyConflict("the keys changed concurrently; retry")
        if KeyType.ED25519 in active:
            await self._resign_lists(institution_id, news[0].did)
        return news

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
        """Revoke a (compromised) key as of a date; revoking an active key rotates it first.

        The key type follows from ``key_id`` (``k…`` Ed25519, ``p…`` P-256): revoking the
        active P-256 key makes a new P-256 key active, exactly as for Ed25519.
        """
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
        active_id, active_p256_id = tenant.active_key_id, tenant.active_p256_key_id
        if key_id in (tenant.active_key_id, tenant.active_p256_key_id):
            new = self._successor(tenant, target, now)
            keys.append(new)
            events.append(key_event(self._producer, institution_id, new, KeyAction.ADDED))
            if new.key_type is KeyType.P256:
                active_p256_id = new.key_id
            else:
                active_id = new.key_id
        if not await self._repo.replace_keys(
            institution_id,
            expected_active_key_id=tenant.active_key_id,
            keys=keys,
            active_key_id=active_id,
            events=events,
            expected_p256_key_id=tenant.active_p256_key_id,
            active_p256_key_id=active_p256_id,
        ):
            raise KeyConflict("the keys changed concurrently; retry")
        for cached in [k for k in self._keys if k[:2] == (institution_id, key_id)]:
            self._keys.pop(cached, None)
        if target.key_type is KeyType.ED25519:
            active = next(k for k in keys if k.key_id == active_id)
            await self._resign_lists(institution_id, active.did)
        return revoked

    async def update_settings(
        self,
        institution_id: str,
        *,
        suspension: bool,
        jwt_algorithm: JwtAlgorithm | None = None,
        selective_disclosure: bool | None = None,
    ) -> InstitutionSettings:
        """Turn suspension on or off (and choose the ``jwt`` algorithm, selective disclosure).

        ``jwt_algorithm`` None keeps the current choice (``ES256`` unless changed; ``EdDSA`` is
        the explicit alternative, for relying parties that only read EdDSA);
        ``selective_disclosure`` None keeps it too (off unless turned on: issuing/selective.py).

        Credentials already issued keep the status entries they were signed with: turning
        suspension on does not make them suspendable, turning it off does not take the suspension
        entry out of those that carry one. ``updated_at`` moves only when something changed, so
        repeating a setting is a no-op.
        """
        tenant = await self.get(institution_id)
        current = tenant.settings
        algorithm = jwt_algorithm or current.jwt_algorithm
        sd = current.selective_disclosure if selective_disclosure is None else selective_disclosure
        wanted = (suspension, algorithm, sd)
        if (current.suspension, current.jwt_algorithm, current.selective_disclosure) == wanted:
            return current
        now = utcnow()
        # Milliseconds, as MongoDB stores them: the answer and a later read agree.
        at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        settings = current.model_copy(
            update={
                "suspension": suspension,
                "jwt_algorithm": algorithm,
                "selective_disclosure": sd,
                "updated_at": at,
            }
        )
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
