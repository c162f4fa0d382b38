"""Every hot query of the issuer is answered by its primary key (or an index), and stays cheap.

``issuer_hot_queries.HOT_QUERIES`` runs each request and event path through the issuer's own
services; a PyMongo command listener records what they send and the server ``explain``s every
filter (``sceau_dev.testing.hot_queries``, shared with the registry and the notifier). On
FerretDB 1.24 (SQLite) a plan must read ``SEARCH ... USING INDEX <collection>__id_`` (see
tests/integration/foundation/test_mongo_id_lookups.py); on MongoDB an ``_id`` or index stage.
A query that falls back to a scan — someone filters credentials by a field again — fails here,
naming the path and the filter, before it makes issuing slower with every credential stored.

The cost test times one such query (the series rule: does this learner hold these modules?)
with 200 and with 20,000 credentials stored: its cost must not follow the data.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from issuer_hot_queries import HOT_QUERIES, World, prepare
from pymongo import AsyncMongoClient

from sceau_dev.testing.hot_queries import is_ferret, problems
from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.graph import build_graph
from sceau_issuer.issuing.dedupe import dedupe_key_of
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.series.holdings import Holdings
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_issuer.vault import Vault
from sceau_shared.runtime import open_connections
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(settings: IssuerSettings, mongo_client: Any) -> AsyncIterator[World]:
    async with open_connections(SERVICE_NAME, settings) as runtime:
        graph = await build_graph(settings, runtime)
        await runtime.broker.start()  # the relays publish; no loop runs in the background
        try:
            yield await prepare(graph, runtime.db)
        finally:
            await graph.close()


async def test_every_hot_query_uses_the_primary_key(world: World, mongo_client: Any) -> None:
    found, checked = await problems(
        world.db, HOT_QUERIES, world, ferret=await is_ferret(mongo_client)
    )
    assert not found, "\n".join(found)
    assert checked > 50  # the listener saw the paths' queries


# --- cost does not grow with the data ----------------------------------------------------------


def _credential(n: int, institution: str, achievement: str, vault: Vault) -> dict[str, Any]:
    """A stored credential of realistic size (~3 KB: the signed document dominates)."""
    email = f"learner{n}@example.org"
    cid = vault.credential_id(dedupe_key_of(institution, achievement, 1, email))
    return {
        "_id": cid,
        "institution_id": institution,
        "achievement_id": achievement,
        "achievement_version": 1,
        "recipient": {"email": email, "name": f"Learner {n}", "email_norm": email},
        "status": "active",
        "status_alloc": "fam/0",
        "status_index": n,
        "issued_at": time.time(),
        "dedupe": uuid.uuid4().hex,
        "idem": uuid.uuid4().hex,
        "document": {"proof": "x" * 2500, "credentialSubject": {"id": f"mailto:{email}"}},
    }


async def _median_lookup_s(
    holdings: Holdings, institution: str, achievement: str, *, prefix: str = "learner"
) -> float:
    """Median time of "does this learner hold it?" (``prefix="nobody"``: learners who do not)."""
    timings = []
    for n in range(25):
        started = time.perf_counter()
        held = await holdings.held_by(institution, [achievement], [f"{prefix}{n}@example.org"])
        timings.append(time.perf_counter() - started)
        assert bool(held) == (prefix == "learner"), n
    return statistics.median(timings)


async def test_holdings_cost_does_not_grow_with_credentials(
    mongo_client: AsyncMongoClient[dict[str, Any]], mongo_settings: MongoSettings
) -> None:
    db = mongo_client[mongo_settings.database]
    vault = Vault(bytes(range(32)))
    institution, achievement = "inst-cost", uuid.uuid4().hex
    await db["achievements"].insert_one(
        {"_id": f"{achievement}@1", "institution_id": institution, "version": 1}
    )
    holdings = Holdings(
        CredentialRepository(db["credentials"]),
        AchievementRepository(db["achievements"]),
        vault.credential_id,
    )
    small, large = 200, 20_000
    for start in range(0, small, 1000):
        await db["credentials"].insert_many(
            [_credential(n, institution, achievement, vault) for n in range(start, small)]
        )
    few = await _median_lookup_s(holdings, institution, achievement)
    few_missing = await _median_lookup_s(holdings, institution, achievement, prefix="nobody")
    for start in range(small, large, 1000):
        await db["credentials"].insert_many(
            [
                _credential(n, institution, achievement, vault)
                for n in range(start, min(start + 1000, large))
            ]
        )
        await asyncio.sleep(0)
    many = await _median_lookup_s(holdings, institution, achievement)
    many_missing = await _median_lookup_s(holdings, institution, achievement, prefix="nobody")
    # A scan of 20,000 documents is ~100x a scan of 200; a keyed lookup stays flat. The bound
    # is generous for a loaded two-core machine (medians of 25 runs each). A lookup that finds
    # nothing (the learner lacks the module) must stay flat too.
    report = f"{few * 1000:.2f} ms with {small} stored, {many * 1000:.2f} ms with {large}"
    assert many < 3 * few + 0.002, report
    report = f"missing: {few_missing * 1000:.2f} ms, then {many_missing * 1000:.2f} ms"
    assert many_missing < 3 * few_missing + 0.002, report


async def test_status_changes_made_before_the_log_are_logged_once(
    settings: IssuerSettings, mongo_client: AsyncMongoClient[dict[str, Any]]
) -> None:
    """A list re-signed after the upgrade keeps the credentials revoked before it."""
    db = mongo_client[settings.mongo.database]
    base = {"institution_id": "t", "status_alloc": "fam/0", "status_changed_at": None}
    await db["credentials"].insert_many(
        [
            {**base, "_id": "revoked", "status": "revoked", "status_index": 7},
            {**base, "_id": "suspended", "status": "suspended", "status_index": 8},
            {**base, "_id": "active", "status": "active", "status_index": 9},
        ]
    )
    async with open_connections(SERVICE_NAME, settings) as runtime:
        graph = await build_graph(settings, runtime)
        try:
            log = graph.repositories.status_changes
            assert await log.credentials_of("fam/0") == {"revoked", "suspended"}
            await log.backfill(graph.repositories.credentials.flagged())  # a second start-up
            assert await db["status_changes"].count_documents({}) == 3  # two entries + marker
        finally:
            await graph.close()
