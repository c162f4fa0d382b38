"""Build the insights report from the stored counters, small cells suppressed (pure: no I/O).

Three nested additive groups, per metric: the institution's total is the sum of its
achievements; an achievement's total is the sum of its cohorts. Suppression runs top-down
(:mod:`sceau_issuer.insights.suppression`): the achievements under the institution's total, then
the cohorts under each achievement's total (all hidden when that total is). Every other figure —
the series funnels, the targets' progress, the legacy summary — reuses the achievement cells as
decided here, so no view shows a cell that another view hides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sceau_issuer.insights.repository import METRICS, SINGLE
from sceau_issuer.insights.schemas import (
    AchievementInsight,
    CohortInsight,
    Counts,
    FunnelStep,
    InsightsReport,
    SeriesFunnel,
    Suppression,
    TargetProgress,
)
from sceau_issuer.insights.suppression import hidden_cells, shown

RULE = (
    "Counts from 1 to k-1 are hidden (null), and every figure of an achievement or cohort with "
    "fewer than k credentials issued; zeros of larger groups are shown. Within each total that "
    "is shown (institution over achievements, achievement over cohorts), further cells are "
    "hidden, smallest non-zero first, until the hidden cells of the group add up to at least k; "
    "when a total is hidden, all of its parts are hidden for that metric. Funnels and targets "
    "reuse the achievement cells."
)


@dataclass(frozen=True)
class AchievementCounters:
    """One achievement's stored counters (the repository's document, typed)."""

    achievement_id: str
    name: dict[str, str]
    totals: dict[str, int]
    cohorts: dict[str, dict[str, int]]
    since: dict[str, datetime]
    targets: dict[str, int]

    @classmethod
    def of(
        cls, achievement_id: str, doc: Mapping[str, Any] | None, name: dict[str, str]
    ) -> AchievementCounters:
        """From a counters document (``None``: nothing counted yet)."""
        doc = doc or {}
        cohorts: dict[str, dict[str, int]] = {}
        since: dict[str, datetime] = {}
        for cohort, values in (doc.get("cohorts") or {}).items():
            cohorts[str(cohort)] = {m: int(values.get(m, 0)) for m in METRICS}
            if isinstance(values.get("since"), datetime):
                since[str(cohort)] = values["since"]
        totals = doc.get("totals") or {}
        return cls(
            achievement_id=achievement_id,
            name=name,
            totals={m: int(totals.get(m, 0)) for m in METRICS},
            cohorts=cohorts,
            since=since,
            targets={str(k): int(v) for k, v in (doc.get("targets") or {}).items()},
        )


def _percent(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole, 1)


def _cohort_order(counters: AchievementCounters) -> list[str]:
    """Batches by first issuance, then the credentials issued one by one."""
    batches = sorted(
        (c for c in counters.cohorts if c != SINGLE),
        key=lambda c: (counters.since.get(c) or datetime.max, c),
    )
    return batches + ([SINGLE] if SINGLE in counters.cohorts else [])


def build_report(
    institution_id: str,
    achievements: Sequence[AchievementCounters],
    series: Sequence[Mapping[str, Any]],
    *,
    k: int,
    now: datetime,
) -> InsightsReport:
    """The whole report, every cell checked against ``k`` and against differencing."""

    def _small(issued: int) -> bool:
        return 0 < issued < k

    issued_total = sum(a.totals["issued"] for a in achievements)
    totals: Counts = {}
    cells: dict[str, Counts] = {a.achievement_id: {} for a in achievements}
    cohort_cells: dict[str, dict[str, Counts]] = {
        a.achievement_id: {c: {} for c in a.cohorts} for a in achievements
    }
    for metric in METRICS:
        total = sum(a.totals[metric] for a in achievements)
        total_shown = not _small(issued_total) and (total == 0 or total >= k)
        totals[metric] = shown(total, not total_shown)
        group = {a.achievement_id: a.totals[metric] for a in achievements}
        small = {a.achievement_id for a in achievements if _small(a.totals["issued"])}
        hidden = hidden_cells(group, k, total_shown=total_shown, small_rows=small)
        for a in achievements:
            hide = a.achievement_id in hidden
            cells[a.achievement_id][metric] = shown(a.totals[metric], hide)
            parts = {c: values[metric] for c, values in a.cohorts.items()}
            small_parts = {c for c, values in a.cohorts.items() if _small(values["issued"])}
            hidden_parts = hidden_cells(parts, k, total_shown=not hide, small_rows=small_parts)
            for cohort, value in parts.items():
                cohort_cells[a.achievement_id][cohort][metric] = shown(
                    value, cohort in hidden_parts
                )
    report_achievements = []
    for a in achievements:
        counts = cells[a.achievement_id]
        targets = {
            metric: TargetProgress(
                target=target,
                actual=counts.get(metric),
                percent=_percent(counts.get(metric), target),
            )
            for metric, target in sorted(a.targets.items())
        }
        cohorts = [
            CohortInsight(
                cohort=c,
                since=a.since[c].date().isoformat() if c in a.since else None,
                counts=cohort_cells[a.achievement_id][c],
            )
            for c in _cohort_order(a)
        ]
        report_achievements.append(
            AchievementInsight(
                achievement_id=a.achievement_id,
                name=a.name,
                counts=counts,
                targets=targets,
                cohorts=cohorts,
            )
        )
    names = {a.achievement_id: a.name for a in achievements}
    return InsightsReport(
        institution_id=institution_id,
        generated_at=now.isoformat(),
        metrics=list(METRICS),
        suppression=Suppression(k=k, rule=RULE),
        totals=totals,
        achievements=report_achievements,
        series=[_funnel(s, cells, names, k) for s in series],
    )


def _funnel(
    series: Mapping[str, Any],
    cells: Mapping[str, Counts],
    names: Mapping[str, dict[str, str]],
    k: int,
) -> SeriesFunnel:
    """M1 → M2 → … → overall: the issued cell of each step's achievement (0 if none issued)."""
    ids = [str(c["achievement_id"]) for c in series.get("components", [])]
    labels = [f"M{n}" for n in range(1, len(ids) + 1)]
    overall = series.get("overall_achievement_id")
    if overall:
        ids.append(str(overall))
        labels.append("overall")
    steps: list[FunnelStep] = []
    first: int | None = None
    for n, (label, achievement_id) in enumerate(zip(labels, ids, strict=True)):
        counted = cells.get(achievement_id)
        # Never issued: an honest 0, which names no one.
        reached = counted.get("issued") if counted is not None else 0
        if n == 0:
            first = reached
        steps.append(
            FunnelStep(
                step=label,
                achievement_id=achievement_id,
                name=names.get(achievement_id, {}),
                reached=reached,
                percent_of_first=_percent(reached, first),
            )
        )
    name = series.get("name") or {}
    return SeriesFunnel(
        series_id=str(series.get("_id", "")),
        name={str(k_): str(v) for k_, v in name.items()},
        steps=steps,
    )
