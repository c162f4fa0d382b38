"""Sign jobs: build an unsigned credential from plain data, check it, then sign it.

Signing dominates the cost of issuing (RDFC canonicalization), so batches sign in a process pool;
the job handed to a worker process is plain data (the seed travels only between our own processes,
never to disk or logs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3 import (
    Evidence,
    IssuerProfile,
    Recipient,
    Result,
    build_credential,
    validate_for_signing,
)
from sceau_credentials.ob3.authoring import AchievementVersion
from sceau_credentials.ob3.builder import AchievementMemo
from sceau_credentials.status.entries import status_entry
from sceau_credentials.warmup import warm_up_signing
from sceau_issuer.issuing.metadata import Workload, write_workload
from sceau_issuer.issuing.schemas import EvidenceInput, RecipientInput, ResultInput
from sceau_issuer.status.status_lists import StatusSlot
from sceau_issuer.tenants.dids import any_signing_key
from sceau_issuer.tenants.models import Tenant
from sceau_shared.heap import settle_heap

Signed = dict[str, Any] | str


def issuer_profile(tenant: Tenant) -> IssuerProfile:
    """The institution as it appears in its credentials."""
    names = {lang: text for lang, text in tenant.name.model_dump().items() if text.strip()}
    return IssuerProfile(
        id=tenant.did,
        name=names or {"fr": tenant.institution_id},
        url=f"https://{tenant.domain}" if tenant.domain else None,
        email=tenant.contact_email,
    )


def status_purposes(profile: str, *, suspension: bool = False) -> tuple[str, ...]:
    """Status entries a credential of ``profile`` carries.

    By default a credential carries one entry, for revocation, as a single ``credentialStatus``
    object: the only shape 1EdTech's Open Badges 3.0 JSON Schema accepts. A VC Data Model 2.0
    credential (``ob3-v2``, ``jwt``) of an institution that turned suspension on (``suspension``,
    its tenant setting) also carries a suspension entry, in a two-entry array the official schema
    refuses. VC Data Model 1.1 credentials (``ob3-v1``, and ``jwt`` before 2026-12) always carry
    a single entry (didkit refuses an array), so they can be revoked but never suspended.
    """
    if profile in ("ob3-v2", "jwt") and suspension:
        return ("revocation", "suspension")
    return ("revocation",)


@dataclass(frozen=True)
class BuildSpec:
    """What :func:`build_unsigned` needs: plain data, so a worker process can build too."""

    issuer: IssuerProfile
    achievement: AchievementVersion
    recipient: RecipientInput
    profile: str
    credential_id: str
    issued_at: datetime
    valid_until: datetime | None
    slot: StatusSlot
    results: Sequence[ResultInput] = ()
    evidence: Sequence[EvidenceInput] = ()
    credits_earned: float | None = None
    extra_evidence: Sequence[Evidence] = ()
    workload: Workload | None = None
    suspension: bool = False
    """The institution had turned suspension on when this credential was drafted: an ``ob3-v2``
    credential then carries a suspension entry too, and its pre-signing check is told so."""


def build_unsigned(spec: BuildSpec, memo: AchievementMemo | None = None) -> dict[str, Any]:
    """Build one unsigned OpenBadgeCredential with its status entries (:func:`status_purposes`).

    The achievement's workload and credit metadata (no dedicated OB field) is then written with
    OB 3.0 terms (``issuing/metadata.py``), before the credential is validated and signed.
    ``memo``: shared by the credentials built together (:func:`sign_jobs`).
    """
    credential = _build(
        issuer=spec.issuer,
        achievement=spec.achievement,
        recipient=spec.recipient,
        profile=spec.profile,
        credential_id=spec.credential_id,
        issued_at=spec.issued_at,
        valid_until=spec.valid_until,
        slot=spec.slot,
        results=spec.results,
        evidence=spec.evidence,
        credits_earned=spec.credits_earned,
        extra_evidence=spec.extra_evidence,
        suspension=spec.suspension,
        memo=memo,
    )
    return write_workload(credential, spec.workload)


def _build(
    *,
    issuer: IssuerProfile,
    achievement: AchievementVersion,
    recipient: RecipientInput,
    profile: str,
    credential_id: str,
    issued_at: datetime,
    valid_until: datetime | None,
    slot: StatusSlot,
    results: Sequence[ResultInput] = (),
    evidence: Sequence[EvidenceInput] = (),
    credits_earned: float | None = None,
    extra_evidence: Sequence[Evidence] = (),
    suspension: bool = False,
    memo: AchievementMemo | None = None,
) -> dict[str, Any]:
    languages = set(achievement.name)
    language = recipient.language if recipient.language in languages else None
    status = [
        status_entry(profile, purpose, slot.list_urls[purpose], slot.index)
        for purpose in status_purposes(profile, suspension=suspension)
    ]
    descriptions = achievement.id.split("#", 1)[0]
    return build_credential(
        achievement,
        Recipient(email=str(recipient.email), did=recipient.did, name=recipient.name),
        issuer,
        profile,
        credential_id=credential_id,
        issued_at=issued_at,
        valid_until=valid_until,
        language=language,
        status=status,
        results=[
            Result(
                result_description=f"{descriptions}#assessment-{r.assessment}",
                value=r.value,
                status=r.status,
            )
            for r in results
        ],
        evidence=[Evidence(id=e.url, name=e.name, description=e.description) for e in evidence]
        + list(extra_evidence),
        credits_earned=credits_earned,
        memo=memo,
    )


@dataclass(frozen=True)
class SignJob:
    """Everything a worker process needs to build and sign one credential."""

    spec: BuildSpec
    seed: bytes = field(repr=False)
    did: str
    key_version: int
    key_type: str = "Ed25519"
    """``Ed25519`` (``seed`` is the seed) or ``P-256`` (``seed`` is the scalar: ES256 JWTs)."""

    def unsigned(self, memo: AchievementMemo | None = None) -> dict[str, Any]:
        """The credential before its proof."""
        return build_unsigned(self.spec, memo)


KeyMemo = dict[tuple[bytes, str, int, str, str], SigningKey | P256SigningKey]
"""Signing keys already derived, by (secret, DID, key version, profile, key type)."""


@dataclass
class SliceMemo:
    """What the credentials signed together share: their keys and built achievements.

    A batch slice is one institution's credentials of one achievement version (the version
    object is shared by the unpickled jobs): deriving the key (~54 µs) and building the OB
    ``Achievement`` once per slice instead of per credential. It lives for one slice only.
    """

    keys: KeyMemo = field(default_factory=dict)
    achievements: AchievementMemo = field(default_factory=dict)

    def key(self, job: SignJob, profile: Profile) -> SigningKey | P256SigningKey:
        """The job's signing key, derived once per slice."""
        ident = (job.seed, job.did, job.key_version, str(profile), job.key_type)
        found = self.keys.get(ident)
        if found is None:
            found = any_signing_key(job.seed, job.did, job.key_version, profile, job.key_type)
            self.keys[ident] = found
        return found


async def sign_one(job: SignJob, memo: SliceMemo | None = None) -> Signed:
    """Build, check and sign one credential on the current event loop.

    Nothing invalid is ever signed: the OB 3.0 structure and (for ``ob3-v2``) 1EdTech's JSON
    Schema are checked first, strictly. The one exception is named: a credential of an
    institution that turned suspension on carries two status entries (revocation and
    suspension), and only for it is the schema's single-entry rule lifted (each entry is still
    checked against the schema's CredentialStatus).
    """
    profile = Profile(job.spec.profile)
    shared = memo or SliceMemo()
    key = shared.key(job, profile)
    credential = job.unsigned(shared.achievements)
    validate_for_signing(credential, allow_status_array=job.spec.suspension)
    signed: Signed = await sign_credential(credential, key, profile)
    return signed


T = TypeVar("T")


def in_fresh_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end in a new event loop (in a worker process), then close the loop.

    Not ``asyncio.run``: in a worker process (its main thread) that one installs a SIGINT
    handler holding the task and, when restoring it, has ``signal.getsignal`` build an error
    message with the repr of that task and its result — every signed credential of the slice
    (~3 % of a signing process's samples).
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def sign_jobs(jobs: list[SignJob]) -> list[Signed]:
    """Sign several credentials (runs in a worker process or thread, with its own loop)."""

    async def run() -> list[Signed]:
        memo = SliceMemo()
        return [await sign_one(job, memo) for job in jobs]

    return in_fresh_loop(run())


def warm_up() -> None:
    """Sign one throwaway credential so a worker process has its JSON-LD caches hot, then settle.

    The first signature of a process loads and processes the contexts, which takes far longer
    than the following ones; doing it at start-up keeps it off the first batch. What that built
    then leaves the garbage collector's reach (:func:`sceau_shared.heap.settle_heap`, as the
    service's own process does): unsettled, each signing process ran full collections of 20-30 ms
    while issuing (gc callbacks, a round of 2,000 single issues), and the slice one interrupted
    held up its whole group. Settled: single-issue p99 108 -> 97 ms (medians of 6 rounds,
    docs/benchmarks.md, issue 19).
    """
    asyncio.run(warm_up_signing())
    settle_heap()
