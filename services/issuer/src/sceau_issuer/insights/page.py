"""The insights page: bar charts drawn as inline SVG, each beside its table (FR/EN, no script).

Every chart is an ``<svg role="img">`` named by a short title and a description that reads its
figures out; the same figures follow in a table (the text alternative, and what a screen reader
or a print-out uses). Suppressed cells are drawn as an empty dashed bar labelled as hidden, never
as zero. Nothing is fetched: styles are inline, there are no images, fonts or scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from sceau_issuer.insights.schemas import InsightsReport

_ENV = Environment(
    loader=PackageLoader("sceau_issuer.insights", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Indicateurs de l'établissement",
        "other_language": "English",
        "intro": "Comptes agrégés seulement : aucune donnée par apprenant.",
        "suppression": (
            "Les comptes inférieurs à {k} sont masqués. Dans chaque total affiché "
            "(établissement, titre), d'autres cellules sont masquées, les plus petites d'abord, "
            "jusqu'à ce que les cellules masquées du groupe totalisent au moins {k} : un total "
            "ne permet jamais de retrouver une cellule masquée."
        ),
        "generated": "Produit le {at}",
        "totals": "Tous les titres",
        "achievements": "Par titre",
        "cohorts": "Cohortes",
        "cohort": "Cohorte",
        "single": "Émis un par un",
        "batch": "Lot {id}",
        "since": "depuis le {date}",
        "metric": "Indicateur",
        "count": "Nombre",
        "hidden": "masqué (moins de {k})",
        "hidden_short": "masqué",
        "targets": "Cibles",
        "target": "Cible",
        "actual": "Réel",
        "percent": "Atteint",
        "funnels": "Parcours : progression par module",
        "step": "Étape",
        "reached": "Apprenants",
        "of_first": "Part du module 1",
        "overall": "Titre global",
        "chart": "Graphique : {name}",
        "chart_desc": "Diagramme à barres. {items}.",
        "none": "Rien à afficher pour le moment.",
        "csv": "Télécharger en CSV",
        "issued": "Émis",
        "accepted": "Acceptés",
        "shared": "Partagés",
        "verified": "Vérifiés (au moins une fois)",
        "verifications": "Vérifications",
        "revoked": "Révoqués",
        "colon": " : ",
    },
    "en": {
        "title": "Institution insights",
        "other_language": "Français",
        "intro": "Aggregate counts only: no per-learner data.",
        "suppression": (
            "Counts below {k} are hidden. Within every total shown (institution, achievement), "
            "more cells are hidden, smallest first, until the hidden cells of the group add up "
            "to at least {k}: no total can give a hidden cell back."
        ),
        "generated": "Generated {at}",
        "totals": "All achievements",
        "achievements": "By achievement",
        "cohorts": "Cohorts",
        "cohort": "Cohort",
        "single": "Issued one by one",
        "batch": "Batch {id}",
        "since": "since {date}",
        "metric": "Metric",
        "count": "Count",
        "hidden": "hidden (fewer than {k})",
        "hidden_short": "hidden",
        "targets": "Targets",
        "target": "Target",
        "actual": "Actual",
        "percent": "Reached",
        "funnels": "Series: progression per module",
        "step": "Step",
        "reached": "Learners",
        "of_first": "Share of module 1",
        "overall": "Overall credential",
        "chart": "Chart: {name}",
        "chart_desc": "Bar chart. {items}.",
        "none": "Nothing to show yet.",
        "csv": "Download as CSV",
        "issued": "Issued",
        "accepted": "Accepted",
        "shared": "Shared",
        "verified": "Verified (at least once)",
        "verifications": "Verifications",
        "revoked": "Revoked",
        "colon": ": ",
    },
}

#: Chart geometry (SVG user units; the SVG scales to its container).
_WIDTH, _LABEL_W, _BAR_H, _GAP, _VALUE_W = 640, 230, 22, 8, 120


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, laid out."""

    label: str
    value: int | None
    text: str
    y: int
    width: int

    @property
    def hidden(self) -> bool:
        """A suppressed cell: drawn as an empty dashed outline."""
        return self.value is None


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart and the words that describe it."""

    id: str
    title: str
    description: str
    bars: list[Bar]
    height: int
    width: int = _WIDTH
    label_width: int = _LABEL_W
    bar_height: int = _BAR_H


def chart(
    chart_id: str, title: str, items: list[tuple[str, int | None]], t: dict[str, str], k: int
) -> Chart:
    """Lay out a bar chart of ``items`` (label, value or None when suppressed)."""
    span = _WIDTH - _LABEL_W - _VALUE_W
    top = max([v for _, v in items if v is not None] + [1])
    bars = []
    for n, (label, value) in enumerate(items):
        text = str(value) if value is not None else t["hidden"].format(k=k)
        width = span if value is None else max(round(span * value / top), 1 if value else 0)
        bars.append(Bar(label, value, text, _GAP + n * (_BAR_H + _GAP), width))
    pairs = "; ".join(f"{b.label}{t['colon']}{b.text}" for b in bars)
    description = t["chart_desc"].format(items=pairs)
    return Chart(
        id=chart_id,
        title=t["chart"].format(name=title),
        description=description,
        bars=bars,
        height=_GAP + len(items) * (_BAR_H + _GAP),
    )


def _name(name: dict[str, str], lang: str, fallback: str) -> str:
    return name.get(lang) or next(iter(name.values()), fallback)


def render_page(report: InsightsReport, *, lang: str, institution: str) -> str:
    """The report as an HTML page in ``lang`` (``fr`` or ``en``)."""
    t = TEXTS[lang]
    k = report.suppression.k
    metric_names = [t[m] for m in report.metrics]

    def bars_of(counts: dict[str, int | None]) -> list[tuple[str, int | None]]:
        return [(t[m], counts.get(m)) for m in report.metrics]

    achievements = []
    for n, a in enumerate(report.achievements):
        name = _name(a.name, lang, a.achievement_id)
        cohorts = [
            {
                "label": t["single"]
                if c.cohort == "single"
                else t["batch"].format(id=c.cohort[:8]),
                "since": t["since"].format(date=c.since) if c.since else "",
                "cells": [c.counts.get(m) for m in report.metrics],
            }
            for c in a.cohorts
        ]
        achievements.append(
            {
                "name": name,
                "id": a.achievement_id,
                "chart": chart(f"a{n}", name, bars_of(a.counts), t, k),
                "cohorts": cohorts,
                "targets": [
                    {"metric": t[m], "target": p.target, "actual": p.actual, "percent": p.percent}
                    for m, p in a.targets.items()
                ],
            }
        )
    funnels = []
    for n, s in enumerate(report.series):
        name = _name(s.name, lang, s.series_id)
        steps = [
            {
                "label": t["overall"] if step.step == "overall" else step.step,
                "name": _name(step.name, lang, step.achievement_id),
                "reached": step.reached,
                "percent": step.percent_of_first,
            }
            for step in s.steps
        ]
        funnels.append(
            {
                "name": name,
                "chart": chart(
                    f"s{n}",
                    name,
                    [
                        (f"{st['label']} — {st['name']}", step.reached)
                        for st, step in zip(steps, s.steps, strict=True)
                    ],
                    t,
                    k,
                ),
                "steps": steps,
            }
        )
    return _ENV.get_template("insights.html").render(
        lang=lang,
        other="en" if lang == "fr" else "fr",
        t=t,
        k=k,
        institution=institution,
        generated=t["generated"].format(at=report.generated_at[:16].replace("T", " ") + " UTC"),
        suppression=t["suppression"].format(k=k),
        metric_names=metric_names,
        totals_chart=chart("total", t["totals"], bars_of(report.totals), t, k),
        totals=[report.totals.get(m) for m in report.metrics],
        achievements=achievements,
        funnels=funnels,
    )
