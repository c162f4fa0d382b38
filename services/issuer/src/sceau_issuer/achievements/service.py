"""Create, version, publish and read achievements; pin versions for issuing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sceau_credentials.ob3.authoring import AchievementVersion
from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.achievements.rules import (
    authored_languages,
    engine_version,
    publication_problems,
)
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.errors import AchievementConflict, AchievementIncomplete, AchievementNotFound
from sceau_issuer.issuing.metadata import Workload
from sceau_issuer.tenants.models import Tenant
from sceau_shared.events import utcnow


@dataclass(frozen=True)
class PinnedAchievement:
    """A published version, ready to build credentials from."""

    achievement_id: str
    version: int
    definition: AchievementInput
    engine: AchievementVersion

    @property
    def achievement_type(self) -> str:
        """The OB ``achievementType``."""
        return self.definition.achievement_type

    @property
    def workload(self) -> Workload | None:
        """Duration and credit metadata written into credentials with OB terms."""
        return Workload.of(self.definition)


class Endorsements(Protocol):
    """The accepted endorsements of an achievement version (endorsements/service.py)."""

    async def of(
        self, institution_id: str, achievement_id: str, version: int
    ) -> tuple[Mapping[str, Any], ...]: ...


class AchievementService:
    """Achievement versions of one issuer database; every call names the tenant.

    ``endorsements`` supplies the endorsements the institution accepted for a version: they are
    not part of the immutable version, so they are laid over the pinned version at each call.
    """

    def __init__(
        self,
        repository: AchievementRepository,
        *,
        public_base_url: str,
        endorsements: Endorsements | None = None,
    ) -> None:
        self._repo = repository
        self._base = public_base_url.rstrip("/")
        self._pinned: dict[tuple[str, str, int], PinnedAchievement] = {}
        self._endorsements = endorsements
        self._endorsed: dict[tuple[str, str, int], tuple[tuple[str, ...], PinnedAchievement]] = {}

    def achievement_uri(self, achievement_id: str, version: int) -> str:
        """The ``Achievement.id`` in credentials: a public URL of this exact version."""
        return f"{self._base}/v1/public/achievements/{achievement_id}/versions/{version}"

    async def create(self, tenant: Tenant, definition: AchievementInput) -> dict[str, Any]:
        """Store version 1 as a draft."""
        achievement_id = uuid.uuid4().hex
        doc = self._version_doc(tenant, achievement_id, 1, definition)
        await self._repo.insert_version(doc)
        return doc

    def _version_doc(
        self, tenant: Tenant, achievement_id: str, version: int, definition: AchievementInput
    ) -> dict[str, Any]:
        return {
            "achievement_id": achievement_id,
            "institution_id": tenant.institution_id,
            "version": version,
            "state": "draft",
            "definition": definition.model_dump(mode="json"),
            "created_at": utcnow(),
            "published_at": None,
        }

    async def edit(
        self, tenant: Tenant, achievement_id: str, definition: AchievementInput
    ) -> dict[str, Any]:
        """Store an edit as a new draft version; issued credentials keep their version."""
        latest = await self._repo.latest(tenant.institution_id, achievement_id)
        if latest is None:
            raise AchievementNotFound(f"achievement {achievement_id!r} not found")
        doc = self._version_doc(tenant, achievement_id, int(latest["version"]) + 1, definition)
        if not await self._repo.insert_version(doc):
            raise AchievementConflict("another edit created this version first; retry")
        return doc

    async def publish(
        self, tenant: Tenant, achievement_id: str, version: int | None = None
    ) -> dict[str, Any]:
        """Publish a version (the latest by default) after checking every rule."""
        if version is None:
            doc = await self._repo.latest(tenant.institution_id, achievement_id)
        else:
            doc = await self._repo.version(tenant.institution_id, achievement_id, version)
        if doc is None:
            raise AchievementNotFound(f"achievement {achievement_id!r} not found")
        if doc["state"] == "published":
            return doc
        number = int(doc["version"])
        definition = AchievementInput.model_validate(doc["definition"])
        problems = publication_problems(
            definition,
            bilingual=tenant.bilingual,
            achievement_uri=self.achievement_uri(achievement_id, number),
            version=number,
        )
        if problems:
            raise AchievementIncomplete(
                f"{len(problems)} problem(s) prevent publishing: "
                + ", ".join(str(p["field"]) for p in problems),
                errors=problems,
            )
        now = utcnow()
        await self._repo.mark_published(tenant.institution_id, achievement_id, number, now)
        return {**doc, "state": "published", "published_at": now}

    async def get(self, tenant: Tenant, achievement_id: str) -> dict[str, Any]:
        """Return the achievement summary with its latest version."""
        versions = await self._repo.versions(tenant.institution_id, achievement_id)
        if not versions:
            raise AchievementNotFound(f"achievement {achievement_id!r} not found")
        published = [v["version"] for v in versions if v["state"] == "published"]
        return {
            "achievement_id": achievement_id,
            "latest_version": versions[-1]["version"],
            "published_version": max(published) if published else None,
            "latest": versions[-1],
        }

    async def versions(self, tenant: Tenant, achievement_id: str) -> list[dict[str, Any]]:
        """Return every version of an achievement."""
        versions = await self._repo.versions(tenant.institution_id, achievement_id)
        if not versions:
            raise AchievementNotFound(f"achievement {achievement_id!r} not found")
        return versions

    async def page(self, tenant: Tenant, *, page: int, page_size: int) -> dict[str, Any]:
        """Return a page of achievements."""
        docs, total = await self._repo.page(
            tenant.institution_id, skip=(page - 1) * page_size, limit=page_size
        )
        items = [await self.get(tenant, d["achievement_id"]) for d in docs]
        return {"items": items, "page": page, "page_size": page_size, "total": total}

    async def pinned(
        self, tenant: Tenant, achievement_id: str, version: int | None = None
    ) -> PinnedAchievement:
        """Return the published version issuing uses, with its accepted endorsements."""
        base = await self._pinned_version(tenant, achievement_id, version)
        if self._endorsements is None:
            return base
        attached = await self._endorsements.of(tenant.institution_id, achievement_id, base.version)
        if not attached:
            return base
        key = (tenant.institution_id, achievement_id, base.version)
        ids = tuple(str(e.get("id")) for e in attached)
        known = self._endorsed.get(key)
        if known is not None and known[0] == ids:
            return known[1]
        engine = base.engine.model_copy(update={"endorsements": [dict(e) for e in attached]})
        endorsed = replace(base, engine=engine)
        # Remembered with the endorsements' ids: another acceptance rebuilds it.
        self._endorsed[key] = (ids, endorsed)
        return endorsed

    async def _pinned_version(
        self, tenant: Tenant, achievement_id: str, version: int | None = None
    ) -> PinnedAchievement:
        """Return the published version (cached: versions are immutable)."""
        if version is None:
            # Only published versions are pinned: when the newest version is, it is the answer
            # (one primary-key probe, no read of the version document).
            newest = await self._repo.count(achievement_id)
            cached = self._pinned.get((tenant.institution_id, achievement_id, newest))
        else:
            cached = self._pinned.get((tenant.institution_id, achievement_id, version))
        if cached is not None:
            return cached
        doc = await self._repo.published(tenant.institution_id, achievement_id, version)
        if doc is None:
            raise AchievementNotFound(
                f"achievement {achievement_id!r} has no published version"
                + (f" {version}" if version is not None else "")
            )
        number = int(doc["version"])
        key = (tenant.institution_id, achievement_id, number)
        cached = self._pinned.get(key)
        if cached is None:
            definition = AchievementInput.model_validate(doc["definition"])
            cached = PinnedAchievement(
                achievement_id=achievement_id,
                version=number,
                definition=definition,
                engine=engine_version(
                    definition,
                    achievement_uri=self.achievement_uri(achievement_id, number),
                    version=number,
                    languages=authored_languages(definition, tenant.bilingual),
                ),
            )
            self._pinned[key] = cached
        return cached

    async def public_version(self, achievement_id: str, version: int) -> dict[str, Any] | None:
        """Return a published version for the public achievement page (no tenant filter).

        Published achievement definitions are public by nature: they are in every credential.
        """
        return await self._repo.public_version(achievement_id, version)
