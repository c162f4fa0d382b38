"""Count what happens to credentials, and report it in aggregate only (R73, R74, R77, R78).

Counted per credential, once: issued (from the issuer's own ``CredentialIssuedV1``), accepted
(the learner's consent, or a wallet taking the offer), shared (a first share link), verified (a
first verification, from the verifier's ``VerificationCompletedV1``, which names the credential
only by the sha256 of its id), revoked (``CredentialStatusChangedV1``). Counted per event:
verifications (every check, share-link openings included: the verifier reports one verification
per opening). No learner data is stored: the tallies are keyed by a hash of the credential id,
and the report holds counts only, small cells suppressed (:mod:`sceau_issuer.insights.report`).

A re-issued credential (``supersedes``) takes over its original's tally (cell and facts), so a
learner counts once per achievement however often their credential is replaced.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.insights.report import AchievementCounters, build_report
from sceau_issuer.insights.repository import FACTS, SINGLE, InsightsRepository
from sceau_issuer.insights.schemas import InsightsReport
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.series.repository import SeriesRepository
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    StatusChange,
    VerificationCompletedV1,
    utcnow,
)


def tally_key(credential_id: str) -> str:
    """The sha256 hex of a credential's id (``urn:uuid:…``), as the verifier's events carry it."""
    urn = credential_id if ":" in credential_id else f"urn:uuid:{credential_id}"
    return hashlib.sha256(urn.encode()).hexdigest()


class OwnDids:
    """Whether a DID is one of this deployment's institutions', from a set refreshed on a miss.

    Asked only for a verification whose credential is not counted yet (rare), so a miss may
    re-read the tenants — at most once per ``refresh_s``: a flood of foreign DIDs costs one
    small scan per interval, not one per event.
    """

    def __init__(
        self,
        load: Callable[[], Awaitable[set[str]]],
        *,
        refresh_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._refresh_s = refresh_s
        self._clock = clock
        self._dids: set[str] = set()
        self._loaded_at: float | None = None

    async def __call__(self, did: str) -> bool:
        """True when ``did`` is (or was) one of our institutions' DIDs."""
        if did in self._dids:
            return True
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_s:
            self._dids = await self._load()
            self._loaded_at = now
        return did in self._dids


class InsightsService:
    """Counters kept as events arrive; the aggregate report read back by primary key."""

    def __init__(
        self,
        repository: InsightsRepository,
        *,
        credentials: CredentialRepository,
        achievements: AchievementRepository,
        series: SeriesRepository,
        threshold: int,
        own_did: Callable[[str], Awaitable[bool]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repo = repository
        self._own_did = own_did
        self._credentials = credentials
        self._achievements = achievements
        self._series = series
        self.threshold = threshold
        self._clock = clock

    # --- counting -----------------------------------------------------------------------------

    async def credential_issued(self, event: CredentialIssuedV1) -> None:
        """Count a new credential (a redelivery, or a re-issue, counts nothing more)."""
        await self._tally(event.institution_id, event.credential_id.removeprefix("urn:uuid:"))

    async def credentials_issued(self, events: Sequence[CredentialIssuedV1]) -> None:
        """Count a consumed batch of new credentials, as :meth:`credential_issued` each.

        Costs one unordered insert of the batch's tallies (a duplicate ``_id`` is a credential
        counted already: a redelivery, or a learner's route that saw it first), one counter
        update per cell with the cell's sum, and one index update per achievement the process
        has not named yet, instead of five commands per credential. No tally is read first:
        the insert's duplicates say what was counted. Two kinds of event keep the per-credential
        path: a replacement (``supersedes``: it takes its original's tally, read by ``_id``), and
        an event written before ``batch_id`` existed (its cohort is read from the credential).
        """
        fresh: dict[str, tuple[CredentialIssuedV1, dict[str, Any]]] = {}
        apart: list[CredentialIssuedV1] = []
        for event in events:
            if event.supersedes or "batch_id" not in event.model_fields_set:
                apart.append(event)
                continue
            key = tally_key(event.credential_id.removeprefix("urn:uuid:"))
            fresh.setdefault(
                key,
                (
                    event,
                    {
                        "_id": key,
                        "i": event.institution_id,
                        "a": event.achievement_id,
                        "c": event.batch_id or SINGLE,
                        **dict.fromkeys(FACTS),
                    },
                ),
            )
        stored = await self._repo.add_tallies([tally for _, tally in fresh.values()])
        waiting = await self._repo.take_pending(stored)
        cells: dict[tuple[str, str, str], tuple[int, datetime]] = {}
        for key in stored:
            event, tally = fresh[key]
            cell = (tally["i"], tally["a"], tally["c"])
            count, since = cells.get(cell, (0, event.issued_at))
            cells[cell] = (count + 1, min(since, event.issued_at))
        for institution_id, achievement_id in dict.fromkeys((i, a) for i, a, _ in cells):
            await self._repo.remember_achievement(institution_id, achievement_id)
        for (institution_id, achievement_id, cohort), (count, since) in cells.items():
            await self._repo.increment(
                institution_id, achievement_id, cohort, "issued", since=since, amount=count
            )
        for key, event_ids in waiting.items():
            await self._count_verifications(fresh[key][1], event_ids)
        # After the batch's own tallies: a replacement of one of them finds its original.
        for event in apart:
            await self.credential_issued(event)

    async def status_changed(self, event: CredentialStatusChangedV1) -> None:
        """Count a revocation (suspensions come and go: not counted)."""
        if event.change is StatusChange.REVOKED:
            await self._fact(
                event.institution_id, event.credential_id.removeprefix("urn:uuid:"), "revoked"
            )

    async def verification(self, event: VerificationCompletedV1) -> None:
        """Count a verification of one of our credentials (others' are not ours to count)."""
        key = event.credential_id_hash
        tally = await self._repo.tally(key)
        if tally is None:
            await self._park(event)
            return
        await self._count_verifications(tally, [str(event.event_id)])

    async def _park(self, event: VerificationCompletedV1) -> None:
        """Keep a verification of our credential whose issued event is not counted yet.

        The verifier names the credential by hash only, so the issuer can tell it is ours only
        by its proven issuer DID. Parked under the hash, it is counted when the tally is made;
        the tally is looked up once more after parking, in case it was made in between.
        """
        if not (event.issuer_proven and event.issuer_did and self._own_did is not None):
            return  # not attributable to us (or no way to tell): not ours to count
        if not await self._own_did(event.issuer_did):
            return
        key = event.credential_id_hash
        await self._repo.park(key, str(event.event_id), self._clock())
        tally = await self._repo.tally(key)
        if tally is not None:
            waiting = await self._repo.take_pending([key])
            await self._count_verifications(tally, waiting.get(key, []))

    async def _count_verifications(self, tally: dict[str, Any], event_ids: list[str]) -> None:
        """Count verification events of one credential (each once; ``verified`` once)."""
        if not event_ids:
            return
        now = self._clock()
        if await self._repo.mark(tally["_id"], "verified", now):
            await self._repo.increment(tally["i"], tally["a"], tally["c"], "verified")
        for event_id in event_ids:
            if await self._repo.first_event(event_id, now):
                await self._repo.increment(tally["i"], tally["a"], tally["c"], "verifications")

    async def count_existing(
        self, institution_id: str, credential_id: str, *, revoked: bool
    ) -> None:
        """Count a credential stored before the counters existed (the backfill; idempotent)."""
        if revoked:
            await self._fact(institution_id, credential_id, "revoked")
        else:
            await self._tally(institution_id, credential_id)

    async def accepted(self, institution_id: str, credential_id: str) -> None:
        """The learner accepted the credential (page or wallet); counted the first time."""
        await self._fact(institution_id, credential_id, "accepted")

    async def accepted_many(self, credentials: Sequence[Mapping[str, Any]]) -> None:
        """Count several acceptances (grouped wallet deliveries), as :meth:`accepted` each.

        ``credentials`` are the stored credential documents, whose achievement and batch name
        each tally's cell, so no tally is read first: one conditional update per credential in
        one command marks them, and one counter update per cell adds the cell's sum. A
        replacement (``supersedes``: it counts in its original's cell) and a credential whose
        tally was not there to mark (its issued event not consumed yet, or consumed while the
        update ran) take the one-by-one path.
        """
        cells: dict[str, tuple[str, str, str]] = {}
        apart: list[tuple[str, str]] = []
        for doc in credentials:
            institution_id, credential_id = str(doc["institution_id"]), str(doc["_id"])
            if doc.get("supersedes") or not doc.get("achievement_id"):
                apart.append((institution_id, credential_id))
                continue
            cohort = str(doc.get("batch_id") or SINGLE)
            cells[tally_key(credential_id)] = (institution_id, str(doc["achievement_id"]), cohort)
        marked, unmarked = await self._repo.mark_many(
            list(cells), "accepted", self._clock(), uuid.uuid4().hex
        )
        sums: dict[tuple[str, str, str], int] = {}
        for key in marked:
            sums[cells[key]] = sums.get(cells[key], 0) + 1
        for (institution_id, achievement_id, cohort), count in sums.items():
            await self._repo.increment(
                institution_id, achievement_id, cohort, "accepted", amount=count
            )
        by_key = {tally_key(str(doc["_id"])): doc for doc in credentials}
        apart += [(cells[key][0], str(by_key[key]["_id"])) for key in unmarked]
        for institution_id, credential_id in apart:
            await self.accepted(institution_id, credential_id)

    async def shared(
        self, institution_id: str, credential_id: str, derived_id: str | None = None
    ) -> None:
        """The learner made a share link; a copy with hidden fields counts as the original."""
        tally = await self._fact(institution_id, credential_id, "shared")
        if tally is not None and derived_id:
            await self._repo.add_alias(tally_key(derived_id), tally["_id"])

    async def _fact(
        self, institution_id: str, credential_id: str, fact: str
    ) -> dict[str, Any] | None:
        tally = await self._tally(institution_id, credential_id)
        if tally is not None and await self._repo.mark(tally["_id"], fact, self._clock()):
            await self._repo.increment(tally["i"], tally["a"], tally["c"], fact)
        return tally

    async def _tally(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        """The credential's tally, made (and ``issued`` counted) on first sight."""
        key = tally_key(credential_id)
        tally = await self._repo.tally(key)
        if tally is not None:
            return tally
        doc = await self._credentials.get(institution_id, credential_id)
        if doc is None:
            return None  # another institution's, or not stored: nothing to count
        tally = {
            "_id": key,
            "i": institution_id,
            "a": str(doc["achievement_id"]),
            "c": str(doc.get("batch_id") or SINGLE),
            **dict.fromkeys(FACTS),
        }
        original = (
            await self._repo.tally(tally_key(str(doc["supersedes"])))
            if doc.get("supersedes")
            else None
        )
        if original is not None:
            # A replacement: same learner, same cell; what they did with it still counts.
            tally.update({"a": original["a"], "c": original["c"]})
            tally.update({f: original.get(f) for f in FACTS if f != "revoked"})
            if await self._repo.add_tally(tally):
                await self._take_pending(tally)
            return tally
        if await self._repo.add_tally(tally):
            issued_at = doc.get("issued_at")
            await self._repo.remember_achievement(institution_id, tally["a"])
            await self._repo.increment(
                institution_id,
                tally["a"],
                tally["c"],
                "issued",
                since=issued_at if isinstance(issued_at, datetime) else None,
            )
            await self._take_pending(tally)
            return tally
        return await self._repo.tally(key)  # counted meanwhile by another consumer

    async def _take_pending(self, tally: dict[str, Any]) -> None:
        """Count the verifications that arrived before this new tally."""
        key = str(tally["_id"])
        waiting = await self._repo.take_pending([key])
        await self._count_verifications(tally, waiting.get(key, []))

    # --- targets and the report ---------------------------------------------------------------

    async def set_targets(
        self, institution_id: str, achievement_id: str, targets: dict[str, int]
    ) -> None:
        """Record an achievement's targets (the caller checked it is the institution's)."""
        await self._repo.set_targets(institution_id, achievement_id, targets)

    async def report(self, institution_id: str) -> InsightsReport:
        """The institution's aggregate report (a few primary-key reads, whatever the data)."""
        counted = []
        for achievement_id in await self._repo.achievements(institution_id):
            doc = await self._repo.counters(institution_id, achievement_id)
            counted.append(
                AchievementCounters.of(
                    achievement_id, doc, await self._name(institution_id, achievement_id)
                )
            )
        return build_report(
            institution_id,
            counted,
            await self._series.all(institution_id),
            k=self.threshold,
            now=self._clock(),
        )

    async def _name(self, institution_id: str, achievement_id: str) -> dict[str, str]:
        doc = await self._achievements.latest(institution_id, achievement_id)
        name = ((doc or {}).get("definition") or {}).get("name") or {}
        return {str(k): str(v) for k, v in name.items()}
