"""Sign endorsements for endorsing bodies; let the endorsed institution attach or refuse them.

The flow (docs/issuer.md, "Endorsements"):

1. An endorsing body — a tenant like any institution, which the registry gave an ``endorser``
   scope — calls ``POST /v1/endorsements`` with its own API key, naming another institution's
   published achievement (and version) and its comment (FR/EN). The issuer checks its standing
   (:mod:`.rules`), builds the OB 3.0 ``EndorsementCredential`` and signs it with the body's own
   key (``eddsa-rdfc-2022``), and stores it as ``pending``.
2. The endorsed institution lists what it was offered and accepts or rejects each one: a body
   cannot put its name on another's credentials unasked, nor can an institution attach an
   endorsement that was offered to someone else (every query names the institution).
3. Credentials issued afterwards from that achievement version embed the accepted endorsements,
   unchanged, in ``credentialSubject.achievement.endorsement`` (:class:`AttachedEndorsements`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sceau_credentials.conformance.rules import endorsement_schema_findings
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3.endorsement import build_endorsement
from sceau_credentials.ob3.validation import structure_problems
from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.endorsements.repository import EndorsementRepository
from sceau_issuer.endorsements.rules import check_may_endorse
from sceau_issuer.endorsements.schemas import EndorsementRequest
from sceau_issuer.errors import (
    AchievementNotFound,
    EndorsementConflict,
    EndorsementNotFound,
    InstitutionNotActive,
)
from sceau_issuer.issuing.sign_jobs import issuer_profile
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_shared.cache import TtlCache
from sceau_shared.events import utcnow

__all__ = ["AttachedEndorsements", "EndorsementService"]

Sign = Callable[[dict[str, Any], SigningKey | P256SigningKey, str], Awaitable[dict[str, Any] | str]]
_Version = tuple[str, str, int]


class AttachedEndorsements:
    """The accepted endorsements of each achievement version, read at most every ``ttl_s``.

    Issuing asks for every credential, so the answer is kept in memory: the replica that
    records an acceptance forgets its entry at once; another replica sees it within ``ttl_s``.
    """

    def __init__(self, repository: EndorsementRepository, *, ttl_s: float) -> None:
        self._repo = repository
        self._cache: TtlCache[_Version, tuple[dict[str, Any], ...]] = TtlCache(
            ttl_s=ttl_s, max_entries=4096
        )

    async def of(
        self, institution_id: str, achievement_id: str, version: int
    ) -> tuple[dict[str, Any], ...]:
        """The signed endorsements to embed in credentials of this version."""
        key = (institution_id, achievement_id, version)
        cached = self._cache.get(key)
        if cached is None:
            cached = tuple(await self._repo.attached(institution_id, achievement_id, version))
            self._cache.put(key, cached)
        return cached

    def forget(self, institution_id: str, achievement_id: str, version: int) -> None:
        """Drop one version's entry (after this replica changed it)."""
        self._cache.invalidate((institution_id, achievement_id, version))


class EndorsementService:
    """Endorsements of one issuer database; every call names the tenant it acts for."""

    def __init__(
        self,
        repository: EndorsementRepository,
        achievements: AchievementRepository,
        tenants: TenantService,
        *,
        sign: Sign,
        attached: AttachedEndorsements,
        achievement_uri: Callable[[str, int], str],
    ) -> None:
        self._repo = repository
        self._achievements = achievements
        self._tenants = tenants
        self._sign = sign
        self._attached = attached
        self._uri = achievement_uri

    async def endorse(
        self, endorser: Tenant, request: EndorsementRequest, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """Sign ``endorser``'s endorsement of a published achievement; store it as pending."""
        moment = now or utcnow()
        if endorser.status not in ("active", "pending"):
            raise InstitutionNotActive(
                f"institution {endorser.institution_id!r} is {endorser.status}; it may not endorse"
            )
        if request.version is not None:
            target = await self._achievements.public_version(
                request.achievement_id, request.version
            )
        else:
            target = await self._achievements.public_latest(request.achievement_id)
        if target is None:
            raise AchievementNotFound(
                f"achievement {request.achievement_id!r} has no published version"
                + (f" {request.version}" if request.version is not None else "")
            )
        definition = AchievementInput.model_validate(target["definition"])
        owner_id = str(target["institution_id"])
        check_may_endorse(
            await self._tenants.accreditation(endorser.institution_id),
            endorser_id=endorser.institution_id,
            owner_id=owner_id,
            achievement_type=definition.achievement_type,
            level=definition.level,
            now=moment,
        )
        version = int(target["version"])
        subject_id = self._uri(request.achievement_id, version)
        endorsement_id = uuid.uuid4().hex
        unsigned = build_endorsement(
            endorser=issuer_profile(endorser),
            subject_id=subject_id,
            subject_name=dict(definition.name),
            comment=request.comment,
            credential_id=f"urn:uuid:{uuid.UUID(endorsement_id)}",
            issued_at=moment,
        )
        # Nothing invalid is signed: the envelope checks of any credential, plus the official
        # schema's EndorsementCredential definition.
        problems = [*structure_problems(unsigned), *endorsement_schema_findings(unsigned)]
        if problems:  # pragma: no cover - the builder's output; a bug if ever reached
            raise RuntimeError(f"endorsement failed its checks before signing: {problems}")
        key = self._tenants.signing_key(endorser)
        signed = await self._sign(unsigned, key, "ob3-v2")
        if not isinstance(signed, dict):  # pragma: no cover - ob3-v2 is a JSON object
            raise TypeError("an ob3-v2 endorsement is a JSON object")
        doc: dict[str, Any] = {
            "_id": endorsement_id,
            "endorser_id": endorser.institution_id,
            "endorser_did": endorser.did,
            "institution_id": owner_id,
            "achievement_id": request.achievement_id,
            "achievement_version": version,
            "endorsed": subject_id,
            "comment": dict(request.comment),
            "state": "pending",
            "created_at": moment,
            "decided_at": None,
            "document": signed,
        }
        await self._repo.insert(doc)
        return doc

    async def signed_by(self, endorser: Tenant) -> list[dict[str, Any]]:
        """What ``endorser`` signed."""
        return await self._repo.signed_by(endorser.institution_id)

    async def offered_to(self, tenant: Tenant, achievement_id: str) -> list[dict[str, Any]]:
        """Endorsements of one of ``tenant``'s achievements (pending, accepted, rejected)."""
        if await self._achievements.latest(tenant.institution_id, achievement_id) is None:
            raise AchievementNotFound(f"achievement {achievement_id!r} not found")
        return await self._repo.offered_to(tenant.institution_id, achievement_id)

    async def decide(
        self, tenant: Tenant, achievement_id: str, endorsement_id: str, *, accept: bool
    ) -> dict[str, Any]:
        """Accept (attach to future credentials) or reject an endorsement offered to ``tenant``.

        Deciding the same way twice answers the same; the other way is a 409.
        """
        wanted = "accepted" if accept else "rejected"
        doc = await self._repo.offered(tenant.institution_id, achievement_id, endorsement_id)
        if doc is None:
            raise EndorsementNotFound(
                f"endorsement {endorsement_id!r} of achievement {achievement_id!r} not found"
            )
        if doc["state"] == "pending":
            now = utcnow()
            if await self._repo.decide(tenant.institution_id, endorsement_id, wanted, now):
                doc = {**doc, "state": wanted, "decided_at": now}
            else:
                doc = (
                    await self._repo.offered(tenant.institution_id, achievement_id, endorsement_id)
                    or doc
                )
        if doc["state"] != wanted:
            raise EndorsementConflict(
                f"endorsement {endorsement_id!r} is already {doc['state']}",
                extra={"state": doc["state"]},
            )
        if accept:
            # Also when accepted before: repairs a crash between the two writes.
            version = int(doc["achievement_version"])
            await self._repo.refresh_attached(tenant.institution_id, achievement_id, version)
            self._attached.forget(tenant.institution_id, achievement_id, version)
        return doc
