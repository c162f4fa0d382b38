"""The issuer's object graph, built once per process from settings and a database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.achievements.service import AchievementService
from sceau_issuer.apikeys.service import ApiKeyService
from sceau_issuer.issuing.batches import BatchRepository, BatchService, BatchWorker
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.issuing.service import IssuerConfig, IssuingService
from sceau_issuer.series.prerequisites import ProgressionRules
from sceau_issuer.series.service import SeriesService
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_issuer.signing import Signer
from sceau_issuer.status.allocation import BlockAllocator
from sceau_issuer.status.lists import StatusListRepository
from sceau_issuer.status.publisher import StatusPublisher
from sceau_issuer.status.service import StatusService
from sceau_issuer.tenants.repository import AccreditationRepository, TenantRepository
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.mongo import ensure_all_indexes
from sceau_shared.settings import decode_master_key

# Small collections relayed often; ``credentials`` (large, scanned per claim on FerretDB) is
# relayed by its own relay, woken on every write and otherwise polled rarely.
FAST_OUTBOXES = ("institutions", "status_lists")
CHUNKS_OUTBOX = "batch_chunks"
CREDENTIALS_OUTBOX = "credentials"


@dataclass
class Services:
    """Everything request handlers and background loops use."""

    settings: IssuerSettings
    db: AsyncDatabase[dict[str, Any]]
    vault: Vault
    signer: Signer
    tenants: TenantService
    api_keys: ApiKeyService
    achievements: AchievementService
    credentials: CredentialRepository
    issuing: IssuingService
    batches: BatchService
    worker: BatchWorker
    status: StatusService
    publisher: StatusPublisher
    series: SeriesService
    fast_relays: list[Callable[[], None]]
    credential_relay: list[Callable[[str], None]]
    chunk_relay: list[Callable[[str], None]]

    async def ensure_indexes(self) -> None:
        """Create every index the issuer relies on (idempotent)."""
        await ensure_all_indexes(
            self.tenants._repo,
            self.tenants.accreditations,
            self.api_keys,
            self.achievements._repo,
            self.credentials,
            self.batches.repository,
            self.issuing._lists,
            self.issuing._allocator,
            self.series,
        )


def build_services(settings: IssuerSettings, db: AsyncDatabase[dict[str, Any]]) -> Services:
    """Wire the issuer together (no I/O happens here)."""
    vault = Vault(decode_master_key(settings.master_key))
    signer = Signer(settings.sign_workers)
    tenants = TenantService(
        TenantRepository(db["institutions"]),
        vault,
        producer=SERVICE_NAME,
        registry_public_url=settings.registry_public_url,
        accreditations=AccreditationRepository(db["accreditations"]),
    )
    achievements = AchievementService(
        AchievementRepository(db["achievements"]),
        public_base_url=settings.http.public_base_url,
    )
    credentials = CredentialRepository(db["credentials"])
    # Wake-ups are targeted: on FerretDB every relay poll and every publisher round scans whole
    # collections, so a batch chunk must not make the credentials relay or the publisher look.
    fast_relays: list[Callable[[], None]] = []
    credential_relay: list[Callable[[str], None]] = []
    chunk_relay: list[Callable[[str], None]] = []
    holder: dict[str, Any] = {}

    def wake(targets: list[Callable[[], None]]) -> Callable[[], None]:
        def run() -> None:
            for target in targets:
                target()

        return run

    def credential_events(credential_id: str) -> None:
        for notify in credential_relay:
            notify(credential_id)

    def stored(kind: str, document_id: str | None = None) -> None:
        if document_id is None:
            wake(fast_relays)()
            return
        for notify in credential_relay if kind == "credential" else chunk_relay:
            notify(document_id)

    def new_list() -> None:
        if "publisher" in holder:
            holder["publisher"].wake()

    lists = StatusListRepository(
        db["status_lists"], registry_url=settings.registry_public_url, on_new_list=new_list
    )

    issuing = IssuingService(
        config=IssuerConfig(
            producer=SERVICE_NAME,
            public_base_url=settings.http.public_base_url,
            verifier_public_url=settings.verifier_public_url,
            claim_link_ttl_s=settings.claim_link_ttl_s,
        ),
        tenants=tenants,
        achievements=achievements,
        credentials=credentials,
        allocator=BlockAllocator(db["status_allocations"]),
        lists=lists,
        vault=vault,
        sign_many=signer.sign_many,
        reservations=db["idempotency"],
        on_stored=stored,
        progression=ProgressionRules(db["series"], credentials),
    )
    publisher = StatusPublisher(
        lists,
        credentials,
        tenants,
        signer.sign,
        producer=SERVICE_NAME,
        debounce_s=settings.status_debounce_s,
        ttl_ms=settings.status_list_ttl_ms,
        poll_s=settings.status_poll_s,
        on_published=wake(fast_relays),
    )
    holder["publisher"] = publisher
    series = SeriesService(db["series"], issuing)
    batch_repo = BatchRepository(db["batches"], db["batch_chunks"], db["batch_inputs"])

    async def after_chunk(
        institution_id: str, achievement_id: str, recipients: list[dict[str, Any]]
    ) -> None:
        if recipients:
            await series.after_issue(institution_id, achievement_id, recipients)

    worker = BatchWorker(
        batch_repo,
        issuing,
        lease_s=settings.batch_lease_s,
        poll_s=settings.worker_poll_s,
        after_chunk=after_chunk,
    )
    return Services(
        settings=settings,
        db=db,
        vault=vault,
        signer=signer,
        tenants=tenants,
        api_keys=ApiKeyService(db["api_keys"], vault),
        achievements=achievements,
        credentials=credentials,
        issuing=issuing,
        batches=BatchService(
            batch_repo,
            issuing,
            max_recipients=settings.max_batch_recipients,
            chunk_size=settings.batch_chunk_size,
        ),
        worker=worker,
        status=StatusService(
            credentials,
            issuing,
            producer=SERVICE_NAME,
            on_change=publisher.mark,
            on_event=credential_events,
        ),
        publisher=publisher,
        series=series,
        fast_relays=fast_relays,
        credential_relay=credential_relay,
        chunk_relay=chunk_relay,
    )
