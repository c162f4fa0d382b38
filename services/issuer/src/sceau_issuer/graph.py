"""The issuer's composition root: every repository, service, relay and loop, built once.

Order matters and is written out once here: the outbox relays come first, so every component
that writes events is handed its wake-up at construction; repositories next (their indexes are
created before anything runs), then the services that use them, and the signer's worker
processes last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from sceau_credentials.dids.did_jwk import DidJwkResolver
from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.dids.resolver import CompositeResolver
from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.achievements.service import AchievementService
from sceau_issuer.apikeys.repository import ApiKeyRepository
from sceau_issuer.apikeys.service import ApiKeyService
from sceau_issuer.credential_copies import CredentialCopies
from sceau_issuer.endorsements.repository import EndorsementRepository
from sceau_issuer.endorsements.service import AttachedEndorsements, EndorsementService
from sceau_issuer.insights.backfill import InsightsBackfill
from sceau_issuer.insights.backfill_repository import BACKFILL_MARKS, BackfillRepository
from sceau_issuer.insights.repository import InsightsRepository
from sceau_issuer.insights.service import InsightsService, OwnDids
from sceau_issuer.issuing.batch_repository import BatchRepository
from sceau_issuer.issuing.batches import BatchService, BatchWorker
from sceau_issuer.issuing.group_commit import IssueCollector
from sceau_issuer.issuing.idempotency_repository import IdempotencyRepository
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.issuing.service import IssuerConfig, IssuingService
from sceau_issuer.learners.repository import (
    CONSENTS,
    CONTACTS,
    MESSAGES,
    RECEIPTS,
    SHARES,
    LearnerRepository,
)
from sceau_issuer.learners.service import LearnerConfig, LearnerService
from sceau_issuer.learners.share_index_repository import OPENINGS as SHARE_OPENINGS
from sceau_issuer.learners.share_index_repository import REFS as SHARE_REFS
from sceau_issuer.lms.repository import DELIVERIES as LMS_DELIVERIES
from sceau_issuer.lms.repository import HOOKS as LMS_HOOKS
from sceau_issuer.lms.repository import LmsRepository
from sceau_issuer.lms.service import LmsService
from sceau_issuer.relay import IssuerRelays, RelayPool, TargetedOutboxRelay
from sceau_issuer.series.holdings import Holdings
from sceau_issuer.series.prerequisites import ProgressionRules
from sceau_issuer.series.repository import PendingAwards, SeriesRepository
from sceau_issuer.series.service import SeriesService
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_issuer.signer_pool import Signer
from sceau_issuer.status.allocation_repository import BlockAllocator
from sceau_issuer.status.changes_repository import StatusChangeLog
from sceau_issuer.status.publisher import StatusPublisher
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.status.reserve import SlotReserve
from sceau_issuer.status.service import StatusService
from sceau_issuer.tenants.repository import AccreditationRepository, TenantRepository
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_issuer.wallets.repository import (
    CURRENT,
    DELIVERIES,
    FAILURES,
    GRANTS,
    NONCES,
    OFFERS,
    WalletRepository,
)
from sceau_issuer.wallets.service import WalletConfig, WalletService
from sceau_issuer.wallets.sweeper import WalletSweeper
from sceau_issuer.wallets.vc_api import VcApiExchanges
from sceau_shared.events import utcnow
from sceau_shared.http import RateLimiter
from sceau_shared.mongo import ensure_all_indexes
from sceau_shared.outbox import OutboxRelay
from sceau_shared.runtime import Runtime
from sceau_shared.service.definition import BackgroundLoop
from sceau_shared.settings import decode_master_key
from sceau_shared.transient import once_through_outages

# Small collections relayed often (their size does not grow with use); ``credentials``, batch
# chunks, share receipts and learner messages grow, so each has a relay told of every write
# (pending markers find what a crashed process left), which never polls the collection.
FAST_OUTBOXES = ("institutions", "status_lists")
CHUNKS_OUTBOX = "batch_chunks"
CREDENTIALS_OUTBOX = "credentials"


@dataclass(frozen=True)
class IssuerRepositories:
    """Every MongoDB collection the issuer queries, each behind its repository."""

    tenants: TenantRepository
    accreditations: AccreditationRepository
    api_keys: ApiKeyRepository
    achievements: AchievementRepository
    endorsements: EndorsementRepository
    credentials: CredentialRepository
    reservations: IdempotencyRepository
    status_lists: StatusListRepository
    allocator: BlockAllocator
    series: SeriesRepository
    awards: PendingAwards
    batches: BatchRepository
    learners: LearnerRepository
    status_changes: StatusChangeLog
    wallets: WalletRepository
    lms: LmsRepository
    insights: InsightsRepository

    @classmethod
    def on(cls, db: AsyncDatabase[dict[str, Any]], settings: IssuerSettings) -> IssuerRepositories:
        """The repositories on the issuer's database (no I/O)."""
        return cls(
            tenants=TenantRepository(db["institutions"]),
            accreditations=AccreditationRepository(db["accreditations"]),
            api_keys=ApiKeyRepository(db["api_keys"]),
            achievements=AchievementRepository(db["achievements"]),
            endorsements=EndorsementRepository(db["endorsements"], db["endorsement_attachments"]),
            credentials=CredentialRepository(db[CREDENTIALS_OUTBOX]),
            reservations=IdempotencyRepository(db["idempotency"]),
            status_lists=StatusListRepository(
                db["status_lists"], registry_url=settings.registry_public_url
            ),
            allocator=BlockAllocator(db["status_allocations"]),
            series=SeriesRepository(db["series"], db["series_components"]),
            awards=PendingAwards(db["series_awards"]),
            batches=BatchRepository(
                db["batches"], db[CHUNKS_OUTBOX], db["batch_inputs"], db["batch_queue"]
            ),
            status_changes=StatusChangeLog(db["status_changes"]),
            learners=LearnerRepository(
                db[CONSENTS],
                db[SHARES],
                db[RECEIPTS],
                db[MESSAGES],
                db[CONTACTS],
                share_refs=db[SHARE_REFS],
                share_openings=db[SHARE_OPENINGS],
            ),
            wallets=WalletRepository(
                db[OFFERS], db[GRANTS], db[DELIVERIES], db[FAILURES], db[NONCES], db[CURRENT]
            ),
            lms=LmsRepository(db[LMS_HOOKS], db[LMS_DELIVERIES]),
            insights=InsightsRepository(
                db["insights_counters"],
                db["insights_credentials"],
                db["insights_events"],
                db["insights_pending"],
            ),
        )

    async def ensure_indexes(self) -> None:
        """Create every index the issuer's queries rely on (idempotent)."""
        await ensure_all_indexes(
            self.tenants,
            self.accreditations,
            self.api_keys,
            self.achievements,
            self.endorsements,
            self.credentials,
            self.batches,
            self.status_lists,
            self.allocator,
            self.series,
            self.awards,
            self.learners,
            self.status_changes,
            self.wallets,
            self.lms,
            self.insights,
        )


@dataclass(frozen=True)
class IssuerGraph:
    """Everything the issuer's routes, consumers and background loops use."""

    settings: IssuerSettings
    vault: Vault
    signer: Signer
    claim_limiter: RateLimiter
    share_limiter: RateLimiter
    mail_limiter: RateLimiter
    repositories: IssuerRepositories
    relays: IssuerRelays
    tenants: TenantService
    api_keys: ApiKeyService
    achievements: AchievementService
    endorsements: EndorsementService
    issuing: IssuingService
    slots: SlotReserve
    collector: IssueCollector
    series: SeriesService
    batches: BatchService
    worker: BatchWorker
    status: StatusService
    publisher: StatusPublisher
    learners: LearnerService
    wallets: WalletService
    lms: LmsService
    insights: InsightsService
    exchanges: VcApiExchanges
    wallet_sweeper: WalletSweeper
    insights_backfill: InsightsBackfill

    @property
    def credentials(self) -> CredentialRepository:
        """Issued credentials (listing, claim links, reports)."""
        return self.repositories.credentials

    def background(self) -> Sequence[tuple[str, BackgroundLoop]]:
        """The relays, batch worker, status publisher, sweepers and the insights backfill.

        The backfill runs once per database, then its loop ends.
        """
        loops: list[tuple[str, BackgroundLoop]] = [
            ("outbox-relay", relay.run) for relay in self.relays.all
        ]
        loops.append(("batch-worker", self.worker.run))
        loops.append(("status-publisher", self.publisher.run))
        loops.append(("wallet-sweeper", self.wallet_sweeper.run))
        loops.append(("series-awards", self.series.run))
        loops.append(("insights-backfill", self.insights_backfill.run))
        # Once per database with shares from before the index (then it ends at once).
        share_index = self.repositories.learners.share_index
        loops.append(
            ("share-index", partial(once_through_outages, share_index.build, what="share index"))
        )
        return loops

    async def close(self) -> None:
        """Finish the issuing groups being written, then stop the signer's worker processes."""
        await self.collector.close()
        await self.wallets.close()
        await self.slots.close()
        self.signer.close()


def _relays(settings: IssuerSettings, runtime: Runtime) -> IssuerRelays:
    db, publisher = runtime.db, runtime.publisher
    # The relays' spans continue the trace of the request that wrote each event.
    traced = runtime.telemetry.tracer_provider
    relays = IssuerRelays(
        small=[
            OutboxRelay([db[name] for name in FAST_OUTBOXES], publisher, tracer_provider=traced)
            for _ in range(settings.outbox_relays)
        ],
        credentials=TargetedOutboxRelay(
            db[CREDENTIALS_OUTBOX],
            publisher,
            sweep_interval_s=settings.credentials_outbox_sweep_s,
            lease_notified=False,  # one per process: see TargetedOutboxRelay
            tracer_provider=traced,
        ),
        chunks=RelayPool(
            db[CHUNKS_OUTBOX],
            publisher,
            size=settings.chunk_relays,
            sweep_interval_s=settings.credentials_outbox_sweep_s,
            tracer_provider=traced,
        ),
        receipts=TargetedOutboxRelay(
            db[RECEIPTS],
            publisher,
            sweep_interval_s=settings.credentials_outbox_sweep_s,
            tracer_provider=traced,
        ),
        messages=TargetedOutboxRelay(
            db[MESSAGES],
            publisher,
            sweep_interval_s=settings.credentials_outbox_sweep_s,
            tracer_provider=traced,
        ),
    )
    for relay in relays.all:
        relay.metrics = runtime.metrics  # issued / status-changed counted once published
    return relays


async def build_graph(settings: IssuerSettings, runtime: Runtime) -> IssuerGraph:
    """Wire the issuer together, create its indexes and start the signer's processes."""
    relays = _relays(settings, runtime)
    repos = IssuerRepositories.on(runtime.db, settings)
    vault = Vault(decode_master_key(settings.master_key))
    signer = Signer(settings.sign_workers, CredentialCopies.at(settings.conformance_dir))
    holdings = Holdings(repos.credentials, repos.achievements, vault.credential_id)
    tenants = TenantService(
        repos.tenants,
        vault,
        producer=SERVICE_NAME,
        registry_public_url=settings.registry_public_url,
        accreditations=repos.accreditations,
        lists=repos.status_lists,
    )
    attached = AttachedEndorsements(repos.endorsements, ttl_s=settings.endorsement_cache_s)
    achievements = AchievementService(
        repos.achievements, public_base_url=settings.http.public_base_url, endorsements=attached
    )
    endorsements = EndorsementService(
        repos.endorsements,
        repos.achievements,
        tenants,
        sign=signer.sign,
        attached=attached,
        achievement_uri=achievements.achievement_uri,
    )
    publisher = StatusPublisher(
        repos.status_lists,
        repos.credentials,
        repos.status_changes,
        tenants,
        signer.sign,
        producer=SERVICE_NAME,
        debounce_s=settings.status_debounce_s,
        ttl_ms=settings.status_list_ttl_ms,
        poll_s=settings.status_poll_s,
        on_published=relays.wake_small,
    )
    slots = SlotReserve(repos.allocator, block=settings.status_reserve_block)
    issuing = IssuingService(
        config=IssuerConfig(
            producer=SERVICE_NAME,
            public_base_url=settings.http.public_base_url,
            verifier_public_url=settings.verifier_public_url,
            claim_link_ttl_s=settings.claim_link_ttl_s,
            learner_link_ttl_s=settings.learner_link_ttl_s,
        ),
        tenants=tenants,
        achievements=achievements,
        credentials=repos.credentials,
        allocator=slots,
        lists=repos.status_lists,
        vault=vault,
        sign_many=signer.sign_many,
        reservations=repos.reservations,
        on_stored=relays.stored,
        on_new_list=publisher.wake,
        progression=ProgressionRules(repos.series, holdings),
    )
    # Single issues, and the series' overall credentials they complete, are written in groups.
    collector = IssueCollector(
        issuing,
        sign_group=signer.sign_apart,
        on_written=relays.credentials.notify_written_together,
        window_s=settings.issue_group_window_s,
        max_group=settings.issue_group_max,
        groups_in_flight=settings.issue_groups_in_flight,
    )
    series = SeriesService(repos.series, issuing, holdings, collector, pending=repos.awards)
    insights = InsightsService(
        repos.insights,
        credentials=repos.credentials,
        achievements=repos.achievements,
        series=repos.series,
        threshold=settings.small_cell_threshold,
        own_did=OwnDids(repos.tenants.all_dids),
    )
    learners = LearnerService(
        config=LearnerConfig(
            producer=SERVICE_NAME,
            public_base_url=settings.http.public_base_url,
            verifier_public_url=settings.verifier_public_url,
            learner_link_ttl_s=settings.learner_link_ttl_s,
            share_max_days=settings.share_max_days,
        ),
        repository=repos.learners,
        credentials=repos.credentials,
        tenants=tenants,
        vault=vault,
        sign=signer.sign,
        achievements=achievements,
        on_written=relays.written,
        insights=insights,
    )

    async def accepted(credentials: Sequence[Mapping[str, Any]]) -> None:
        # A wallet taking the learner's offer is the learner accepting the credential.
        answers = {str(c["_id"]): str(c["institution_id"]) for c in credentials}
        await repos.learners.set_consents(
            [(inst, cid, "accepted") for cid, inst in answers.items()], utcnow()
        )
        await insights.accepted_many(list({str(c["_id"]): c for c in credentials}.values()))

    holder_dids = CompositeResolver({"key": DidKeyResolver(), "jwk": DidJwkResolver()})
    wallets = WalletService(
        config=WalletConfig(
            public_base_url=settings.http.public_base_url,
            offer_ttl_s=settings.wallet_offer_ttl_s,
        ),
        repository=repos.wallets,
        credentials=repos.credentials,
        tenants=tenants,
        vault=vault,
        sign_many=signer.sign_ready_apart,
        resolver=holder_dids,
        on_accepted_many=accepted,
    )

    async def after_chunk(
        institution_id: str, achievement_id: str, recipients: list[dict[str, Any]]
    ) -> None:
        if recipients:
            # The chunk keeps its award step due itself (``awards_due``): no per-learner marker.
            await series.after_issue(institution_id, achievement_id, recipients, marked=False)

    graph = IssuerGraph(
        settings=settings,
        vault=vault,
        signer=signer,
        claim_limiter=RateLimiter(settings.http.rate_limit_per_minute),
        # The verifier resolves every viewer's share through one client address.
        share_limiter=RateLimiter(settings.http.rate_limit_per_minute * 20),
        # E-mails a learner asks for: a small burst, then one a minute (per credential/address).
        mail_limiter=RateLimiter(1, burst=settings.learner_mail_per_hour),
        repositories=repos,
        relays=relays,
        tenants=tenants,
        api_keys=ApiKeyService(repos.api_keys, vault),
        achievements=achievements,
        endorsements=endorsements,
        issuing=issuing,
        slots=slots,
        collector=collector,
        series=series,
        batches=BatchService(
            repos.batches,
            issuing,
            max_recipients=settings.max_batch_recipients,
            chunk_size=settings.batch_chunk_size,
        ),
        worker=BatchWorker(
            repos.batches,
            issuing,
            lease_s=settings.batch_lease_s,
            poll_s=settings.worker_poll_s,
            after_chunk=after_chunk,
        ),
        status=StatusService(
            repos.credentials,
            issuing,
            repos.status_changes,
            producer=SERVICE_NAME,
            on_change=publisher.mark,
            on_event=relays.credentials.notify,
        ),
        publisher=publisher,
        learners=learners,
        wallets=wallets,
        lms=LmsService(
            repository=repos.lms,
            vault=vault,
            tenants=tenants,
            achievements=achievements,
            issuing=issuing,
            collector=collector,
            series=series,
            public_base_url=settings.http.public_base_url,
        ),
        insights=insights,
        exchanges=VcApiExchanges(wallets=wallets, resolver=holder_dids),
        # The scan for leftovers: hourly (the exact-key rounds keep up with this process).
        wallet_sweeper=WalletSweeper(
            repos.wallets, interval_s=settings.wallet_sweep_s, full_every_s=3600
        ),
        insights_backfill=InsightsBackfill(
            insights,
            BackfillRepository(
                credentials=runtime.db[CREDENTIALS_OUTBOX],
                consents=runtime.db[CONSENTS],
                shares=runtime.db[SHARES],
                marks=runtime.db[BACKFILL_MARKS],
            ),
        ),
    )
    await repos.ensure_indexes()
    await repos.status_changes.backfill(repos.credentials.flagged())
    await relays.small[0].ensure_indexes()
    signer.start()
    return graph
