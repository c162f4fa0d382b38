"""Cohort batches: accepted at once, issued by a worker, resumable after a crash.

State lives in MongoDB only: a ``batches`` document (progress, lease) and ``batch_chunks``
documents of up to ``chunk_size`` recipients each. The worker leases a batch, issues its chunks in
order and renews the lease with each one; a worker that dies lets the lease expire and the next one
carries on.

Exactly one credential per recipient holds because a credential's ``_id`` is derived from
(tenant, recipient, achievement version): a chunk replayed after a crash collides with the
credentials it already stored and records them instead of issuing again.

A chunk's events (issued + notification requested, two per credential) are written in the chunk's
own completion update — the single-document state change "these recipients are issued" — so one
outbox claim relays a whole chunk. A credential stored by a crashed run gets its events then, from
the resumed run; none is published before its chunk completes, so none is published twice.

A batch of 10,000 recipients signs for minutes, through whatever happens to the institution
meanwhile (issue 18, item 6). So each chunk reads the institution and its accreditation again
just before it is stored (two primary-key reads, reused for ``STANDING_TTL_S`` by the signing of
the next chunk): it is signed with the key active then, and a chunk signed just before its key
was revoked is signed again before it is stored. An institution
suspended or no longer accredited for the achievement **pauses** the batch: state ``paused``
with ``paused_reason`` (the refusal's problem type: ``institution-not-active`` or
``not-accredited``), the remaining recipients left pending. A paused batch is looked at again
every lease period and carries on once the institution may issue again.

A chunk whose recipients complete a series has the series' award step still to do when it is
recorded (``awards_due``, set in the same update): the flag is cleared once the award step
succeeded, and a resumed run does it again for every recorded chunk still flagged, so an overall
credential is never lost to a failure between the component and its award (the award is
idempotent: one overall credential per learner and series).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.achievements.service import PinnedAchievement
from sceau_issuer.errors import (
    BatchNotFound,
    IdempotencyMismatch,
    InstitutionNotActive,
    NotAccredited,
)
from sceau_issuer.issuing.batch_repository import BatchRepository, batch_id_for, chunk_id
from sceau_issuer.issuing.policy import fit_problems
from sceau_issuer.issuing.schemas import (
    PER_RECIPIENT,
    BatchRecipient,
    BatchRequest,
    EvidenceInput,
    RecipientInput,
    ResultInput,
)
from sceau_issuer.issuing.service import Draft, IssuingService, fingerprint
from sceau_issuer.tenants.accreditation import Accreditation, check_accredited
from sceau_issuer.tenants.models import KeyState, Tenant
from sceau_shared.cache import TtlCache
from sceau_shared.errors import InvalidInput
from sceau_shared.events import Event, utcnow

_log = logging.getLogger(__name__)

ITEM_STATES = ("pending", "issued", "duplicate", "failed")
AfterChunk = Callable[[str, str, list[dict[str, Any]]], Awaitable[None]]

STANDING_TTL_S = 1.0
"""How long a worker reuses an institution's tenant and accreditation between chunks."""

Prepared = tuple[Tenant, dict[str, Any], list[dict[str, Any]]]
"""A signed chunk: the tenant it was signed for, the chunk (items updated) and its credentials."""


class BatchHalted(Exception):
    """The institution may not issue now: the batch is paused (``reason`` is the problem type)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _slim(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items as stored in a chunk: no recipient (kept apart in ``batch_inputs``)."""
    return [{k: v for k, v in item.items() if k != "recipient"} for item in items]


def recipient_problems(
    pinned: PinnedAchievement, recipients: list[BatchRecipient]
) -> list[dict[str, object]]:
    """What in each recipient's results and credits the achievement cannot carry.

    The single issue's check (:func:`sceau_issuer.issuing.policy.fit_problems`), each problem
    naming the recipient by index (``recipients.3.credits_earned``), so a cohort file can be
    corrected.
    """
    problems: list[dict[str, object]] = []
    for i, recipient in enumerate(recipients):
        problems += fit_problems(
            pinned,
            recipient.results,
            recipient.credits_earned,
            at=f"recipients.{i}.",
            who=f"recipient {i}: ",
        )
    return problems


def _own_fields(
    recipient: dict[str, Any],
) -> tuple[RecipientInput, list[ResultInput], list[EvidenceInput], float | None]:
    """A stored batch recipient split into the learner and their own results (validated once)."""
    learner = {k: v for k, v in recipient.items() if k not in PER_RECIPIENT}
    credits = recipient.get("credits_earned")
    return (
        RecipientInput.model_construct(**learner),
        [ResultInput.model_construct(**r) for r in recipient.get("results") or ()],
        [EvidenceInput.model_construct(**e) for e in recipient.get("evidence") or ()],
        float(credits) if credits is not None else None,
    )


class BatchService:
    """Accepts batches and reports on them."""

    def __init__(
        self,
        repository: BatchRepository,
        issuing: IssuingService,
        *,
        max_recipients: int,
        chunk_size: int,
    ) -> None:
        self.repository = repository
        self._issuing = issuing
        self._max = max_recipients
        self._chunk = chunk_size

    async def create(
        self, institution_id: str, request: BatchRequest, *, idempotency_key: str
    ) -> tuple[dict[str, Any], bool]:
        """Accept a batch (or return the one this key already created)."""
        tenant = await self._issuing.tenants.get(institution_id)
        idem = f"{institution_id}|{idempotency_key}"
        body_hash = fingerprint(request.stored())
        existing = await self.repository.by_idem(idem)
        if existing is not None:
            return await self._replay(existing, body_hash, request)
        if len(request.recipients) > self._max:
            raise InvalidInput(f"a batch holds at most {self._max} recipients")
        self._issuing.check_active(tenant)
        pinned = await self._issuing.achievements.pinned(
            tenant, request.achievement_id, request.achievement_version
        )
        await self._issuing.policy.check_accredited(tenant, pinned)  # 403 before anything is stored
        if problems := recipient_problems(pinned, request.recipients):
            raise InvalidInput(
                f"{len(problems)} recipient field(s) do not fit the achievement", errors=problems
            )
        profile = (request.profile or pinned.definition.profile).value
        doc: dict[str, Any] = {
            "_id": batch_id_for(idem),
            "institution_id": institution_id,
            "idem": idem,
            "request_hash": body_hash,
            "achievement_id": pinned.achievement_id,
            "achievement_version": pinned.version,
            "profile": profile,
            "state": "accepting",
            "total": len(request.recipients),
            "chunks": -(-len(request.recipients) // self._chunk),
            "chunk_size": self._chunk,
            "counts": dict.fromkeys(ITEM_STATES[1:], 0),
            "created_at": utcnow(),
            "started_at": None,
            "completed_at": None,
            "lease_until": None,
            "lease_token": None,
        }
        if not await self.repository.insert(doc):
            # A concurrent call with this key stored its batch first (or one stored before
            # batch ids were derived from keys): answer as it does.
            existing = await self.repository.by_idem(idem, legacy=True)
            if existing is None:
                raise RuntimeError(f"batch for key {idempotency_key!r} refused but not found")
            return await self._replay(existing, body_hash, request)
        await self._store_chunks(doc, request)
        doc["state"] = "pending"
        return doc, False

    async def _replay(
        self, existing: dict[str, Any], body_hash: str, request: BatchRequest
    ) -> tuple[dict[str, Any], bool]:
        """Answer a repeated key with the batch it created (finishing its acceptance)."""
        if existing["request_hash"] != body_hash:
            raise IdempotencyMismatch("this Idempotency-Key was used with a different request")
        if existing["state"] == "accepting":
            await self._store_chunks(existing, request)
            existing["state"] = "pending"
        return existing, True

    async def _store_chunks(self, batch: dict[str, Any], request: BatchRequest) -> None:
        """Store the recipients as pending chunks, then open the batch to the worker.

        Chunk ids are deterministic, so storing them again after a crash is harmless.
        """
        recipients = request.recipients
        stored = request.stored()["recipients"]
        size = int(batch["chunk_size"])
        seen: set[str] = set()
        docs = []
        repeated = 0
        for number in range(int(batch["chunks"])):
            items = []
            for seq in range(number * size, min((number + 1) * size, len(recipients))):
                recipient = recipients[seq]
                email = normalize_email(str(recipient.email))
                duplicate = email in seen
                repeated += duplicate
                seen.add(email)
                items.append(
                    {
                        "seq": seq,
                        "recipient": stored[seq],
                        "state": "duplicate" if duplicate else "pending",
                        "credential_id": None,
                        "error": "repeated in this batch" if duplicate else None,
                    }
                )
            docs.append(
                {
                    "_id": chunk_id(batch["_id"], number),
                    "batch_id": batch["_id"],
                    "number": number,
                    "state": "pending",
                    "items": items,
                }
            )
        inputs = [
            {"_id": d["_id"], "recipients": [i["recipient"] for i in d["items"]]} for d in docs
        ]
        for d in docs:
            d["items"] = _slim(d["items"])
        if not await self.repository.store_chunks(docs, inputs):
            raise RuntimeError("could not store every batch chunk")
        await self.repository.open(batch["_id"], repeated=repeated)

    async def get(self, institution_id: str, batch_id: str) -> dict[str, Any]:
        """Return a batch's progress (404 for another institution's batch)."""
        doc = await self.repository.get(institution_id, batch_id)
        if doc is None:
            raise BatchNotFound(f"batch {batch_id!r} not found")
        return doc

    async def results(
        self, institution_id: str, batch_id: str, *, state: str | None, skip: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Return per-recipient results of a batch."""
        batch = await self.get(institution_id, batch_id)
        items = await self.repository.items(batch)
        if state:
            items = [i for i in items if i["state"] == state]
        return items[skip : skip + limit], len(items)


class BatchWorker:
    """Claims pending batches and issues them; run one per process in the lifespan."""

    def __init__(
        self,
        repository: BatchRepository,
        issuing: IssuingService,
        *,
        lease_s: float,
        poll_s: float,
        after_chunk: AfterChunk | None = None,
    ) -> None:
        self._repo = repository
        self._issuing = issuing
        self._lease = timedelta(seconds=lease_s)
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._after_chunk = after_chunk
        self._standing: TtlCache[str, tuple[Tenant, Accreditation | None]] = TtlCache(
            ttl_s=STANDING_TTL_S, max_entries=1024
        )
        self.chunks_done = 0
        self.resigned_chunks = 0

    def wake(self) -> None:
        """Look for work now (called when a batch is accepted)."""
        self._wake.set()

    async def run(self) -> None:
        """Process batches until cancelled."""
        while True:
            try:
                worked = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep the worker alive; the lease expires
                _log.exception("batch worker failed; retrying")
                await asyncio.sleep(self._poll_s)
                continue
            if not worked:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)

    async def run_once(self) -> bool:
        """Claim and finish one batch; False when there was none."""
        token = uuid.uuid4().hex
        now = utcnow()
        batch = await self._repo.claim(token, now, now + self._lease)
        if batch is None:
            return False
        await self._process(batch, token)
        return True

    async def _renew(self, batch_id: str, token: str, counts: dict[str, int]) -> bool:
        return await self._repo.renew(batch_id, token, utcnow() + self._lease, counts)

    async def _tenant(
        self, batch: dict[str, Any], pinned: PinnedAchievement, *, fresh: bool = False
    ) -> Tenant:
        """The institution as it stands now (kept a second), if it may still issue the batch.

        ``fresh`` reads it again whatever is kept (just before a chunk is stored: two primary-key
        reads per chunk, which the signing of the next chunk then reuses).

        Raises:
            BatchHalted: suspended, retired, or no longer accredited for the achievement.
        """
        institution_id = str(batch["institution_id"])
        standing = None if fresh else self._standing.get(institution_id)
        if standing is None:
            tenant = await self._issuing.tenants.get(institution_id)
            standing = (tenant, await self._issuing.tenants.accreditation(institution_id))
            self._standing.put(institution_id, standing)
        tenant, accreditation = standing
        try:
            self._issuing.check_active(tenant)
            check_accredited(
                accreditation,
                institution_id=institution_id,
                achievement_type=pinned.achievement_type,
                level=pinned.definition.level,
                now=utcnow(),
            )
        except (InstitutionNotActive, NotAccredited) as refused:
            raise BatchHalted(refused.type_suffix, str(refused)) from refused
        return tenant

    async def _process(self, batch: dict[str, Any], token: str) -> None:
        issuing = self._issuing
        started = time.monotonic()
        tenant = await issuing.tenants.get(batch["institution_id"])
        pinned = await issuing.achievements.pinned(
            tenant, batch["achievement_id"], int(batch["achievement_version"])
        )
        # Sign chunk n+1 while chunk n is stored and its progress recorded.
        pending: asyncio.Task[Prepared] | None = None
        try:
            for number in range(int(batch["chunks"])):
                chunk = await self._repo.chunk(batch["_id"], number)
                if chunk is None:
                    continue
                if chunk["state"] != "pending":
                    # Resuming: the run that died may have recorded this chunk and died before
                    # waking its relay. The relay skips events it already published, so a
                    # reminder costs one read and keeps the events from waiting for the sweep.
                    issuing.notify_stored("chunk", chunk["_id"])
                    if chunk.get("awards_due"):
                        await self._award(batch, chunk)
                    continue
                task = asyncio.create_task(self._prepare(batch, pinned, chunk))
                previous, pending = pending, task
                if previous is not None and not await self._finish(batch, token, pinned, previous):
                    return
            if pending is not None:
                previous, pending = pending, None
                if not await self._finish(batch, token, pinned, previous):
                    return
        except BatchHalted as halted:
            _log.warning("batch %s paused: %s", batch["_id"], halted.detail)
            await self._repo.pause(
                batch["_id"],
                token,
                reason=halted.reason,
                detail=halted.detail[:500],
                at=utcnow(),
                recheck_at=utcnow() + self._lease,
            )
            return
        finally:
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
        counts = dict.fromkeys(ITEM_STATES[1:], 0)
        for item in await self._repo.items(batch):
            if item["state"] in counts:
                counts[item["state"]] += 1
        await self._repo.complete(
            batch["_id"],
            token,
            at=utcnow(),
            counts=counts,
            report={
                "total": batch["total"],
                **counts,
                "processing_s": round(time.monotonic() - started, 3),
            },
        )

    async def _prepare(
        self,
        batch: dict[str, Any],
        pinned: PinnedAchievement,
        chunk: dict[str, Any],
    ) -> Prepared:
        """Allocate status slots, build and sign the chunk's pending credentials.

        The institution is read again first (:meth:`_tenant`): the chunk is signed with the key
        active now, and not at all when the institution may no longer issue.
        """
        issuing = self._issuing
        tenant = await self._tenant(batch, pinned)
        batch_id = str(batch["_id"])
        items = [dict(i) for i in chunk["items"]]
        todo = [n for n, item in enumerate(items) if item["state"] == "pending"]
        # Progressive series: a learner without the earlier components fails alone.
        lacking = await issuing.policy.prerequisite_problems(
            tenant, pinned, [normalize_email(str(items[n]["recipient"]["email"])) for n in todo]
        )
        if lacking:
            for n in todo:
                problem = lacking.get(normalize_email(str(items[n]["recipient"]["email"])))
                if problem is not None:
                    items[n].update(state="failed", error=problem["message"][:500])
            todo = [n for n in todo if items[n]["state"] == "pending"]
        slots = await issuing.allocate_many(tenant, batch["profile"], len(todo))
        drafts: list[tuple[int, Draft]] = []
        for n, slot in zip(todo, slots, strict=True):
            # Validated when the batch was accepted; not parsed again per chunk.
            recipient, results, evidence, credits = _own_fields(items[n]["recipient"])
            try:
                draft = issuing.draft(
                    tenant=tenant,
                    pinned=pinned,
                    recipient=recipient,
                    profile=batch["profile"],
                    slot=slot,
                    idem=f"batch|{batch_id}|{items[n]['seq']}",
                    batch_id=batch_id,
                    results=results,
                    evidence=evidence,
                    credits_earned=credits,
                )
            except ValueError as exc:
                items[n].update(state="failed", error=str(exc)[:500])
                continue
            drafts.append((n, draft))
        signed = await issuing.sign_many([d.job for _, d in drafts])
        docs = []
        for (n, draft), document in zip(drafts, signed, strict=True):
            draft.doc["document"] = document
            draft.doc["_item"] = n
            docs.append(draft.doc)
        await issuing.add_base_proofs([(tenant, doc) for doc in docs])
        return tenant, {**chunk, "items": items}, docs

    async def _finish(
        self,
        batch: dict[str, Any],
        token: str,
        pinned: PinnedAchievement,
        prepared: asyncio.Task[Prepared],
    ) -> bool:
        """Store a prepared chunk, record it with its events, renew the lease.

        Just before storing, the institution is read again: a suspension pauses the batch with
        the chunk unstored, and a chunk whose signing key was revoked while it was signed is
        signed again with the new key (its first status slots are simply left unused).
        """
        issuing = self._issuing
        signed_for, chunk, docs = await prepared
        now = await self._tenant(batch, pinned, fresh=True)
        signer = signed_for.signing_record(str(batch["profile"])).key_id
        if now.key(signer).state == KeyState.REVOKED:
            _log.warning("batch %s: signing key revoked while a chunk was signed", batch["_id"])
            signed_for, chunk, docs = await self._prepare(batch, pinned, chunk)
            self.resigned_chunks += 1
        tenant = signed_for
        items = chunk["items"]
        positions = [doc.pop("_item") for doc in docs]
        duplicates = await issuing.credentials.insert_many(docs)
        events: list[Event] = []
        for position, (n, doc) in enumerate(zip(positions, docs, strict=True)):
            stored = doc
            if position in duplicates:
                held = await issuing.credentials.by_id(str(doc["_id"]))
                if held is None or held.get("idem") != doc["idem"]:
                    items[n].update(state="duplicate", credential_id=doc["_id"])
                    continue
                stored = held  # ours, from a run that crashed before recording it
            items[n].update(state="issued", credential_id=stored["_id"])
            events.extend(issuing.events(tenant, pinned, stored))
        issued = [i["recipient"] for i in items if i["state"] == "issued"]
        awards_due = bool(issued) and self._after_chunk is not None
        written = await self._repo.record_chunk(
            chunk["_id"], _slim(items), events, awards_due=awards_due
        )
        self.chunks_done += 1
        counts: dict[str, int] = {}
        if written is None:
            issuing.notify_stored("chunk", chunk["_id"])  # a reminder: an earlier run's entries
        else:
            for item in items:
                counts[item["state"]] = counts.get(item["state"], 0) + 1
            counts.pop("pending", None)
            # Recorded now: its outbox holds only these entries, published from memory (the
            # chunk, ~1 KB per event, is not read back).
            issuing.notify_stored("chunk", chunk["_id"], entries=written)
        if not await self._renew(batch["_id"], token, counts):
            _log.warning("lost the lease on batch %s; another worker continues", batch["_id"])
            return False
        if awards_due:
            await self._award(batch, {**chunk, "items": items})
        return True

    async def _award(self, batch: dict[str, Any], chunk: dict[str, Any]) -> None:
        """Run the series' award step for a recorded chunk, then clear its ``awards_due`` flag.

        A failure leaves the flag set and fails this run: the batch is not completed, its lease
        runs out, and the next run does the step again (idempotent) before going on.
        """
        if self._after_chunk is None:
            return
        issued = [i["recipient"] for i in chunk["items"] if i["state"] == "issued"]
        if issued:
            await self._after_chunk(batch["institution_id"], batch["achievement_id"], issued)
        await self._repo.awards_done(chunk["_id"])
