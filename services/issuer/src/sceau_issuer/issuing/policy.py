"""Issuing rules applied before anything is reserved or signed: accreditation and series order.

Kept apart from :mod:`.service` (the issuing mechanics) so the rules read on their own. Both
single issuing and batches call them; a refusal changes nothing. :func:`fit_problems` is the one
check of a learner's results and credits against the achievement (batches, single issues, the LMS
hook).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sceau_issuer.achievements.service import AchievementService, PinnedAchievement
from sceau_issuer.errors import AchievementNotFound, field_problem
from sceau_issuer.issuing.schemas import ResultInput
from sceau_issuer.series.prerequisites import Missing, ProgressionRules
from sceau_issuer.tenants.accreditation import check_accredited
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_shared.errors import InvalidInput
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


def _fit(path: str, message: str) -> dict[str, object]:
    return field_problem(path, message, "invalid_for_achievement")


def fit_problems(
    pinned: PinnedAchievement,
    results: Sequence[ResultInput],
    credits_earned: float | None,
    *,
    at: str = "",
    who: str = "",
) -> list[dict[str, object]]:
    """What in a learner's results and credits the achievement cannot carry.

    A result must answer one of the achievement's assessments (1-based), and credits can be
    earned only on a credit-bearing achievement, at most what it awards. ``at`` prefixes each
    field path (``recipients.3.``) and ``who`` each message, so a cohort file can be corrected.
    """
    definition = pinned.definition
    assessments = len(definition.assessments)
    problems = []
    for j, result in enumerate(results):
        if result.assessment > assessments:
            problems.append(
                _fit(
                    f"{at}results.{j}.assessment",
                    f"{who}the achievement has {assessments} assessment(s), "
                    f"not {result.assessment}",
                )
            )
    if credits_earned is None:
        return problems
    credit_status = definition.credit_status
    if credit_status is not None and credit_status.value == "non-credit":
        problems.append(_fit(f"{at}credits_earned", f"{who}the achievement is non-credit"))
    elif definition.credits is not None and credits_earned > definition.credits:
        problems.append(
            _fit(
                f"{at}credits_earned",
                f"{who}at most {definition.credits:g} credits can be earned",
            )
        )
    return problems


def check_fits(
    pinned: PinnedAchievement, results: Sequence[ResultInput], credits_earned: float | None
) -> None:
    """Refuse (422, naming each field, FR/EN) results or credits the achievement cannot carry.

    Called before anything is reserved or signed, so a refused single issue changes nothing.
    """
    problems = fit_problems(pinned, results, credits_earned)
    if not problems:
        return
    fields = ", ".join(str(p["field"]) for p in problems)
    raise InvalidInput(
        f"{len(problems)} field(s) do not fit the achievement: {fields}",
        errors=problems,
        extra={
            "detail_en": f"these fields do not fit the achievement: {fields} (a result must "
            "answer one of its assessments; credits only on a credit-bearing achievement, at "
            "most what it awards)",
            "detail_fr": f"ces champs ne conviennent pas au titre : {fields} (un résultat doit "
            "répondre à l'une de ses évaluations ; des crédits seulement pour un titre créditable, "
            "au plus ce qu'il accorde)",
        },
    )
