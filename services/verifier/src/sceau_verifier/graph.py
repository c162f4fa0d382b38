"""Composition root of the verifier: its caches, clients and verification service, built once.

The verifier stores nothing: its graph is per-process state a verification reuses (the DID
resolver, the status list cache, the registry's trust answers, the proof memo) plus the queue of
``VerificationCompletedV1`` events. Cache-invalidation consumers (``consumers.py``) reach the
caches through this graph; the routes (``api/``) reach the service through it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from jinja2 import Environment, PackageLoader, select_autoescape

from sceau_credentials.dids import (
    CompositeResolver,
    DidJwkResolver,
    DidKeyResolver,
    DidResolver,
    DidWebResolver,
)
from sceau_credentials.results import ProofVerifier
from sceau_credentials.warmup import warm_up_verification
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.events.envelope import Event, utcnow
from sceau_shared.http import RateLimiter
from sceau_shared.runtime import Runtime
from sceau_shared.service.definition import BackgroundLoop
from sceau_shared.ssrf import GuardedTransport
from sceau_verifier.endorsements import EndorsementChecker
from sceau_verifier.errors import Oid4vpStoreUnavailable
from sceau_verifier.kept_answers import OutboundReads, VerifyAnswers, weigh_verification
from sceau_verifier.oid4vp.repository import open_store
from sceau_verifier.oid4vp.service import Oid4vpService
from sceau_verifier.proof_memo import ProofMemo
from sceau_verifier.proof_threads import ThreadedProofs
from sceau_verifier.reachability import ReachabilityResolver
from sceau_verifier.refresh import RefreshClient
from sceau_verifier.registry import RegistryClient, RegistryHosts
from sceau_verifier.reports import EventSink, ReportSender
from sceau_verifier.service import VerificationService
from sceau_verifier.settings import SERVICE_NAME, LimitSettings, VerifierSettings
from sceau_verifier.share_pages import SharePages
from sceau_verifier.shares import ShareClient
from sceau_verifier.status_lists import StatusListCache
from sceau_verifier.supersession import SupersessionClient
from sceau_verifier.verification import engine_call, engine_proof_verifier

__all__ = ["VerifierGraph", "assemble", "build_graph", "http_clients"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifierGraph:
    """Everything a verifier process reuses across requests and events.

    Attributes:
        limits: input bounds the routes apply (depth, batch size).
        resolver: did:key and did:jwk offline, did:web through the SSRF-guarded client.
        status_lists: status list cache (``StatusListPublishedV1`` replaces entries).
        registry: trust answers of the registry (``AccreditationChangedV1`` drops entries).
        shares: share links resolved through the issuer (kept a couple of seconds).
        share_pages: rendered share answers (kept as long; dropped by the invalidation events).
        answers: kept ``POST /v1/verify`` answers (dropped by the same events).
        proofs: memo of verified proofs by document digest.
        reports: the event queue (``VerificationCompletedV1``, ``ShareOpenedV1``), or ``None``
            when nothing is published.
        service: the verification use case the routes call.
        limiter: per-client token bucket of the public routes.
        templates: the page's Jinja environment.
        clients: HTTP clients the graph owns (closed by :meth:`close`).
        batch_concurrency: batch items verified at once.
        did_web: the did:web resolver inside ``resolver`` (key events drop its documents).
        proof_threads: the threads proofs are verified on (``None`` with an injected verifier).
        oid4vp: OpenID4VP requests, when their store and key are configured (else ``None``:
            those routes answer 503 and nothing else changes).
        oid4vp_sweep_s: how often expired requests are deleted from the store.
    """

    limits: LimitSettings
    resolver: DidResolver
    status_lists: StatusListCache
    registry: RegistryClient
    shares: ShareClient
    share_pages: SharePages
    proofs: ProofMemo
    reports: ReportSender | None
    service: VerificationService
    limiter: RateLimiter
    templates: Environment
    clients: tuple[httpx.AsyncClient, ...] = ()
    batch_concurrency: int = 8
    did_web: DidWebResolver | None = None
    proof_threads: ThreadedProofs | None = None
    oid4vp: Oid4vpService | None = None
    oid4vp_sweep_s: float = 60.0
    answers: VerifyAnswers = field(default_factory=lambda: VerifyAnswers(ttl_s=0, max_entries=0))

    def background(self) -> Sequence[tuple[str, BackgroundLoop]]:
        """The report sender's loop, when verifications are reported; the OpenID4VP sweeper."""
        loops: list[tuple[str, BackgroundLoop]] = []
        if self.reports is not None:
            loops.append(("verification-reports", self.reports.run))
        if self.oid4vp is not None:
            loops.append(("oid4vp-sweeper", self._sweep))
        return loops

    async def _sweep(self) -> None:
        """Delete OpenID4VP requests and answers past their keeping time, forever.

        Every replica sweeps (deleting twice is harmless); a store outage is logged and waited
        out, never fatal: the store is optional.
        """
        assert self.oid4vp is not None  # noqa: S101 - only started when configured
        while True:
            await asyncio.sleep(self.oid4vp_sweep_s)
            try:
                deleted = await self.oid4vp.repository.sweep(utcnow())
            except Oid4vpStoreUnavailable:
                _log.warning("OpenID4VP store unreachable; expired requests kept for now")
                continue
            if deleted:
                _log.info("OpenID4VP: %d expired request documents deleted", deleted)

    def forget_answers(self) -> None:
        """Drop every kept answer (share pages and ``POST /v1/verify``): the world changed."""
        self.share_pages.invalidate()
        self.answers.invalidate()

    async def close(self) -> None:
        """Close the HTTP clients and the proof threads (the report loop was already drained)."""
        if self.oid4vp is not None:
            await self.oid4vp.repository.close()
        await self.shares.close()
        for client in self.clients:
            await client.aclose()
        if self.proof_threads is not None:
            await self.proof_threads.close()


def http_clients(settings: VerifierSettings) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """Two clients: one for URLs taken from credentials (SSRF-guarded), one for our services.

    The guarded client checks every address at connect time; the registry's and the issuer's
    URLs are configured by the operator, so their client may reach a private address (they
    usually are one).
    """
    untrusted_private = settings.status.allow_private_hosts or settings.did_web.allow_private_hosts
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    guarded = httpx.AsyncClient(
        transport=GuardedTransport(allow_private=untrusted_private),
        limits=limits,
        follow_redirects=False,
        trust_env=False,
    )
    registry = httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)
    return guarded, registry


def page_templates() -> Environment:
    """The page's Jinja environment (autoescaping on: every shown value comes from strangers)."""
    return Environment(
        loader=PackageLoader("sceau_verifier", "templates"),
        autoescape=select_autoescape(["html"]),
        auto_reload=False,
    )


def assemble(
    settings: VerifierSettings,
    *,
    guarded: httpx.AsyncClient,
    registry_http: httpx.AsyncClient,
    publish: EventSink | None,
    on_report_dropped: Callable[[Event], None] = lambda event: None,
    proof_verifier: ProofVerifier | None = None,
) -> VerifierGraph:
    """Build the graph from settings, the two HTTP clients (now owned by it) and an event sink.

    ``registry_http`` reaches the registry and the issuer (operator-configured URLs).
    ``publish`` hands one event (``VerificationCompletedV1``, ``ShareOpenedV1``) to the broker;
    events queue for it in a :class:`ReportSender` of ``settings.report_queue_max`` (past
    that, ``on_report_dropped``).
    ``None`` (or ``publish_events: false``) publishes nothing. Tests pass an in-memory sink.
    """
    # The registry's own calls (status lists, the did:web documents it hosts) carry the
    # verifier token like trust lookups: the verifiers' rate bucket (issue 18, item 8).
    registry_hosts = RegistryHosts.of(settings.trust, settings.status.allowed_hosts)
    did_web = DidWebResolver(guarded, settings.did_web, headers_for=registry_hosts.headers_for)
    resolver = ReachabilityResolver(
        CompositeResolver(
            {
                "key": DidKeyResolver(),
                "jwk": DidJwkResolver(),  # offline, like did:key (wallets and some issuers use it)
                "web": did_web,
            }
        )
    )
    status_lists = StatusListCache(guarded, settings.status, headers_for=registry_hosts.headers_for)
    # What kept answers depend on: every document read from a credential's URLs (DID
    # documents, refresh services), and every status list and trust answer read that is new or
    # differs from the one held or given before (``StatusListCache.changes``,
    # ``RegistryClient.changes``). The issuer's supersession notice (cached itself, a warning
    # only) does not count.
    outbound = OutboundReads(counted_elsewhere=status_lists.fetching)
    guarded.event_hooks["request"].append(outbound.on_request)
    registry = RegistryClient(registry_http, settings.trust)
    threads = (
        ThreadedProofs(engine_proof_verifier, workers=settings.proof_threads)
        if proof_verifier is None
        else None
    )
    proofs = ProofMemo(
        proof_verifier or threads or engine_proof_verifier,
        ttl_s=settings.did_web.cache_ttl_s,
        max_entries=settings.proof_memo_entries,
    )
    reports = (
        ReportSender(publish, capacity=settings.report_queue_max, on_drop=on_report_dropped)
        if publish is not None and settings.publish_events
        else None
    )
    service = VerificationService(
        engine_call(
            resolver=resolver,
            status_lists=status_lists,
            registry=registry,
            proofs=proofs,
            require_trusted_issuer=settings.require_trusted_issuer,
        ),
        registry,
        reports=reports,
        timeout_s=settings.limits.verify_timeout_s,
        producer=SERVICE_NAME,
        events_per_request=settings.limits.events_per_request,
        supersession=SupersessionClient(registry_http, settings.shares),
        refresh=RefreshClient(
            guarded,
            max_depth=settings.limits.max_depth,
            allow_private=settings.status.allow_private_hosts,
        ),
        endorsements=EndorsementChecker(resolver, proofs, registry),
    )
    oid4vp = (
        Oid4vpService(
            open_store(settings.oid4vp, app_name=SERVICE_NAME),
            service,
            settings.oid4vp,
            public_base_url=settings.http.public_base_url,
        )
        if settings.oid4vp.enabled
        else None
    )
    return VerifierGraph(
        limits=settings.limits,
        resolver=resolver,
        status_lists=status_lists,
        registry=registry,
        shares=ShareClient(registry_http, settings.shares),
        share_pages=SharePages(
            ttl_s=settings.shares.cache_ttl_s, max_entries=settings.shares.page_cache_entries
        ),
        answers=VerifyAnswers(
            ttl_s=settings.answers.ttl_s,
            max_entries=settings.answers.max_entries,
            stamp=lambda: (outbound.count, registry.changes, status_lists.changes),
            max_bytes=settings.answers.max_bytes,
            weigh=weigh_verification,
        ),
        proofs=proofs,
        reports=reports,
        service=service,
        limiter=RateLimiter(
            settings.http.rate_limit_per_minute, burst=settings.limits.rate_limit_burst
        ),
        templates=page_templates(),
        clients=(guarded, registry_http),
        did_web=did_web,
        proof_threads=threads,
        oid4vp=oid4vp,
        oid4vp_sweep_s=settings.oid4vp.sweep_interval_s,
    )


def _report_delivery(delivery: asyncio.Future[Any]) -> None:
    """Log a verification event the broker did not take (the answer was already given)."""
    if not delivery.cancelled() and delivery.exception() is not None:
        _log.warning(
            "an event was not delivered: %s",
            type(delivery.exception()).__name__,
        )


async def build_graph(settings: VerifierSettings, runtime: Runtime) -> VerifierGraph:
    """The skeleton's composition root: the graph publishing to Kafka, the engine warmed up."""

    def count(event: Event) -> None:
        if isinstance(event, VerificationCompletedV1):
            runtime.metrics.verifications.add(1, {"outcome": event.outcome.value})

    async def publish(event: Event) -> None:
        # One event per verification (or share opening), read only for statistics and
        # receipts: it joins the producer's next batch instead of waiting for its own
        # acknowledgement.
        count(event)
        delivery = await runtime.publisher.send_detached(event)
        delivery.add_done_callback(_report_delivery)

    def dropped(event: Event) -> None:
        count(event)
        runtime.metrics.events_dropped.add(1, {"event_type": event.event_type})

    guarded, registry_http = http_clients(settings)
    graph = assemble(
        settings,
        guarded=guarded,
        registry_http=registry_http,
        publish=publish,
        on_report_dropped=dropped,
    )
    try:
        # Load the JSON-LD contexts, schemas and canonicalizer now, then keep everything built
        # so far (it lives as long as the process) out of the collector's generations: full
        # collections stay short (p99 halved in bench/verify.py).
        await warm_up_verification()
    except BaseException:
        await graph.close()
        raise
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
    return graph
