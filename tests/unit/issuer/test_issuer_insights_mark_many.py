"""Grouped acceptance marks (``InsightsRepository.mark_many``): which tallies this call marked.

A wallet group marks its credentials' tallies with one conditional bulk update. When fewer were
updated than asked, each tally is read back: marked by this call (its token), marked by someone
else (counted already), or not marked at all — missing, or made by the issued-event consumer
after the update looked for it (the race that lost one count in CI): those must go to the
one-by-one path, never be taken for counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sceau_issuer.insights.repository import InsightsRepository


@dataclass
class RacingTallies:
    """A tally collection whose documents change between the bulk update and the read-back."""

    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]] = field(default_factory=dict)
    updated: list[str] = field(default_factory=list)

    async def bulk_write(self, requests: list[Any], ordered: bool = True) -> Any:
        modified = 0
        for request in requests:
            key = request._filter["_id"]
            doc = self.before.get(key)
            if doc is not None and doc.get("accepted") is None:
                doc.update(request._doc["$set"])
                self.updated.append(key)
                modified += 1
        # Meanwhile the issued-event consumer inserts the tallies it had not stored yet.
        for key, doc in self.after.items():
            self.before.setdefault(key, doc)

        @dataclass
        class Result:
            modified_count: int

        return Result(modified)

    async def find_one(self, query: dict[str, Any], projection: Any = None) -> Any:
        return self.before.get(query["_id"])


def _repository(tallies: RacingTallies) -> InsightsRepository:
    none = cast(Any, None)
    return InsightsRepository(none, cast(Any, tallies), none, none)


AT = datetime(2026, 12, 6, tzinfo=UTC)


async def test_all_updated_are_all_marked() -> None:
    tallies = RacingTallies(
        {"a": {"_id": "a", "accepted": None}, "b": {"_id": "b", "accepted": None}}
    )
    marked, unmarked = await _repository(tallies).mark_many(["a", "b"], "accepted", AT, "t1")
    assert (marked, unmarked) == ({"a", "b"}, set())


async def test_a_tally_made_after_the_update_is_not_taken_for_counted() -> None:
    tallies = RacingTallies(
        before={
            "mine": {"_id": "mine", "accepted": None},
            "theirs": {"_id": "theirs", "accepted": AT, "accepted_by": "t0"},
        },
        after={"late": {"_id": "late", "accepted": None}},
    )
    marked, unmarked = await _repository(tallies).mark_many(
        ["mine", "theirs", "late", "gone"], "accepted", AT, "t1"
    )
    assert marked == {"mine"}
    # "theirs" was counted by another call; "late" appeared after the update, "gone" never did.
    assert unmarked == {"late", "gone"}
