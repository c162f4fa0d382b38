"""Progressive series: a component is issued only to learners who hold the components before it.

In a ``progressive`` series the components are ordered (field requirement A.12, "ordered
prerequisites"): component *n* requires an active credential of every component before it. Modular
and hybrid (core + electives) series have no order and add no prerequisite.

When an achievement belongs to several progressive series (a module shared by two pathways),
holding the earlier components of *any one* of them is enough: a learner following one pathway is
not asked for the other pathway's modules.

Cost: one query on the (small) ``series`` collection per achievement and, only for achievements
that have prerequisites, primary-key lookups of the learners' credentials (one per earlier
component version and learner: :class:`sceau_issuer.series.holdings.Holdings`), never a scan of
``credentials``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sceau_issuer.series.holdings import Holdings
from sceau_issuer.series.repository import SeriesRepository
from sceau_issuer.series.schemas import SeriesStructure


@dataclass(frozen=True)
class Path:
    """The components a progressive series requires before one of its components."""

    series_id: str
    series_name: dict[str, str]
    before: tuple[str, ...]


@dataclass(frozen=True)
class Missing:
    """What a learner lacks to receive a component: the earlier components of one series."""

    series_id: str
    series_name: dict[str, str]
    achievement_ids: tuple[str, ...]


def paths_to(series_docs: Iterable[dict[str, Any]], achievement_id: str) -> list[Path]:
    """The progressive paths leading to ``achievement_id`` (empty: no prerequisite at all).

    A series where the achievement is the first component yields a path with nothing ``before``,
    which every learner satisfies.
    """
    paths = []
    for doc in series_docs:
        if doc.get("structure") != SeriesStructure.PROGRESSIVE:
            continue
        ids = [str(c["achievement_id"]) for c in doc.get("components", [])]
        if achievement_id not in ids:
            continue
        paths.append(
            Path(
                series_id=str(doc["_id"]),
                series_name=dict(doc.get("name") or {}),
                before=tuple(ids[: ids.index(achievement_id)]),
            )
        )
    return paths


def missing_for(paths: Sequence[Path], held: set[str]) -> Missing | None:
    """What is missing given the achievements ``held``; None when one path is satisfied."""
    if not paths:
        return None
    shortfalls = []
    for path in paths:
        lacking = tuple(a for a in path.before if a not in held)
        if not lacking:
            return None
        shortfalls.append(Missing(path.series_id, path.series_name, lacking))
    return min(shortfalls, key=lambda m: len(m.achievement_ids))


class ProgressionRules:
    """Reads series and holdings to tell which learners lack a progressive prerequisite."""

    def __init__(self, series: SeriesRepository, holdings: Holdings) -> None:
        self._series = series
        self._holdings = holdings

    async def paths(self, institution_id: str, achievement_id: str) -> list[Path]:
        """Progressive paths of this institution that lead to ``achievement_id``."""
        docs = await self._series.with_component(
            institution_id, achievement_id, progressive_only=True
        )
        return paths_to(docs, achievement_id)

    async def missing(
        self, institution_id: str, achievement_id: str, emails: Sequence[str]
    ) -> dict[str, Missing]:
        """Learners (normalised emails) who lack a prerequisite, with what they lack."""
        paths = await self.paths(institution_id, achievement_id)
        if not paths or all(not p.before for p in paths) or not emails:
            return {}
        needed = sorted({a for p in paths for a in p.before})
        held = await self._holdings.held_by(institution_id, needed, list(set(emails)))
        out: dict[str, Missing] = {}
        for email in emails:
            lacking = missing_for(paths, held.get(email, set()))
            if lacking is not None:
                out[email] = lacking
        return out
