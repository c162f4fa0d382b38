"""Every hot query of the registry is answered by its primary key (or an index).

``registry_hot_queries.HOT_QUERIES`` runs each request and event path through the registry's own
services; ``sceau_dev.testing.hot_queries`` records what they send and has the server ``explain``
every filter. A query that falls back to a scan of a collection that grows with use fails here,
naming the path and the filter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from registry_hot_queries import HOT_QUERIES, World, fast_signer, prepare

from sceau_dev.testing.hot_queries import is_ferret, problems
from sceau_registry.graph import build_graph
from sceau_registry.settings import SERVICE_NAME, RegistrySettings
from sceau_shared.runtime import open_connections

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(registry_settings: RegistrySettings, mongo_client: Any) -> AsyncIterator[World]:
    async with open_connections(SERVICE_NAME, registry_settings) as runtime:
        graph = await build_graph(registry_settings, runtime, signer=fast_signer)
        await runtime.broker.start()  # the relay publishes; no loop runs in the background
        try:
            yield await prepare(graph, runtime.db)
        finally:
            await graph.close()


async def test_every_registry_hot_query_uses_the_primary_key(
    world: World, mongo_client: Any
) -> None:
    found, checked = await problems(
        world.db, HOT_QUERIES, world, ferret=await is_ferret(mongo_client)
    )
    assert not found, "\n".join(found)
    assert checked > 30  # the listener saw the paths' queries


async def test_events_stored_before_the_markers_are_relayed(
    registry_settings: RegistrySettings, mongo_client: Any
) -> None:
    """An upgraded database: its unpublished events get pending markers once, at start-up."""
    db = mongo_client[registry_settings.mongo.database]
    old = {"topic": "t", "key": "k", "event_type": "x", "payload": "{}", "published": False}
    await db["events"].insert_many(
        [
            {**old, "_id": "old-unpublished", "created_ns": 1},
            {**old, "_id": "old-published", "created_ns": 2, "published": True},
        ]
    )
    async with open_connections(SERVICE_NAME, registry_settings) as runtime:
        graph = await build_graph(registry_settings, runtime, signer=fast_signer)
        try:
            assert [d["_id"] async for d in db["events_pending"].find({})] == ["old-unpublished"]
            assert await db["events_sweeps"].count_documents({}) == 1
            await graph.governance.reconcile()  # every start-up: no marker for published events
            assert await db["events_pending"].count_documents({}) == 1
        finally:
            await graph.close()
    async with open_connections(SERVICE_NAME, registry_settings) as runtime:
        await build_graph(registry_settings, runtime, signer=fast_signer)  # no second sweep
        assert await db["events_sweeps"].count_documents({}) == 1


async def test_keys_stored_before_the_key_index_are_found_by_did(
    registry_settings: RegistrySettings, mongo_client: Any
) -> None:
    """An upgraded database: its keys get their DID slots once, at start-up."""
    db = mongo_client[registry_settings.mongo.database]
    did = "did:web:old.college.example"
    key = {"did": did, "institution_id": "old", "public_key_multibase": "z6Mk"}
    await db["keys"].insert_many(
        [
            {**key, "_id": f"{did}#key-2", "active_from": datetime(2025, 6, 1, tzinfo=UTC)},
            {**key, "_id": f"{did}#key-1", "active_from": datetime(2025, 1, 1, tzinfo=UTC)},
        ]
    )
    async with open_connections(SERVICE_NAME, registry_settings) as runtime:
        graph = await build_graph(registry_settings, runtime, signer=fast_signer)
        snapshot = await graph.trust.snapshot(did)
        assert [k.verification_method for k in snapshot.keys] == [f"{did}#key-1", f"{did}#key-2"]
        assert await db["key_index"].count_documents({}) == 3  # two slots and the marker
    async with open_connections(SERVICE_NAME, registry_settings) as runtime:
        await build_graph(registry_settings, runtime, signer=fast_signer)  # built: nothing again
        assert await db["key_index"].count_documents({}) == 3


def test_the_docs_table_names_every_registry_hot_query() -> None:
    """docs/mongodb-features.md lists each path this test checks (and says what keys it)."""
    docs = Path(__file__).parents[3] / "docs" / "mongodb-features.md"
    rows = [
        r for r in docs.read_text(encoding="utf-8").splitlines() if r.startswith("| registry |")
    ]
    missing = [name for name in HOT_QUERIES if not any(name in r.split("|")[2] for r in rows)]
    assert not missing, missing
