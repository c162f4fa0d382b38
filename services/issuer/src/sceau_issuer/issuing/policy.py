"""Issuing rules applied before anything is reserved or signed: accreditation and series order.

Kept apart from :mod:`.service` (the issuing mechanics) so the rules read on their own. Both
single issuing and batches call them; a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sceau_issuer.achievements.service import AchievementService, PinnedAchievement
from sceau_issuer.errors import AchievementNotFound
from sceau_issuer.series.prerequisites import Missing, ProgressionRules
from sceau_issuer.tenants.accreditation import check_accredited
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_shared.events import utcnow


class IssuingPolicy:
    """Whether an institution may issue an achievement, and to which learners."""

    def __init__(
        self,
        tenants: TenantService,
        achievements: AchievementService,
        progression: ProgressionRules | None,
    ) -> None:
        self.tenants = tenants
        self.achievements = achievements
        self.progression = progression

    async def check_accredited(self, tenant: Tenant, pinned: PinnedAchievement) -> None:
        """Refuse (403) an achievement type or level outside the registry's accreditation now."""
        check_accredited(
            await self.tenants.accreditation(tenant.institution_id),
            institution_id=tenant.institution_id,
            achievement_type=pinned.achievement_type,
            level=pinned.definition.level,
            now=utcnow(),
        )

    async def prerequisite_problems(
        self, tenant: Tenant, pinned: PinnedAchievement, emails: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Learners (normalised emails) lacking a progressive prerequisite, with a problem each.

        Each problem has a ``message`` and ``missing_prerequisites`` (achievement id and name of
        every earlier component the learner lacks, in series order) and the ``series_id``.
        """
        if self.progression is None:
            return {}
        missing = await self.progression.missing(
            tenant.institution_id, pinned.achievement_id, emails
        )
        if not missing:
            return {}
        names: dict[str, dict[str, str]] = {}
        for achievement_id in {a for m in missing.values() for a in m.achievement_ids}:
            try:
                names[achievement_id] = dict(
                    (await self.achievements.pinned(tenant, achievement_id, None)).engine.name
                )
            except AchievementNotFound:
                names[achievement_id] = {}
        return {email: _prerequisite_problem(m, names) for email, m in missing.items()}


def _label(name: dict[str, str], fallback: str) -> str:
    return name.get("en") or name.get("fr") or next(iter(name.values()), fallback)


def _prerequisite_problem(missing: Missing, names: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The problem details of a learner who lacks earlier components of a progressive series."""
    listed = ", ".join(f"{_label(names.get(a, {}), a)!r} ({a})" for a in missing.achievement_ids)
    series = _label(missing.series_name, missing.series_id)
    return {
        "message": (
            f"missing prerequisite: progressive series {series!r} requires an active credential "
            f"of {listed} first"
        ),
        "series_id": missing.series_id,
        "missing_prerequisites": [
            {"achievement_id": a, "name": names.get(a, {})} for a in missing.achievement_ids
        ],
    }
