"""The registry of the issuer's hot queries: every database call on a request or event path.

Each entry names a path and runs it through the issuer's own services (built by ``build_graph``,
background loops not started), so what is checked is exactly what the code sends: the test
(``test_issuer_hot_queries.py``) records every command with a PyMongo command listener and asks
the server to ``explain`` each filter. A hot query must be answered from the primary key (FerretDB
1.24, SQLite) or an index (MongoDB); ``bounded`` lists the collections a path may read whole
because their size does not grow with the credentials (the batch work queue, the status list
documents). Entries run in order and share one :class:`World`.

docs/mongodb-features.md ("Hot queries") lists the same names.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from issuer_support import ALL_TYPES, micro
from lms_samples import canvas_course_completed
from wallet_support import holder_proof

from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.constants import VC_V2_CONTEXT
from sceau_credentials.presentations import sign_presentation
from sceau_dev.testing.hot_queries import HotQuery
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.errors import AlreadyIssued, PrerequisiteMissing
from sceau_issuer.graph import CHUNKS_OUTBOX, CREDENTIALS_OUTBOX, IssuerGraph
from sceau_issuer.insights.service import tally_key
from sceau_issuer.issuing.schemas import BatchRequest, IssueRequest, RecipientInput
from sceau_issuer.lms.mappings import Lms
from sceau_issuer.series.schemas import SeriesInput
from sceau_issuer.status.schemas import ReasonCode, StatusAction
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.wallets.oauth_errors import WalletProtocolError
from sceau_issuer.wallets.schemas import PRE_AUTHORIZED_GRANT
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    InstitutionRegisteredV1,
    InstitutionStatus,
    ShareOpenedV1,
    StatusChange,
    VerificationCompletedV1,
    VerificationOutcome,
)
from sceau_shared.standard_webhooks import sign


@dataclass
class World:
    """What the hot queries act on (filled by :func:`prepare`, then by the queries in order)."""

    graph: IssuerGraph
    db: Any
    institution_id: str = ""
    token: str = ""
    modules: list[str] = field(default_factory=list)
    overall: str = ""
    single: dict[str, Any] = field(default_factory=dict)
    batch_id: str = ""

    async def tenant(self) -> Tenant:
        return await self.graph.tenants.get(self.institution_id)


async def prepare(graph: IssuerGraph, db: Any) -> World:
    """A tenant, an API key, a progressive series of three modules and its overall achievement."""
    world = World(graph, db)
    world.institution_id = f"inst-{uuid.uuid4().hex[:8]}"
    await graph.tenants.register(
        InstitutionRegisteredV1(
            producer="test",
            institution_id=world.institution_id,
            legal_name={"fr": "Collège Test", "en": "Test College"},
            category="college",
            jurisdiction="CA-ON",
            contact_email="registrar@college.example",
        )
    )
    now = datetime.now(UTC)
    await graph.tenants.apply_accreditation(
        AccreditationChangedV1(
            producer="registry",
            institution_id=world.institution_id,
            status=InstitutionStatus.ACTIVE,
            scopes=[
                AccreditationScope(achievement_types=ALL_TYPES, valid_from=now - timedelta(days=1))
            ],
            effective_at=now,
        )
    )
    world.token = (await graph.api_keys.create(world.institution_id, "hot", list(Scope))).token
    # The suspend and reinstate paths below need credentials issued with a suspension entry.
    await graph.tenants.update_settings(world.institution_id, suspension=True)
    tenant = await world.tenant()

    async def published(name: str) -> str:
        definition = AchievementInput.model_validate(micro(name={"fr": name, "en": name}))
        doc = await graph.achievements.create(tenant, definition)
        await graph.achievements.publish(tenant, doc["achievement_id"])
        return str(doc["achievement_id"])

    world.modules = [await published(f"Module {n}") for n in (1, 2, 3)]
    world.overall = await published("Parcours")
    await graph.series.create(
        tenant,
        SeriesInput.model_validate(
            {
                "name": {"fr": "Parcours", "en": "Pathway"},
                "structure": "progressive",
                "components": [{"achievement_id": m} for m in world.modules],
                "overall_achievement_id": world.overall,
            }
        ),
    )
    return world


def _request(achievement_id: str, email: str) -> IssueRequest:
    return IssueRequest(achievement_id=achievement_id, recipient=RecipientInput(email=email))


async def _issue(world: World, achievement_id: str, email: str, key: str) -> dict[str, Any]:
    """Issue as ``POST /v1/credentials`` does (then the series completion rule)."""
    graph = world.graph
    doc, replayed = await graph.issuing.issue(
        await world.tenant(), _request(achievement_id, email), idempotency_key=key
    )
    if not replayed:
        await graph.series.after_issue(world.institution_id, achievement_id, [doc["recipient"]])
    return doc


async def api_key_auth(world: World) -> None:
    await world.graph.api_keys.authenticate(world.token)


async def tenant_lookup(world: World) -> None:
    tenant = await world.tenant()
    await world.graph.tenants.accreditation(tenant.institution_id)


async def issue_single(world: World) -> None:
    world.single = await _issue(world, world.modules[0], "ada@example.org", "k-single")


async def issue_group(world: World) -> None:
    """Concurrent issues written as groups, a repeated key and an already-held recipient in."""
    graph, tenant = world.graph, await world.tenant()
    calls = [(world.modules[0], f"group{n}@example.org", f"k-group{n}") for n in range(4)] + [
        (world.modules[0], "group0@example.org", "k-group0"),  # the same key again: a replay
        (world.modules[0], "ada@example.org", "k-group-held"),  # holds it already: 409
    ]
    outcomes = await asyncio.gather(
        *(
            graph.collector.issue(tenant, _request(a, email), idempotency_key=key)
            for a, email, key in calls
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[-1], AlreadyIssued), outcomes[-1]
    assert all(isinstance(o, tuple) for o in outcomes[:-1]), outcomes
    relay = graph.relays.credentials
    assert await relay.relay_written() >= 8  # the group's events, from memory, one marker delete


async def issue_replay(world: World) -> None:
    again = await _issue(world, world.modules[0], "ada@example.org", "k-single")
    assert again["_id"] == world.single["_id"]


async def issue_duplicate_recipient(world: World) -> None:
    try:
        await _issue(world, world.modules[0], "ada@example.org", "k-other")
    except AlreadyIssued:
        return
    raise AssertionError("a second key for the same recipient and version must be refused")


async def issue_prerequisite_missing(world: World) -> None:
    try:
        await _issue(world, world.modules[2], "bob@example.org", "k-bob")
    except PrerequisiteMissing:
        return
    raise AssertionError("module 3 without modules 1 and 2 must be refused")


async def issue_series_module(world: World) -> None:
    await _issue(world, world.modules[1], "ada@example.org", "k-m2")
    await _issue(world, world.modules[2], "ada@example.org", "k-m3")  # completes the series
    overall = await world.graph.series.after_issue(world.institution_id, world.modules[2], [])
    assert overall == []


async def lms_hook(world: World) -> None:
    """A Canvas completion through the hook (secret and mapping set first), then its replay."""
    graph = world.graph
    secret = (await graph.lms.create_secret(world.institution_id)).secret
    await graph.lms.put_mapping(await world.tenant(), Lms.CANVAS, "565", world.modules[0], None)
    body = json.dumps(canvas_course_completed(email="lms@example.org")).encode()
    at = int(time.time())
    headers = {
        "webhook-id": "msg_hot",
        "webhook-timestamp": str(at),
        "webhook-signature": sign(secret, "msg_hot", at, body),
    }
    answer, issued = await graph.lms.receive(world.institution_id, Lms.CANVAS, headers, body)
    assert issued, answer
    again, issued = await graph.lms.receive(world.institution_id, Lms.CANVAS, headers, body)
    assert again.replay
    assert not issued


async def batch_submit(world: World) -> None:
    request = BatchRequest(
        achievement_id=world.modules[0],
        recipients=[RecipientInput(email=f"learner{n}@example.org") for n in range(30)],
    )
    doc, _ = await world.graph.batches.create(world.institution_id, request, idempotency_key="b1")
    world.batch_id = str(doc["_id"])


async def batch_replay(world: World) -> None:
    request = BatchRequest(
        achievement_id=world.modules[0],
        recipients=[RecipientInput(email=f"learner{n}@example.org") for n in range(30)],
    )
    doc, replayed = await world.graph.batches.create(
        world.institution_id, request, idempotency_key="b1"
    )
    assert replayed
    assert doc["_id"] == world.batch_id


async def batch_chunks(world: World) -> None:
    assert await world.graph.worker.run_once()


async def batch_progress(world: World) -> None:
    doc = await world.graph.batches.get(world.institution_id, world.batch_id)
    assert doc["state"] == "completed", doc["state"]


async def claim_link(world: World) -> None:
    url = world.graph.issuing.claim_url(world.institution_id, world.single["_id"])
    claims = world.graph.vault.read_claim_token(url.rsplit("/", 1)[1])
    assert claims is not None
    assert await world.graph.credentials.get(*claims) is not None


async def _wallet_credential(world: World, email: str) -> dict[str, Any]:
    doc = await _issue(world, world.modules[0], email, f"k-{email}")
    credential = await world.graph.credentials.get(world.institution_id, doc["_id"])
    assert credential is not None
    return credential


async def wallet_offer_and_delivery(world: World) -> None:
    """The learner's page makes an offer; an OpenID4VCI wallet takes it (one wrong code first)."""
    wallets = world.graph.wallets
    credential = await _wallet_credential(world, "wallet@example.org")
    view = await wallets.create_offer(credential, "pending", with_tx_code=True)
    assert await wallets.current_offer(world.institution_id, credential["_id"]) is not None
    offer = await wallets.offer(world.institution_id, view.offer_id)
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": "x"}
    with pytest.raises(WalletProtocolError, match="transaction code is wrong"):
        await wallets.token(world.institution_id, form)
    token = await wallets.token(world.institution_id, {**form, "tx_code": view.tx_code or ""})
    nonce = (await wallets.nonce(world.institution_id))["c_nonce"]
    holder = SigningKey.generate()
    proof = holder_proof(holder, wallets.issuer_id(world.institution_id), nonce)
    body = {"credential_configuration_id": view.configuration_id, "proofs": {"jwt": [proof]}}
    await wallets.credential(world.institution_id, token["access_token"], body)


async def wallet_exchange(world: World) -> None:
    """A VC-API wallet takes an offer through its exchange (DIDAuth, then the credential)."""
    wallets = world.graph.wallets
    credential = await _wallet_credential(world, "exchange@example.org")
    view = await wallets.create_offer(credential, "pending", with_tx_code=False)
    exchange_id = view.exchange_url.rsplit("/", 1)[1]
    started = await world.graph.exchanges.exchange(world.institution_id, exchange_id, {})
    request = started["verifiablePresentationRequest"]
    holder = SigningKey.generate()
    presentation = sign_presentation(
        {"@context": [VC_V2_CONTEXT], "type": ["VerifiablePresentation"]},
        holder,
        challenge=request["challenge"],
        domain=request["domain"],
    )
    body = {"verifiablePresentation": presentation}
    await world.graph.exchanges.exchange(world.institution_id, exchange_id, body)


async def learner_shares(world: World) -> None:
    """The learner's page: accept, make share links (one for the PDF), list, open, revoke."""
    learners = world.graph.learners
    credential = await _wallet_credential(world, "sharer@example.org")
    url = learners.page_url(world.institution_id, credential["_id"])
    ctx = await learners.open(url.rsplit("/", 1)[1])
    await learners.set_consent(ctx, "accepted")
    ctx = await learners.open(url.rsplit("/", 1)[1])
    made = await learners.create_share(
        ctx, label="employer", expires_in_days=30, notify_on_open=True
    )
    await learners.create_share(ctx, label="pdf", expires_in_days=None, for_pdf=True)
    await learners.record_opening(
        ShareOpenedV1(
            producer="verifier",
            share_id=made.share_id,
            institution_id=world.institution_id,
            opened_at=datetime.now(UTC),
            answer="verified",
        )
    )
    views = await learners.shares(ctx)
    assert [v.open_count for v in views] == [1, 0], views
    assert (await learners.share(ctx, made.share_id)).open_count == 1
    assert await world.graph.repositories.learners.pdf_share(
        world.institution_id, credential["_id"]
    )
    await learners.revoke_share(ctx, made.share_id)


async def suspend(world: World) -> None:
    await world.graph.status.change(
        await world.tenant(), world.single["_id"], StatusAction.SUSPEND, ReasonCode.OTHER
    )


async def reinstate(world: World) -> None:
    await world.graph.status.change(
        await world.tenant(), world.single["_id"], StatusAction.REINSTATE, ReasonCode.OTHER
    )


async def revoke(world: World) -> None:
    await world.graph.status.change(
        await world.tenant(), world.single["_id"], StatusAction.REVOKE, ReasonCode.OTHER
    )


async def status_list_publish(world: World) -> None:
    assert await world.graph.publisher.publish_pending() >= 1


async def credentials_relay(world: World) -> None:
    relay = world.graph.relays.credentials
    sent = await relay.relay_by_id(world.db[CREDENTIALS_OUTBOX], world.single["_id"])
    assert sent, sent


async def insights_count(world: World) -> None:
    """Every insights event and learner hook, for one credential (issue 17)."""
    insights, doc = world.graph.insights, world.single
    credential_id, now = f"urn:uuid:{doc['_id']}", datetime.now(UTC)
    issued = CredentialIssuedV1(
        producer="issuer",
        credential_id=credential_id,
        institution_id=world.institution_id,
        issuer_did=doc["issuer_did"],
        achievement_id=doc["achievement_id"],
        achievement_version=1,
        achievement_type="MicroCredential",
        profile=doc["profile"],
        issued_at=now,
        batch_id=None,
    )
    # The consumer's batch path (one insert_many, one update per cell), then the per-event path
    # (a replacement's, or an event older than batch_id: tally and credential by _id).
    await insights.credentials_issued([issued])
    await insights.credential_issued(issued)
    await insights.accepted(world.institution_id, doc["_id"])
    await insights.shared(world.institution_id, doc["_id"], f"urn:uuid:{uuid.uuid4()}")
    await insights.verification(
        VerificationCompletedV1(
            producer="verifier",
            credential_id_hash=tally_key(credential_id),
            outcome=VerificationOutcome.VERIFIED,
            verified_at=now,
        )
    )
    # A verification of one of ours whose issued event is not counted yet: parked, then taken.
    early = f"urn:uuid:{uuid.uuid4()}"
    await insights.verification(
        VerificationCompletedV1(
            producer="verifier",
            credential_id_hash=tally_key(early),
            issuer_did=doc["issuer_did"],
            issuer_proven=True,
            outcome=VerificationOutcome.VERIFIED,
            verified_at=now,
        )
    )
    await insights.credentials_issued([issued.model_copy(update={"credential_id": early})])
    await insights.status_changed(
        CredentialStatusChangedV1(
            producer="issuer",
            credential_id=credential_id,
            institution_id=world.institution_id,
            issuer_did=doc["issuer_did"],
            change=StatusChange.REVOKED,
            reason_code="other",
            effective_at=now,
        )
    )


async def insights_read(world: World) -> None:
    report = await world.graph.insights.report(world.institution_id)
    assert report.achievements, report


async def chunk_relay(world: World) -> None:
    relay = world.graph.relays.chunks.relays[0]
    sent = await relay.relay_by_id(world.db[CHUNKS_OUTBOX], f"{world.batch_id}:00000")
    assert sent, sent


async def outbox_sweep(world: World) -> None:
    """A credential stored by a process that died before relaying it, found by a sweep."""
    graph = world.graph
    tenant = await world.tenant()
    doc, _ = await graph.issuing.issue(
        tenant, _request(world.modules[0], "swept@example.org"), idempotency_key="k-swept"
    )  # ... stored with its marker; nobody relays it
    relay = graph.relays.credentials
    relay._lease_s = 0.0  # the marker is as old as a dead process's lease
    await relay.sweep_pending()
    assert not [m async for m in world.db["outbox_pending"].find({"doc": doc["_id"]})]


HOT_QUERIES: dict[str, HotQuery] = {
    "api key auth": HotQuery("every authenticated request", "api_keys._id", api_key_auth),
    "tenant lookup": HotQuery(
        "every request, issuing", "institutions._id, accreditations._id", tenant_lookup
    ),
    "issue single": HotQuery(
        "POST /v1/credentials",
        "idempotency._id = tenant|key; achievements._id = id@version; credentials._id derived "
        "from (tenant, achievement, version, email); series_components._id = "
        "tenant|achievement#n; status_allocations._id = family/seq; claims by unique _id",
        issue_single,
    ),
    "issue group": HotQuery(
        "POST /v1/credentials (requests in flight together: group commit)",
        "idempotency, credentials: unordered inserts of unique _ids; status_allocations._id, "
        "claims by unique _id; idempotency._id + credential_id (release after a collision); "
        "outbox_pending: one marker for the group (inserted while it signs; its _id derived from "
        "the first event), deleted by _id once all are published (no outbox_published marker "
        "per event)",
        issue_group,
    ),
    "issue replay": HotQuery(
        "POST /v1/credentials (same Idempotency-Key)", "idempotency._id", issue_replay
    ),
    "duplicate recipient": HotQuery(
        "POST /v1/credentials (new key, same recipient)",
        "credentials._id (derived)",
        issue_duplicate_recipient,
    ),
    "prerequisites": HotQuery(
        "POST /v1/credentials (progressive series)",
        "series_components._id, series._id, credentials._id per earlier component version",
        issue_prerequisite_missing,
    ),
    "series module and award": HotQuery(
        "POST /v1/credentials (series module; overall credential on completion)",
        "series_components._id, credentials._id per component version (re-issues followed by "
        "superseded_by)",
        issue_series_module,
    ),
    "lms hook": HotQuery(
        "POST /v1/lms/hooks/{institution}/{lms} (then the same delivery again)",
        "lms_hooks._id = institution; lms_deliveries._id = institution|webhook-id; then as "
        "issue single under the key derived from (LMS, course, learner)",
        lms_hook,
    ),
    "batch submit": HotQuery(
        "POST /v1/batches", "batches._id = hash(tenant|key); batch_chunks._id", batch_submit
    ),
    "batch replay": HotQuery(
        "POST /v1/batches (same Idempotency-Key)", "batches._id (derived)", batch_replay
    ),
    "batch chunks": HotQuery(
        "batch worker: claim, chunks, credentials, progress",
        "batch_queue (open batches only), batches._id, batch_chunks._id, batch_inputs._id, "
        "credentials._id",
        batch_chunks,
        bounded=frozenset({"batch_queue"}),
    ),
    "batch progress": HotQuery("GET /v1/batches/{id}", "batches._id", batch_progress),
    "claim link": HotQuery("GET /v1/claim/{token}", "credentials._id", claim_link),
    "wallet offer and delivery": HotQuery(
        "POST /learn/{token}/wallet-offer, GET the offer, POST token, nonce, credential",
        "wallet_offers._id = sha256(code derived from the offer id); wallet_current_offers._id "
        "= tenant|credential; wallet_code_failures._id = offer key:n; wallet_grants._id = the "
        "offer key (inserted only: the access token carries its grant, MAC-signed); "
        "wallet_nonces_used._id = sha256(nonce); wallet_deliveries._id = offer key; "
        "credentials._id; learner_consents._id; insights_credentials._id (grouped writes)",
        wallet_offer_and_delivery,
    ),
    "wallet exchange": HotQuery(
        "POST /vcapi/{institution}/exchanges/{id} ({} then the DIDAuth presentation)",
        "wallet_offers._id (derived from the exchange id's offer id), wallet_grants._id, "
        "wallet_deliveries._id, credentials._id, learner_consents._id",
        wallet_exchange,
    ),
    "learner shares": HotQuery(
        "the learner's page (share links: make, list, revoke; the PDF's link) and the issuer's "
        "share-receipts consumer (ShareOpenedV1)",
        "share_refs._id = id|share id and cred|institution|credential|n; shares._id = "
        "hash of the token; share_openings._id = share id; share_receipts._id = event id",
        learner_shares,
    ),
    "suspend": HotQuery("POST /v1/credentials/{id}/suspend", "credentials._id", suspend),
    "reinstate": HotQuery("POST /v1/credentials/{id}/reinstate", "credentials._id", reinstate),
    "revoke": HotQuery("POST /v1/credentials/{id}/revoke", "credentials._id", revoke),
    "status list publish": HotQuery(
        "status publisher (after a change)",
        "status_lists (one per 131,072 slots), status_changes._id = list|n from the list's "
        "position on, credentials._id of those changes",
        status_list_publish,
        bounded=frozenset({"status_lists"}),
    ),
    "credentials relay": HotQuery(
        "outbox relay of a new credential",
        "outbox_leases._id, credentials._id, outbox_published._id",
        credentials_relay,
    ),
    "chunk relay": HotQuery(
        "outbox relay of a batch chunk",
        "outbox_leases._id, batch_chunks._id, outbox_published._id",
        chunk_relay,
    ),
    "insights count": HotQuery(
        "insights consumers (issued, status, verification events) and the learner's accept and "
        "share",
        "insights_credentials._id = sha256(credential id), insights_counters._id = "
        "institution|achievement, insights_events._id = event id, credentials._id; "
        "insights_pending (early verifications: almost always empty, an hour at most)",
        insights_count,
        bounded=frozenset({"insights_pending", "institutions"}),
    ),
    "insights read": HotQuery(
        "GET /v1/insights (JSON, CSV, page), GET /v1/institution/reports/summary",
        "insights_counters._id (the institution's index, then one per achievement), "
        "achievements._id (names); series listing (a few per institution)",
        insights_read,
        bounded=frozenset({"series"}),
    ),
    "outbox sweep": HotQuery(
        "credentials and chunk relays: start-up and every minute",
        "outbox_pending (the markers of unpublished writes only, read whole), then the marked "
        "documents by _id as a relay of them; markers deleted by _id",
        outbox_sweep,
        bounded=frozenset({"outbox_pending"}),
    ),
}
