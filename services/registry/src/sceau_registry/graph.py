"""Composition root of the registry: every object of one process, wired once from settings.

:func:`build_graph` runs in the lifespan before any consumer starts (see
:mod:`sceau_shared.service`), so it may do I/O: it creates the indexes, loads (or creates) the
registry's own signing key and repairs events a crash left unwritten (``governance.reconcile``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sceau_registry.identity.crypto import KeyCipher
from sceau_registry.identity.repository import RegistryKeys
from sceau_registry.identity.service import RegistryIdentity, load_identity
from sceau_registry.institutions.models import Institution
from sceau_registry.institutions.repository import AuditLog, Institutions
from sceau_registry.institutions.service import GovernanceService
from sceau_registry.keys.repository import Keys
from sceau_registry.keys.service import KeyIngest
from sceau_registry.outbox.repository import EventLog
from sceau_registry.outbox.service import EventRelay
from sceau_registry.settings import SERVICE_NAME, RegistrySettings
from sceau_registry.status_lists.repository import StatusLists
from sceau_registry.status_lists.service import StatusListService
from sceau_registry.trust.service import TrustService, dump
from sceau_registry.trust_list.repository import TrustLists
from sceau_registry.trust_list.service import CredentialSigner, TrustListPublisher, sign_trust_list
from sceau_shared.mongo import ProcessedEvents
from sceau_shared.runtime import Runtime
from sceau_shared.service.definition import BackgroundLoop
from sceau_shared.settings import decode_master_key

__all__ = ["RegistryGraph", "build_graph"]


@dataclass(frozen=True)
class RegistryGraph:
    """Every service object of one registry process (what routes and consumers call)."""

    identity: RegistryIdentity
    did_document: bytes
    institutions: Institutions
    governance: GovernanceService
    trust: TrustService
    status_lists: StatusListService
    key_ingest: KeyIngest
    trust_list: TrustListPublisher
    relay: EventRelay

    def background(self) -> Sequence[tuple[str, BackgroundLoop]]:
        """The trust-list re-signing loop, the event-log relay and the institution repairs."""
        return [
            ("trust-list", self.trust_list.run),
            ("outbox-relay", self.relay.run),
            ("institution-repairs", self.governance.run_repairs),
        ]

    async def close(self) -> None:
        """Nothing to release: the graph owns no connection, process or client of its own."""


async def build_graph(
    settings: RegistrySettings,
    runtime: Runtime,
    *,
    signer: CredentialSigner = sign_trust_list,
) -> RegistryGraph:
    """Create repositories and indexes, load the registry identity, wire the services.

    ``signer`` signs the trust list; tests pass a fast one (real signing is RDFC
    canonicalization, a CPU cost they do not need).
    """
    db = runtime.db
    institutions = Institutions(db["institutions"])
    audit = AuditLog(db["audit"])
    keys = Keys(db["keys"])
    status_store = StatusLists(db["status_lists"])
    registry_keys = RegistryKeys(db["registry_keys"])
    trust_lists = TrustLists(db["trust_lists"])
    processed = ProcessedEvents(db["processed_events"])
    event_log = EventLog(db["events"])
    for repo in (
        institutions,
        audit,
        keys,
        status_store,
        registry_keys,
        trust_lists,
        processed,
        event_log,
    ):
        await repo.ensure_indexes()
    await event_log.backfill_markers()  # once per database (events written before the markers)

    identity = await load_identity(
        registry_keys,
        KeyCipher(decode_master_key(settings.master_key)),
        public_base_url=settings.public_base_url,
    )
    relay = EventRelay(event_log, runtime.publisher, poll_interval_s=settings.outbox_poll_s)
    trust = TrustService(
        institutions,
        keys,
        cache_ttl_s=settings.cache_ttl_s,
        cache_max_entries=settings.cache_max_entries,
        dcc_language=settings.dcc_name_language,
    )
    trust_list = TrustListPublisher(
        institutions,
        trust_lists,
        identity,
        signer,
        list_url=f"{settings.public_base_url}/v1/trust-list",
        issuer_name=f"{settings.registry_name_fr} / {settings.registry_name_en}",
        validity=timedelta(seconds=settings.trust_list_validity_s),
        poll_s=settings.trust_list_poll_s,
    )

    def institution_changed(inst: Institution) -> None:
        trust.forget(*inst.dids, institution_id=inst.institution_id)
        trust_list.wake()
        relay.wake()

    def key_changed(did: str, inst: Institution | None) -> None:
        trust.forget(did)
        if inst is not None:
            institution_changed(inst)

    governance = GovernanceService(
        institutions,
        audit,
        event_log,
        write_lock=asyncio.Lock(),
        public_base_url=settings.public_base_url,
        producer=SERVICE_NAME,
        on_change=institution_changed,
    )
    await governance.reconcile()
    return RegistryGraph(
        identity=identity,
        did_document=dump(identity.document),
        institutions=institutions,
        governance=governance,
        trust=trust,
        status_lists=StatusListService(
            status_store,
            default_max_age_s=settings.status_list_default_max_age_s,
            cache_ttl_s=settings.cache_ttl_s,
            cache_max_entries=settings.cache_max_entries,
        ),
        key_ingest=KeyIngest(keys, processed, link_did=governance.link_did, on_change=key_changed),
        trust_list=trust_list,
        relay=relay,
    )
