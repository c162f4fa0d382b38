"""Issuing one credential: idempotent, never twice for the same recipient and version."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3 import Evidence, IssuerProfile
from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.achievements.service import AchievementService, PinnedAchievement
from sceau_issuer.errors import (
    AlreadyIssued,
    CredentialNotFound,
    IdempotencyMismatch,
    InstitutionNotActive,
    PrerequisiteMissing,
)
from sceau_issuer.issuing.dates import add_months
from sceau_issuer.issuing.dedupe import dedupe_key
from sceau_issuer.issuing.idempotency_repository import IdempotencyRepository
from sceau_issuer.issuing.policy import IssuingPolicy, check_fits
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.issuing.schemas import EvidenceInput, IssueRequest, RecipientInput, ResultInput
from sceau_issuer.issuing.selective import base_proof_copy
from sceau_issuer.issuing.sign_jobs import (
    BuildSpec,
    Signed,
    SignJob,
    issuer_profile,
    status_purposes,
)
from sceau_issuer.series.prerequisites import ProgressionRules
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.status.reserve import SlotReserve
from sceau_issuer.status.status_lists import StatusSlot, family, list_format
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.events import (
    BilingualText,
    CredentialIssuedV1,
    Event,
    NotificationKind,
    NotificationRequestedV1,
    StatusEntryRef,
    StatusPurpose,
    utcnow,
)

SignMany = Callable[[list[SignJob]], Awaitable[list[Signed]]]
T = TypeVar("T")


async def _outcome(step: Awaitable[T]) -> T | Exception:
    """Await ``step``; a refusal it raises is returned, to be judged in the rules' order."""
    try:
        return await step
    except Exception as exc:  # noqa: BLE001 - re-raised by the caller when its turn comes
        return exc


def fingerprint(data: Any) -> str:
    """A stable hash of a request body (same key + different body is refused)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def request_fingerprint(
    request: IssueRequest, supersedes: str | None = None, series_id: str | None = None
) -> str:
    """What an idempotency reservation of a single issue records (one-by-one and grouped)."""
    return fingerprint(
        {**request.model_dump(mode="json"), "supersedes": supersedes, "series": series_id}
    )


@dataclass
class Draft:
    """A credential prepared for signing, and what is stored once it is signed."""

    doc: dict[str, Any]
    job: SignJob
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class IssuerConfig:
    """Settings the issuing logic needs (passed in, never read globally)."""

    producer: str
    public_base_url: str
    verifier_public_url: str
    claim_link_ttl_s: int
    learner_link_ttl_s: int = 7 * 24 * 3600


class StoredNotice(Protocol):
    """Tells the outbox relays that a document received events (``relay.IssuerRelays.stored``).

    ``entries``: every entry the document holds, just written by the caller (none can have been
    published yet): they are published from memory, without reading the document back or
    looking them up among the published markers. Without them, the notice is a reminder about a
    document an earlier run may have relayed (a retried request, a resumed batch).
    """

    def __call__(
        self,
        kind: str,
        document_id: str | None = None,
        *,
        entries: list[dict[str, Any]] | None = None,
    ) -> None:
        """Relay ``kind``'s document ``document_id`` soon."""


def _nobody(*_: Any, **__: Any) -> None:
    """No relay to tell (tests and tools that only store)."""


REPLAY_REMINDER = timedelta(minutes=10)
"""A replay of a credential stored this recently reminds the relay of its events."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class IssuingService:
    """Prepares, signs and stores credentials with their events (embedded outbox)."""

    def __init__(
        self,
        *,
        config: IssuerConfig,
        tenants: TenantService,
        achievements: AchievementService,
        credentials: CredentialRepository,
        allocator: SlotReserve,
        lists: StatusListRepository,
        vault: Vault,
        sign_many: SignMany,
        reservations: IdempotencyRepository,
        on_stored: StoredNotice = _nobody,
        on_new_list: Callable[[], None] = lambda: None,
        progression: ProgressionRules | None = None,
    ) -> None:
        self.policy = IssuingPolicy(tenants, achievements, progression)
        self.reservations = reservations
        self._on_new_list = on_new_list
        self._profiles: dict[tuple[str, str], IssuerProfile] = {}
        self.config = config
        self.tenants = tenants
        self.achievements = achievements
        self.credentials = credentials
        self._allocator = allocator
        self._lists = lists
        self._vault = vault
        self.sign_many = sign_many
        self.notify_stored = on_stored

    # --- helpers ---------------------------------------------------------------------------

    def claim_url(self, institution_id: str, credential_id: str) -> str:
        """A signed, expiring link from which the learner downloads the credential."""
        token = self._vault.claim_token(
            credential_id=credential_id,
            institution_id=institution_id,
            ttl_s=self.config.claim_link_ttl_s,
        )
        return f"{self.config.public_base_url.rstrip('/')}/v1/claim/{token}"

    def learner_page_url(self, institution_id: str, credential_id: str) -> str:
        """A signed, expiring link to the learner's page of the credential (``/learn``)."""
        token = self._vault.learner_token(
            credential_id=credential_id,
            institution_id=institution_id,
            ttl_s=self.config.learner_link_ttl_s,
        )
        return f"{self.config.public_base_url.rstrip('/')}/learn/{token}"

    async def allocate(self, tenant: Tenant, profile: str) -> StatusSlot:
        """Allocate a status slot in the tenant's current list for this DID and format."""
        fmt = list_format(profile)
        allocation = await self._allocator.allocate(family(tenant.institution_id, tenant.did, fmt))
        if await self._lists.ensure(
            allocation, institution_id=tenant.institution_id, did=tenant.did, fmt=fmt
        ):
            self._on_new_list()
        return self._lists.slot(allocation)

    async def allocate_many(self, tenant: Tenant, profile: str, count: int) -> list[StatusSlot]:
        """Allocate ``count`` slots with one write per list (batches)."""
        fmt = list_format(profile)
        allocations = await self._allocator.allocate_many(
            family(tenant.institution_id, tenant.did, fmt), count
        )
        for allocation in allocations:
            if await self._lists.ensure(
                allocation, institution_id=tenant.institution_id, did=tenant.did, fmt=fmt
            ):
                self._on_new_list()
        return [self._lists.slot(a) for a in allocations]

    def credential_id(self, dedupe: str) -> str:
        """The ``_id`` a credential with this dedupe key has (or will have)."""
        return self._vault.credential_id(dedupe)

    @staticmethod
    def check_active(tenant: Tenant) -> None:
        """Refuse issuing for an institution the registry suspended or retired."""
        if tenant.status not in ("active", "pending"):
            raise InstitutionNotActive(
                f"institution {tenant.institution_id!r} is {tenant.status}; it may not issue"
            )

    def draft(
        self,
        *,
        tenant: Tenant,
        pinned: PinnedAchievement,
        recipient: RecipientInput,
        profile: str,
        slot: StatusSlot,
        idem: str,
        batch_id: str | None = None,
        supersedes: str | None = None,
        series_id: str | None = None,
        results: Sequence[ResultInput] = (),
        evidence: Sequence[EvidenceInput] = (),
        credits_earned: float | None = None,
        extra_evidence: Sequence[Evidence] = (),
        issued_at: datetime | None = None,
    ) -> Draft:
        """Prepare one credential: ids, dates, unsigned document, stored record and events."""
        now = issued_at or utcnow()
        dedupe = dedupe_key(
            tenant.institution_id, pinned.achievement_id, pinned.version, recipient, supersedes
        )
        credential_uuid = self._vault.credential_id(dedupe)
        months = pinned.definition.validity_months
        valid_until = add_months(now, months) if months else None
        spec = BuildSpec(
            issuer=self._issuer_profile(tenant),
            achievement=pinned.engine,
            recipient=recipient,
            profile=profile,
            credential_id=f"urn:uuid:{credential_uuid}",
            issued_at=now,
            valid_until=valid_until,
            slot=slot,
            results=results,
            evidence=evidence,
            credits_earned=credits_earned,
            extra_evidence=extra_evidence,
            workload=pinned.workload,
            suspension=tenant.settings.suspension,
        )
        key = tenant.signing_record(profile)
        seed = self.tenants.secret(tenant, key)
        doc: dict[str, Any] = {
            "_id": credential_uuid,
            "institution_id": tenant.institution_id,
            "achievement_id": pinned.achievement_id,
            "achievement_version": pinned.version,
            "achievement_type": pinned.achievement_type,
            "profile": profile,
            "issuer_did": key.did,
            "key_id": key.key_id,
            "recipient": {
                **recipient.model_dump(mode="json"),
                "email_norm": normalize_email(str(recipient.email)),
            },
            "dedupe": dedupe,
            "idem": idem,
            "status": "active",
            "reason_code": None,
            "status_alloc": slot.alloc_list_id,
            "status_index": slot.index,
            "status_lists": {
                p: slot.list_ids[p] for p in status_purposes(profile, suspension=spec.suspension)
            },
            "issued_at": now,
            "valid_until": valid_until,
            "batch_id": batch_id,
            "supersedes": supersedes,
            "superseded_by": None,
            "series_id": series_id,
        }
        return Draft(doc, SignJob(spec, seed, key.did, key.version, key.key_type.value))

    async def add_base_proofs(self, signed: Sequence[tuple[Tenant, dict[str, Any]]]) -> None:
        """Give each signed record whose institution chose it an ``sd_document`` base copy.

        ``signed`` pairs a tenant with a stored record (``profile`` and ``document`` set). The
        base proofs are made in a thread, all at once (issuing/selective.py says why).
        """
        work: list[tuple[dict[str, Any], P256SigningKey]] = []
        for tenant, record in signed:
            if not tenant.makes_base_proofs(str(record.get("profile"))):
                continue
            key = self.tenants.p256_key(tenant)
            if key is not None and isinstance(record.get("document"), dict):
                work.append((record, key))
        if not work:
            return
        copies = await asyncio.to_thread(
            lambda: [base_proof_copy(record["document"], key) for record, key in work]
        )
        for (record, _), copy in zip(work, copies, strict=True):
            record["sd_document"] = copy

    def _issuer_profile(self, tenant: Tenant) -> IssuerProfile:
        cache_key = (tenant.institution_id, tenant.did)
        profile = self._profiles.get(cache_key)
        if profile is None:
            profile = issuer_profile(tenant)
            self._profiles[cache_key] = profile
        return profile

    def events(self, tenant: Tenant, pinned: PinnedAchievement, doc: dict[str, Any]) -> list[Event]:
        """The issued event (no personal data) and the learner's notification request."""
        producer = self.config.producer
        entries = [
            StatusEntryRef(
                purpose=StatusPurpose(purpose),
                list_id=list_id,
                list_url=self._lists.url(list_id),
                index=int(doc["status_index"]),
            )
            for purpose, list_id in doc["status_lists"].items()
        ]
        name = pinned.engine.name
        description = pinned.engine.description
        recipient = doc["recipient"]
        return [
            CredentialIssuedV1(
                producer=producer,
                credential_id=f"urn:uuid:{doc['_id']}",
                institution_id=tenant.institution_id,
                issuer_did=doc["issuer_did"],
                achievement_id=pinned.achievement_id,
                achievement_version=pinned.version,
                achievement_type=pinned.achievement_type,
                profile=doc["profile"],
                issued_at=doc["issued_at"],
                valid_until=doc["valid_until"],
                status_entries=entries,
                supersedes=f"urn:uuid:{doc['supersedes']}" if doc["supersedes"] else None,
                series_id=doc["series_id"],
                # Set even when null (a single issue): the insights tell it from an old event.
                batch_id=str(doc["batch_id"]) if doc.get("batch_id") else None,
            ),
            NotificationRequestedV1(
                producer=producer,
                kind=NotificationKind.ISSUED,
                credential_id=f"urn:uuid:{doc['_id']}",
                institution_id=tenant.institution_id,
                recipient_email=recipient["email"],
                recipient_name=recipient.get("name"),
                language=recipient.get("language", "fr"),
                institution_name=tenant.name,
                institution_contact=tenant.contact_email,
                achievement_name=BilingualText.of(name),
                achievement_description=BilingualText.of(description),
                issued_at=doc["issued_at"],
                valid_until=doc["valid_until"],
                claim_url=self.claim_url(tenant.institution_id, doc["_id"]),
                learner_page_url=self.learner_page_url(tenant.institution_id, doc["_id"]),
                survey_url=pinned.definition.survey_url,
                survey_after_days=pinned.definition.survey_after_days,
                verification_url=f"{self.config.verifier_public_url}/",
            ),
        ]

    # --- one credential ----------------------------------------------------------------------

    async def issue(
        self,
        tenant: Tenant,
        request: IssueRequest,
        *,
        idempotency_key: str,
        supersedes: str | None = None,
        series_id: str | None = None,
        extra_evidence: Sequence[Evidence] = (),
    ) -> tuple[dict[str, Any], bool]:
        """Issue one credential; return ``(stored document, replayed)``.

        The key is reserved first (recording which credential it is for), then the credential is
        stored under its derived id. A retry — after a timeout, a crash, or concurrently — finds
        the reservation and answers with that credential instead of issuing again; a new key for
        a recipient who already holds this version is a 409 naming the existing credential.
        """
        idem = f"{tenant.institution_id}|{idempotency_key}"
        body_hash = request_fingerprint(request, supersedes, series_id)
        # Independent reads go out together (each is a primary-key lookup; on FerretDB the
        # round trips, not the lookups, make up most of a single issue's time). Their answers
        # are then judged in the order the rules are written in.
        reservation, pinned_or_error = await asyncio.gather(
            self.reservations.find(idem),
            _outcome(
                self.achievements.pinned(
                    tenant, request.achievement_id, request.achievement_version
                )
            ),
        )
        if reservation is not None and reservation.request_hash != body_hash:
            raise IdempotencyMismatch(
                "this Idempotency-Key was used with a different request",
                errors=[{"in": "header", "field": "Idempotency-Key", "message": "reused"}],
            )
        self.check_active(tenant)
        if reservation is not None and (
            isinstance(pinned_or_error, BaseException)
            or pinned_or_error.version != reservation.achievement_version
        ):
            # A replay is answered with the version its first call pinned.
            pinned = await self.achievements.pinned(
                tenant, request.achievement_id, reservation.achievement_version
            )
        elif isinstance(pinned_or_error, BaseException):
            raise pinned_or_error
        else:
            pinned = pinned_or_error
        check_fits(pinned, request.results, request.credits_earned)
        dedupe = dedupe_key(
            tenant.institution_id,
            pinned.achievement_id,
            pinned.version,
            request.recipient,
            supersedes,
        )
        credential_id = self._vault.credential_id(dedupe)
        email = normalize_email(str(request.recipient.email))
        held, accredited, lacking = await asyncio.gather(
            self.credentials.by_id(credential_id),
            _outcome(self.policy.check_accredited(tenant, pinned)),
            _outcome(self.policy.prerequisite_problems(tenant, pinned, [email])),
        )
        # A replay answers as the first request did, and a recipient who already holds this
        # version gets 409, before the issuing rules (which may have changed since) are applied.
        if held is not None:
            return self._replay_or_conflict(held, idem)
        # Refusals happen before the key is reserved: a refused request changes nothing.
        if isinstance(accredited, BaseException):
            raise accredited
        if isinstance(lacking, BaseException):
            raise lacking
        if problem := lacking.get(email):
            raise PrerequisiteMissing(
                problem["message"],
                extra={k: v for k, v in problem.items() if k != "message"},
            )
        profile = (request.profile or pinned.definition.profile).value
        if reservation is None:
            # The status slot is allocated while the key is reserved: a call that loses the
            # key to a concurrent twin leaves one slot unused (never set, never published).
            reserved, slot = await asyncio.gather(
                self.reservations.reserve(
                    idem,
                    request_hash=body_hash,
                    credential_id=credential_id,
                    achievement_version=pinned.version,
                    at=utcnow(),
                ),
                self.allocate(tenant, profile),
            )
            if not reserved:
                # A concurrent twin reserved the key first: answer as it will.
                return await self.issue(
                    tenant,
                    request,
                    idempotency_key=idempotency_key,
                    supersedes=supersedes,
                    series_id=series_id,
                    extra_evidence=extra_evidence,
                )
        else:
            slot = await self.allocate(tenant, profile)
        draft = self.draft(
            tenant=tenant,
            pinned=pinned,
            recipient=request.recipient,
            profile=profile,
            slot=slot,
            idem=idem,
            supersedes=supersedes,
            series_id=series_id,
            results=request.results,
            evidence=request.evidence,
            credits_earned=request.credits_earned,
            extra_evidence=extra_evidence,
        )
        [signed] = await self.sign_many([draft.job])
        draft.doc["document"] = signed
        await self.add_base_proofs([(tenant, draft.doc)])
        entries = await self.credentials.insert(draft.doc, self.events(tenant, pinned, draft.doc))
        if entries is None:
            held = await self.credentials.by_id(credential_id)
            if held is None:
                raise RuntimeError(f"credential {credential_id} collided with another one's key")
            return self._replay_or_conflict(held, idem)
        self.notify_stored("credential", draft.doc["_id"], entries=entries)
        return draft.doc, False

    def _replay_or_conflict(self, held: dict[str, Any], idem: str) -> tuple[dict[str, Any], bool]:
        if held.get("idem") == idem:
            issued_at = held.get("issued_at")
            if isinstance(issued_at, datetime) and utcnow() - _aware(issued_at) < REPLAY_REMINDER:
                # The first call may have met a database outage after its insert was sent: the
                # server applied it on resuming, but the relay was never told (or looked too
                # early) and the events would wait for the next start-up sweep. The retry
                # reminds it (one read; published entries are skipped: recent ones are in the
                # relay's memory). Issue 18, seen in tests/faults/test_faults_issuing.py.
                self.notify_stored("credential", held["_id"])
            return held, True
        raise AlreadyIssued(
            "this recipient already holds this achievement version",
            extra={"credential_id": held["_id"]},
        )

    async def get(self, institution_id: str, credential_id: str) -> dict[str, Any]:
        """Return a credential of this institution or 404."""
        doc = await self.credentials.get(institution_id, credential_id.removeprefix("urn:uuid:"))
        if doc is None:
            raise CredentialNotFound(f"credential {credential_id!r} not found")
        return doc
