"""Checking that a service's hot queries are primary-key (or index) lookups: shared test helpers.

Each service's hot-query test (``tests/integration/<service>/test_<service>_hot_queries.py``)
runs its request and event paths through the service's own objects while :data:`RECORDER`, a
PyMongo command listener, notes every filter they send; :func:`problems` then has the server
``explain`` each one. On FerretDB 1.24 (SQLite) only an ``_id`` equality uses an index — any other
filter reads and parses every document of its collection — so a plan must read ``SEARCH ...
USING INDEX``; on MongoDB an ``_id`` or index stage. ``aggregate``, ``count``, ``distinct`` fail
outright unless the collection is ``bounded`` (its size does not grow with use).

The listener is registered when this module is imported, so import it before the test creates
its MongoDB clients (module level of the test file).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

__all__ = ["RECORDER", "HotQuery", "Recorder", "is_ferret", "problems", "uses_key"]

#: Commands that carry a filter, and where it is.
_FILTERS: dict[str, Callable[[Mapping[str, Any]], list[Mapping[str, Any]]]] = {
    "find": lambda c: [c.get("filter") or {}],
    "update": lambda c: [u.get("q") or {} for u in c.get("updates", [])],
    "delete": lambda c: [d.get("q") or {} for d in c.get("deletes", [])],
    "findAndModify": lambda c: [c.get("query") or {}],
}


def _no_filter(command: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return []


#: Commands a hot path must never send: they read a whole collection on FerretDB.
_SCANNING = frozenset({"aggregate", "count", "distinct", "mapReduce"})


@dataclass(frozen=True)
class HotQuery:
    """A path, what it is keyed by, and the collections it may read whole (bounded by design)."""

    path: str
    key: str
    run: Callable[[Any], Awaitable[None]]
    bounded: frozenset[str] = frozenset()
    #: Collections this path still filters by a field although they grow with use: a known,
    #: documented scan on FerretDB (the docs table says why it is not restructured yet).
    scans: frozenset[str] = frozenset()


@dataclass
class Recorder(monitoring.CommandListener):
    """Records the filters sent to ``database`` while ``on`` (one listener per process)."""

    on: bool = False
    database: str = ""
    seen: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.on or event.database_name != self.database:
            return
        name = event.command_name
        command = event.command
        collection = str(command.get(name, ""))
        with self.lock:
            if name in _SCANNING:
                self.seen.append((name, collection, {"<scan>": True}))
            for flt in _FILTERS.get(name, _no_filter)(command):
                self.seen.append((name, collection, dict(flt)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


RECORDER = Recorder()
monitoring.register(RECORDER)  # clients created from now on report to it (off by default)


async def is_ferret(client: Any) -> bool:
    """Whether the server is FerretDB (its plans read differently from MongoDB's)."""
    return "ferretdbVersion" in await client.admin.command("buildInfo")


def uses_key(plan: str, ferret: bool) -> bool:
    """Whether an ``explain`` plan (JSON text) reads by the primary key or an index."""
    if ferret:
        return "USING INDEX" in plan and "SCAN " not in plan
    return any(s in plan for s in ("IDHACK", "EXPRESS", "IXSCAN")) and "COLLSCAN" not in plan


async def _plan(db: Any, collection: str, flt: dict[str, Any]) -> str:
    answer = await db.command("explain", {"find": collection, "filter": flt})
    # FerretDB plans nothing for a collection not made yet: make it, then ask again.
    if not answer.get("queryPlanner") and collection not in await db.list_collection_names():
        await db.create_collection(collection)
        answer = await db.command("explain", {"find": collection, "filter": flt})
    return json.dumps(answer.get("queryPlanner"), default=str)


async def _problem(
    db: Any, hot: HotQuery, command: str, collection: str, flt: dict[str, Any], ferret: bool
) -> str | None:
    if collection in hot.bounded or collection in hot.scans:
        return None
    if "<scan>" in flt:
        return f"{command} on {collection} reads the whole collection"
    plan = await _plan(db, collection, flt)
    if not uses_key(plan, ferret):
        return f"{command} on {collection} with {flt!r} is not keyed: {plan}"
    return None


async def problems(
    db: Any, entries: Mapping[str, HotQuery], world: Any, *, ferret: bool
) -> tuple[list[str], int]:
    """Run every entry in order on ``world``; the filters that are not keyed, and how many were.

    Returns:
        One line per problem (entry name, path, command, filter, plan) and the number of
        filters checked (a test asserts it is not zero: the listener saw the paths).
    """
    found: list[str] = []
    checked = 0
    for name, hot in entries.items():
        RECORDER.database, RECORDER.seen, RECORDER.on = db.name, [], True
        try:
            await hot.run(world)
        finally:
            RECORDER.on = False
        for command, collection, flt in RECORDER.seen:
            problem = await _problem(db, hot, command, collection, flt, ferret)
            checked += 1
            if problem:
                found.append(f"{name} ({hot.path}): {problem}")
    return found, checked
