"""The LMS completion hook: a signed completion event becomes one idempotent issue.

Per institution, one Standard Webhooks secret (created and rotated through the API with the
``manage`` scope, encrypted at rest by the vault like signing keys) and course → achievement
mappings. A delivery is, in order:

1. verified: signature under the current (or, for a day after a rotation, the previous) secret,
   timestamp within five minutes (401 otherwise, nothing read);
2. answered from its earlier answer when its ``webhook-id`` was delivered before (200);
3. read as its LMS's shape (:mod:`.mappings`): not a completion → 200 ``ignored``; unusable
   learner fields → 422; the course's mapping (422 when unmapped) or the named achievement
   (404 when it has no published version), both with FR/EN details;
4. issued through the single-issue path (:class:`~sceau_issuer.issuing.group_commit.IssueCollector`,
   so every issuing rule applies), under an idempotency key derived from (LMS, course, learner):
   a completion delivered again under another ``webhook-id`` (Canvas re-sends one when a module's
   completion time changes) is answered with the credential already issued, never a second one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.achievements.service import AchievementService, PinnedAchievement
from sceau_issuer.errors import (
    AchievementNotFound,
    AlreadyIssued,
    IdempotencyMismatch,
    LmsAchievementUnknown,
    LmsCourseNotMapped,
    LmsPayloadMalformed,
)
from sceau_issuer.issuing.group_commit import IssueCollector
from sceau_issuer.issuing.schemas import IssueRequest, RecipientInput
from sceau_issuer.issuing.service import IssuingService
from sceau_issuer.lms.mappings import Completion, Lms, Skipped, invalid, read_completion
from sceau_issuer.lms.repository import LmsRepository
from sceau_issuer.lms.schemas import DeliveryAnswer, MappingView, SecretCreated
from sceau_issuer.lms.signatures import verify_delivery
from sceau_issuer.series.service import SeriesService
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import EncryptedSecret, Vault
from sceau_shared.events import utcnow
from sceau_shared.standard_webhooks import generate_secret

ROTATION_GRACE = timedelta(hours=24)
"""How long deliveries signed with a replaced secret are still accepted."""


def mapping_key(lms: Lms | str, course_id: str) -> str:
    """The stored key of a mapping: free of the dots and dollars a field path cannot hold."""
    return hashlib.sha256(f"{lms}|{course_id}".encode()).hexdigest()[:32]


def idempotency_key(completion: Completion) -> str:
    """The issue's Idempotency-Key: one per (LMS, course, learner), whatever the delivery."""
    raw = f"{completion.lms}|{completion.course_key}|{normalize_email(completion.email)}"
    return "lms." + hashlib.sha256(raw.encode()).hexdigest()[:40]


class LmsService:
    """Secrets, mappings and deliveries of the LMS hook."""

    def __init__(
        self,
        *,
        repository: LmsRepository,
        vault: Vault,
        tenants: TenantService,
        achievements: AchievementService,
        issuing: IssuingService,
        collector: IssueCollector,
        series: SeriesService,
        public_base_url: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repository
        self._vault = vault
        self._tenants = tenants
        self._achievements = achievements
        self._issuing = issuing
        self._collector = collector
        self._series = series
        self._base = public_base_url.rstrip("/")
        self._clock = clock

    # --- secrets ---------------------------------------------------------------------------------

    def hook_urls(self, institution_id: str) -> dict[str, str]:
        """Where each LMS posts its completion events for this institution."""
        return {lms.value: f"{self._base}/v1/lms/hooks/{institution_id}/{lms.value}" for lms in Lms}

    @staticmethod
    def _context(institution_id: str) -> str:
        # Bound as AAD: a secret copied onto another institution's record does not decrypt.
        return f"lms-hook-secret|{institution_id}"

    async def create_secret(self, institution_id: str) -> SecretCreated:
        """A new secret (shown once); the one it replaces is accepted for :data:`ROTATION_GRACE`."""
        secret = generate_secret()
        now = utcnow()
        stored = await self._repo.settings(institution_id) or {}
        current = stored.get("secret")
        values: dict[str, Any] = {
            "secret": self._vault.encrypt(
                secret.encode(), context=self._context(institution_id)
            ).to_doc(),
            "secret_created_at": now,
            "previous_secret": current,
            "previous_valid_until": now + ROTATION_GRACE if current else None,
        }
        await self._repo.set_secrets(institution_id, values)
        return SecretCreated(
            secret=secret,
            created_at=now,
            previous_valid_until=values["previous_valid_until"],
            hook_urls=self.hook_urls(institution_id),
        )

    async def delete_secrets(self, institution_id: str) -> None:
        """Turn the hook off: every delivery is refused (401) until a new secret is created."""
        await self._repo.set_secrets(
            institution_id,
            {"secret": None, "previous_secret": None, "previous_valid_until": None},
        )

    def _secrets(self, institution_id: str, stored: Mapping[str, Any]) -> list[str]:
        out = []
        context = self._context(institution_id)
        if stored.get("secret"):
            current = EncryptedSecret.from_doc(stored["secret"])
            out.append(self._vault.decrypt(current, context=context))
        until = stored.get("previous_valid_until")
        if stored.get("previous_secret") and until is not None and _aware(until) > utcnow():
            out.append(
                self._vault.decrypt(
                    EncryptedSecret.from_doc(stored["previous_secret"]), context=context
                )
            )
        return [s.decode() for s in out]

    # --- mappings --------------------------------------------------------------------------------

    async def put_mapping(
        self,
        tenant: Tenant,
        lms: Lms,
        course_id: str,
        achievement_id: str,
        language: Literal["fr", "en"] | None,
    ) -> MappingView:
        """Map a course to an achievement that has a published version (404 otherwise)."""
        await self._published(tenant, achievement_id)
        view = MappingView(
            lms=lms.value,
            course_id=course_id,
            achievement_id=achievement_id,
            language=language,
            updated_at=utcnow(),
        )
        await self._repo.set_mapping(
            tenant.institution_id, mapping_key(lms, course_id), view.model_dump()
        )
        return view

    async def mappings(self, institution_id: str) -> tuple[bool, list[MappingView]]:
        """Whether the hook has a secret, and its mappings by LMS and course."""
        stored = await self._repo.settings(institution_id) or {}
        views = [MappingView.model_validate(m) for m in (stored.get("mappings") or {}).values()]
        return bool(stored.get("secret")), sorted(views, key=lambda v: (v.lms, v.course_id))

    async def remove_mapping(
        self, institution_id: str, lms: Lms, course_id: str
    ) -> MappingView | None:
        """Drop a mapping and return it; None when there was none."""
        key = mapping_key(lms, course_id)
        stored = await self._repo.settings(institution_id) or {}
        mapping = (stored.get("mappings") or {}).get(key)
        if mapping is None or not await self._repo.remove_mapping(institution_id, key):
            return None
        return MappingView.model_validate(mapping)

    async def _published(self, tenant: Tenant, achievement_id: str) -> PinnedAchievement:
        try:
            return await self._achievements.pinned(tenant, achievement_id)
        except AchievementNotFound as exc:
            en = (
                f"achievement {achievement_id!r} has no published version at this institution: "
                "publish it (POST /v1/achievements/{id}/publish) or correct the id"
            )
            fr = (
                f"le titre {achievement_id!r} n'a aucune version publiée dans cet établissement : "
                "publiez-le (POST /v1/achievements/{id}/publish) ou corrigez l'identifiant"
            )
            raise LmsAchievementUnknown(
                en, extra={"achievement_id": achievement_id, "detail_en": en, "detail_fr": fr}
            ) from exc

    # --- deliveries ------------------------------------------------------------------------------

    async def receive(
        self, institution_id: str, lms: Lms, headers: Mapping[str, str], body: bytes
    ) -> tuple[DeliveryAnswer, bool]:
        """Handle one delivery; return the answer and whether a credential was issued by it."""
        stored = await self._repo.settings(institution_id)
        # No secret (an unknown institution, a hook turned off) is refused as a wrong secret is,
        # after the same header checks: the answer does not tell whether a hook exists.
        secrets = self._secrets(institution_id, stored) if stored else []
        webhook_id = verify_delivery(headers, body, secrets, now=self._clock())
        delivery_id = f"{institution_id}|{webhook_id}"
        earlier = await self._repo.delivery(delivery_id)
        if earlier is not None:
            answer = DeliveryAnswer.model_validate(earlier["answer"])
            return answer.model_copy(update={"replay": True}), False
        completion = read_completion(lms, _json(body))
        if isinstance(completion, Skipped):
            return DeliveryAnswer(
                outcome="ignored", webhook_id=webhook_id, lms=lms.value, reason=completion.reason
            ), False
        assert stored is not None  # noqa: S101 - a secret was found in it
        tenant = await self._tenants.get(institution_id)
        mapping = self._mapping(stored, completion)
        achievement_id = completion.achievement_id or str(mapping["achievement_id"])
        pinned = await self._published(tenant, achievement_id)
        request = _issue_request(completion, pinned, mapping.get("language"))
        answer, issued = await self._issue(tenant, request, completion, webhook_id)
        await self._repo.record_delivery(delivery_id, answer.model_dump(mode="json"), utcnow())
        return answer, issued

    @staticmethod
    def _mapping(stored: Mapping[str, Any], completion: Completion) -> dict[str, Any]:
        if completion.course is None:
            return {}
        mapping = (stored.get("mappings") or {}).get(mapping_key(completion.lms, completion.course))
        if mapping is not None:
            return dict(mapping)
        if completion.achievement_id is not None:
            return {}
        path = f"/v1/lms/mappings/{completion.lms.value}/{completion.course}"
        en = (
            f"{completion.lms.value} course {completion.course!r} is mapped to no achievement: "
            f'map it (PUT {path} with {{"achievement_id": …}}) and deliver the event again'
        )
        fr = (
            f"le cours {completion.lms.value} {completion.course!r} n'est associé à aucun titre : "
            f'associez-le (PUT {path} avec {{"achievement_id": …}}) puis livrez l\'événement '
            "de nouveau"
        )
        raise LmsCourseNotMapped(
            en,
            errors=[
                {
                    "in": "body",
                    "field": "course",
                    "message": f"course {completion.course!r} is not mapped",
                    "code": "not_mapped",
                }
            ],
            extra={"course_id": completion.course, "detail_en": en, "detail_fr": fr},
        )

    async def _issue(
        self, tenant: Tenant, request: IssueRequest, completion: Completion, webhook_id: str
    ) -> tuple[DeliveryAnswer, bool]:
        key = idempotency_key(completion)
        answer = DeliveryAnswer(
            outcome="issued",
            webhook_id=webhook_id,
            lms=completion.lms.value,
            course_id=completion.course,
            completed_at=completion.completed_at,
        )
        try:
            doc, replayed = await self._collector.issue(tenant, request, idempotency_key=key)
        except IdempotencyMismatch:
            # The same learner and course, delivered again with other details (a new grade,
            # a corrected name): the credential issued first stands.
            doc = await self._earlier(tenant, key)
            replayed = True
        except AlreadyIssued as exc:
            # The learner already holds this achievement version (issued another way).
            held = str(exc.extra.get("credential_id"))
            doc = await self._issuing.get(tenant.institution_id, held)
            return answer.model_copy(update={"outcome": "already-held", **_about(doc)}), False
        if not replayed:
            await self._series.after_issue(
                tenant.institution_id, doc["achievement_id"], [doc["recipient"]]
            )
        outcome = "already-issued" if replayed else "issued"
        return answer.model_copy(update={"outcome": outcome, **_about(doc)}), not replayed

    async def _earlier(self, tenant: Tenant, key: str) -> dict[str, Any]:
        reservation = await self._issuing.reservations.find(f"{tenant.institution_id}|{key}")
        if reservation is None:
            raise IdempotencyMismatch("this completion was delivered before with other details")
        return await self._issuing.get(tenant.institution_id, reservation.credential_id)


def _about(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "credential_id": str(doc["_id"]),
        "achievement_id": doc["achievement_id"],
        "achievement_version": int(doc["achievement_version"]),
    }


def _aware(when: datetime) -> datetime:
    # Stored datetimes come back naive (UTC) from MongoDB.
    return when if when.tzinfo is not None else when.replace(tzinfo=utcnow().tzinfo)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        en = "the body is not a JSON document (it was correctly signed)"
        fr = "le corps n'est pas un document JSON (sa signature est correcte)"
        raise LmsPayloadMalformed(en, extra={"detail_en": en, "detail_fr": fr}) from exc


def _issue_request(
    completion: Completion, pinned: PinnedAchievement, default_language: str | None
) -> IssueRequest:
    """The single issue a completion asks for (the learner's language falls back as documented)."""
    fallback = pinned.definition.default_language
    language = (
        completion.language or default_language or (fallback if fallback in ("fr", "en") else "fr")
    )
    try:
        return IssueRequest(
            achievement_id=pinned.achievement_id,
            recipient=RecipientInput(
                email=completion.email, name=completion.name, language=language
            ),
            results=completion.results,
            credits_earned=completion.credits_earned,
        )
    except ValidationError as exc:
        problems: list[dict[str, object]] = [
            {
                "in": "body",
                "field": ".".join(str(p) for p in e["loc"]),
                "message": e["msg"],
                "code": e["type"],
            }
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise invalid(
            problems,
            en="the learner's details in the event cannot be used for a credential",
            fr="les renseignements de l'apprenant dans l'événement ne peuvent servir à un titre",
        ) from exc
