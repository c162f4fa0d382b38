"""Lookups by primary key use the ``_id`` index on the server our tests and demo run on.

FerretDB 1.24 as published never uses its ``_id`` index on SQLite (its queries name another
expression than the index), so every lookup by ``_id`` scans the collection; ``sceau infra``
builds it with that corrected (``sceau_dev.infra.mongo_server.FERRETDB_ADJUSTMENTS``). This
checks the plan the server reports, not a timing.
"""

import json

import pytest

pytestmark = pytest.mark.integration


async def _plan(db, collection: str, filter_: dict[str, object]) -> str:
    answer = await db.command("explain", {"find": collection, "filter": filter_})
    return json.dumps(answer.get("queryPlanner"), default=str)


async def test_lookups_by_id_use_the_index(mongo_client, mongo_settings) -> None:
    db = mongo_client[mongo_settings.database]
    await db["items"].insert_many([{"_id": f"k{n}", "tenant": "t"} for n in range(20)])
    info = await mongo_client.admin.command("buildInfo")
    by_id = await _plan(db, "items", {"_id": "k7"})
    # Tenant-scoped lookups name the institution beside the id; they must use the index too.
    scoped = await _plan(db, "items", {"_id": "k7", "tenant": "t"})
    if "ferretdbVersion" in info:
        assert "USING INDEX" in by_id, by_id
        assert "USING INDEX" in scoped, scoped
        assert "SCAN" in await _plan(db, "items", {"tenant": "t"})
    else:
        for plan in (by_id, scoped):
            assert any(stage in plan for stage in ("IDHACK", "EXPRESS", "IXSCAN")), plan
