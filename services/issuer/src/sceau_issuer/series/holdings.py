"""Which achievements a learner holds, found by primary key instead of by scanning credentials.

A credential's ``_id`` is derived from (tenant, achievement, version, normalised email, what it
supersedes) (:func:`sceau_issuer.issuing.service.dedupe_key_of`), so "does this learner hold an
active credential of achievement A?" is answered by reading, for each version of A, the one
credential that learner can have, by ``_id``; a credential replaced by a re-issue points at its
replacement (``superseded_by``), which is followed the same way. The cost depends on the number
of versions and re-issues, never on how many credentials the institution has stored: on FerretDB
1.24 (SQLite) any other filter reads and parses every credential document.

Versions are counted by primary key too (:meth:`AchievementRepository.count`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.issuing.dedupe import dedupe_key_of
from sceau_issuer.issuing.repository import CredentialRepository

#: Re-issues followed from one credential at most (a chain longer than this is not expected).
_MAX_HOPS = 16
#: Credential lookups in flight at once for a whole batch chunk.
_PARALLEL = 32


class Holdings:
    """Active credentials of learners for given achievements, by derived ``_id``."""

    def __init__(
        self,
        credentials: CredentialRepository,
        achievements: AchievementRepository,
        derive_id: Callable[[str], str],
    ) -> None:
        self._credentials = credentials
        self._achievements = achievements
        self._derive_id = derive_id

    async def active(
        self, institution_id: str, email_norm: str, achievement_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The learner's active credentials (``_id``, ``achievement_id``, ``issued_at``)."""
        counts = {a: await self._achievements.count(a) for a in dict.fromkeys(achievement_ids)}
        found = await asyncio.gather(
            *(
                self._active_of(institution_id, a, version, email_norm)
                for a, count in counts.items()
                for version in range(1, count + 1)
            )
        )
        return [doc for doc in found if doc is not None]

    async def held_by(
        self, institution_id: str, achievement_ids: Sequence[str], emails: Sequence[str]
    ) -> dict[str, set[str]]:
        """Which of ``achievement_ids`` each learner holds an active credential of."""
        gate = asyncio.Semaphore(_PARALLEL)

        async def one(email: str) -> tuple[str, list[dict[str, Any]]]:
            async with gate:
                return email, await self.active(institution_id, email, achievement_ids)

        held: dict[str, set[str]] = {}
        for email, docs in await asyncio.gather(*(one(e) for e in dict.fromkeys(emails))):
            if docs:
                held[email] = {str(d["achievement_id"]) for d in docs}
        return held

    async def _active_of(
        self, institution_id: str, achievement_id: str, version: int, email_norm: str
    ) -> dict[str, Any] | None:
        """The active credential of one version's chain of re-issues, if any."""
        credential_id = self._derive_id(
            dedupe_key_of(institution_id, achievement_id, version, email_norm)
        )
        for _ in range(_MAX_HOPS):
            doc = await self._credentials.holding(institution_id, credential_id)
            if doc is None:
                return None
            if doc.get("status") == "active":
                return doc
            if not doc.get("superseded_by"):
                return None
            credential_id = str(doc["superseded_by"])
        return None
