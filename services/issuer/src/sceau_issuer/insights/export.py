"""The insights report as CSV: one long table, a row per published figure.

Columns: ``table`` (total, achievement, cohort, target, funnel), ``series_id``,
``achievement_id``, ``name_fr``, ``name_en``, ``cohort``, ``step``, ``metric``, ``value`` (empty
when suppressed), ``suppressed`` (``true``/``false``), ``target``, ``percent``. Text cells that a
spreadsheet would take for a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io

from sceau_issuer.insights.schemas import Counts, InsightsReport

COLUMNS = (
    "table",
    "series_id",
    "achievement_id",
    "name_fr",
    "name_en",
    "cohort",
    "step",
    "metric",
    "value",
    "suppressed",
    "target",
    "percent",
)


def _text(value: str) -> str:
    """Neutralise spreadsheet formulas in text the institution typed (achievement names)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _figure(value: int | None) -> dict[str, str]:
    return {"value": "" if value is None else str(value), "suppressed": str(value is None).lower()}


def to_csv(report: InsightsReport) -> str:
    """The report as CSV text (UTF-8, comma-separated, header first)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()

    def counts(table: str, values: Counts, **where: str) -> None:
        for metric in report.metrics:
            writer.writerow(
                {"table": table, "metric": metric, **where, **_figure(values.get(metric))}
            )

    counts("total", report.totals)
    for achievement in report.achievements:
        named = {
            "achievement_id": achievement.achievement_id,
            "name_fr": _text(achievement.name.get("fr", "")),
            "name_en": _text(achievement.name.get("en", "")),
        }
        counts("achievement", achievement.counts, **named)
        for cohort in achievement.cohorts:
            counts("cohort", cohort.counts, **named, cohort=cohort.cohort)
        for metric, progress in achievement.targets.items():
            writer.writerow(
                {
                    "table": "target",
                    **named,
                    "metric": metric,
                    **_figure(progress.actual),
                    "target": str(progress.target),
                    "percent": "" if progress.percent is None else str(progress.percent),
                }
            )
    for series in report.series:
        for step in series.steps:
            writer.writerow(
                {
                    "table": "funnel",
                    "series_id": series.series_id,
                    "achievement_id": step.achievement_id,
                    "name_fr": _text(step.name.get("fr", "")),
                    "name_en": _text(step.name.get("en", "")),
                    "step": step.step,
                    "metric": "issued",
                    **_figure(step.reached),
                    "percent": "" if step.percent_of_first is None else str(step.percent_of_first),
                }
            )
    return out.getvalue()
