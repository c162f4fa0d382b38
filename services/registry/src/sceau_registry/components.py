"""The registry's components, wired together once per process from settings and the runtime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from sceau_registry.crypto import KeyCipher
from sceau_registry.domain import Institution
from sceau_registry.eventlog import EventLog, EventRelay
from sceau_registry.governance import GovernanceService
from sceau_registry.identity import RegistryIdentity, load_identity
from sceau_registry.ingest import KeyIngest
from sceau_registry.repository import AuditLog, Institutions
from sceau_registry.settings import SERVICE_NAME, RegistrySettings
from sceau_registry.statuslists import StatusListService
from sceau_registry.stores import Keys, RegistryKeys, StatusLists, TrustLists
from sceau_registry.trust import TrustService, dump
from sceau_registry.trustlist import CredentialSigner, TrustListPublisher
from sceau_shared.kafka import EventPublisher
from sceau_shared.mongo import ProcessedEvents
from sceau_shared.settings import decode_master_key


@dataclass
class Components:
    """Every service object of one registry process."""

    identity: RegistryIdentity
    did_document: bytes
    institutions: Institutions
    governance: GovernanceService
    trust: TrustService
    status_lists: StatusListService
    key_ingest: KeyIngest
    trust_list: TrustListPublisher
    relay: EventRelay | None


async def build_components(
    settings: RegistrySettings,
    db: AsyncDatabase[dict[str, Any]],
    *,
    signer: CredentialSigner,
    publisher: EventPublisher | None = None,
) -> Components:
    """Create repositories and indexes, load the registry identity, wire the services."""
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

    identity = await load_identity(
        registry_keys,
        KeyCipher(decode_master_key(settings.master_key)),
        public_base_url=settings.public_base_url,
    )
    relay = (
        EventRelay(event_log, publisher, poll_interval_s=settings.outbox_poll_s)
        if publisher is not None
        else None
    )
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
        if relay is not None:
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
    return Components(
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
