"""The insights report and the targets body (aggregates only: no learner appears anywhere)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from sceau_issuer.insights.repository import TARGETED

Counts = dict[str, int | None]
"""One cell per metric; ``None`` stands for a suppressed cell."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Suppression(_Model):
    """How small cells are hidden (docs/issuer.md, "Insights")."""

    k: int = Field(description="Counts below k are never shown.")
    rule: str = Field(description="The rule, in words (FR/EN in the docs and on the page).")


class TargetProgress(_Model):
    """A target the institution set, beside the actual count (R78)."""

    target: int
    actual: int | None = Field(description="None: the count is suppressed")
    percent: float | None = Field(description="actual / target in %, None when suppressed")


class CohortInsight(_Model):
    """One cohort of an achievement: a batch, or the credentials issued one by one."""

    cohort: str = Field(description="The batch id, or `single`")
    since: str | None = Field(description="First issuance in the cohort (date, UTC)")
    counts: Counts


class AchievementInsight(_Model):
    """One achievement's counts, targets and cohorts."""

    achievement_id: str
    name: dict[str, str]
    counts: Counts
    targets: dict[str, TargetProgress]
    cohorts: list[CohortInsight]


class FunnelStep(_Model):
    """How many learners reached one step of a series (its module's, or the overall, issued)."""

    step: str = Field(description="M1, M2, … in the series' order, then `overall`")
    achievement_id: str
    name: dict[str, str]
    reached: int | None
    percent_of_first: float | None = Field(description="reached / M1 in %, None if suppressed")


class SeriesFunnel(_Model):
    """A series' funnel M1 → M2 → … → overall (R74)."""

    series_id: str
    name: dict[str, str]
    steps: list[FunnelStep]


class InsightsReport(_Model):
    """Aggregate counts of one institution (R73, R74, R77, R78)."""

    institution_id: str
    generated_at: str
    metrics: list[str]
    suppression: Suppression
    totals: Counts
    achievements: list[AchievementInsight]
    series: list[SeriesFunnel]


class TargetsInput(_Model):
    """Targets of one achievement: a count per metric (an empty object clears them)."""

    targets: dict[str, StrictInt] = Field(
        description=f"Metric ({', '.join(TARGETED)}) → target count (1 to 10,000,000)",
        examples=[{"issued": 120, "verified": 30}],
    )

    @field_validator("targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(TARGETED))
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; one of {list(TARGETED)}")
        for metric, target in value.items():
            if not 1 <= target <= 10_000_000:
                raise ValueError(f"target of {metric!r} must be 1 to 10,000,000")
        return value


class TargetsView(_Model):
    """An achievement's targets as stored."""

    achievement_id: str
    targets: dict[str, int]


class PageLink(_Model):
    """A short-lived link that opens the insights page in any browser (no API key needed)."""

    url: str
    expires_at: str
