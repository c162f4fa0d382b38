"""Progressive series order (pure functions, no database)."""

from __future__ import annotations

from typing import Any

from sceau_issuer.series.prerequisites import Missing, Path, missing_for, paths_to


def series(sid: str, structure: str, *ids: str) -> dict[str, Any]:
    return {
        "_id": sid,
        "name": {"en": sid},
        "structure": structure,
        "components": [{"achievement_id": a} for a in ids],
    }


def test_paths_only_from_progressive_series() -> None:
    docs = [
        series("p", "progressive", "m1", "m2", "m3"),
        series("m", "modular", "m1", "m2", "m3"),
        series("h", "hybrid", "m1", "m3"),
        series("other", "progressive", "x1", "x2"),
    ]
    assert paths_to(docs, "m3") == [Path("p", {"en": "p"}, ("m1", "m2"))]
    assert paths_to(docs, "m1") == [Path("p", {"en": "p"}, ())]
    assert paths_to(docs, "nowhere") == []


def test_earlier_components_are_required() -> None:
    [path] = paths_to([series("p", "progressive", "m1", "m2", "m3")], "m3")
    assert missing_for([path], set()) == Missing("p", {"en": "p"}, ("m1", "m2"))
    assert missing_for([path], {"m1"}) == Missing("p", {"en": "p"}, ("m2",))
    assert missing_for([path], {"m1", "m2"}) is None
    assert missing_for([], set()) is None


def test_first_component_needs_nothing() -> None:
    paths = paths_to([series("p", "progressive", "m1", "m2")], "m1")
    assert missing_for(paths, set()) is None


def test_one_satisfied_pathway_is_enough_and_the_closest_is_reported() -> None:
    docs = [
        series("long", "progressive", "a", "b", "c", "shared"),
        series("short", "progressive", "z", "shared"),
    ]
    paths = paths_to(docs, "shared")
    assert missing_for(paths, {"a", "b", "c"}) is None
    assert missing_for(paths, {"z"}) is None
    assert missing_for(paths, set()) == Missing("short", {"en": "short"}, ("z",))
