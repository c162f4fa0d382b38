"""Where a single issue's time goes: commands per credential and an in-process profile.

Runs the issuer's app in this process (lifespan, relays and all, real Kafka and the
MongoDB-protocol server), issues ``--count`` credentials through ``POST /v1/credentials`` with
``--clients`` in flight over an in-process ASGI transport, waits until the credentials relay has
published every event, and reports:

* the database commands sent per credential (a PyMongo command listener; request and relay),
  by command and collection;
* the database commands include the insights consumer's: the run waits until it has counted
  every credential (its counter polled; the polls taken off);
* the issuer CPU per credential (this process: the HTTP client is in it too, a small share);
* with ``--profile FILE``, a cProfile of the timed part (``python -m pstats FILE``).

Usage::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/single_profile.py [--count 320] [--clients 16] [--profile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import os
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from issue import ACHIEVEMENT, pids_named  # bench/ is on the path
from procfs import cpu_seconds, tree_cpu_seconds
from pydantic import SecretStr
from pymongo import AsyncMongoClient, monitoring

from sceau_credentials.ob3.models import ACHIEVEMENT_TYPES
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.topics import drop_topics
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.app import create_api
from sceau_issuer.graph import IssuerGraph
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    InstitutionRegisteredV1,
    InstitutionStatus,
)
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings


class Commands(monitoring.CommandListener):
    """Counts the commands sent to one database while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.database = ""
        self.seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on and event.database_name == self.database:
            name = event.command_name
            with self._lock:
                self.seen[(name, str(event.command.get(name, "")))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


COMMANDS = Commands()
monitoring.register(COMMANDS)


async def setup(graph: IssuerGraph, http: httpx.AsyncClient) -> tuple[dict[str, str], str, str]:
    """A registered, accredited institution, an API key and a published achievement."""
    institution = f"inst-{uuid.uuid4().hex[:8]}"
    registered = {
        "producer": "bench",
        "institution_id": institution,
        "legal_name": {"fr": "Collège", "en": "College"},
        "category": "college",
        "jurisdiction": "CA-ON",
    }
    await graph.tenants.register(InstitutionRegisteredV1.model_validate(registered))
    now = datetime.now(UTC)
    every_type = AccreditationScope(
        achievement_types=sorted(ACHIEVEMENT_TYPES), valid_from=now - timedelta(days=1)
    )
    accredited = {"institution_id": institution, "status": InstitutionStatus.ACTIVE}
    await graph.tenants.apply_accreditation(
        AccreditationChangedV1(
            producer="bench", scopes=[every_type], effective_at=now, **accredited
        )
    )
    token = (await graph.api_keys.create(institution, "bench", list(Scope))).token
    headers = {"Authorization": f"Bearer {token}"}
    created = (await http.post("/v1/achievements", json=ACHIEVEMENT, headers=headers)).json()
    achievement = str(created["achievement_id"])
    published = await http.post(f"/v1/achievements/{achievement}/publish", headers=headers)
    published.raise_for_status()
    return headers, achievement, institution


async def run(args: argparse.Namespace) -> None:
    kafka = KafkaSettings(
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        topic_prefix=f"prof{uuid.uuid4().hex[:6]}.",
    )
    database = f"prof_single_{uuid.uuid4().hex[:8]}"
    mongo_uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    settings = IssuerSettings(
        kafka=kafka,
        mongo=MongoSettings(uri=mongo_uri, database=database),
        http=HttpSettings(public_base_url="http://issuer.test", rate_limit_per_minute=1_000_000),
        master_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        registry_public_url="http://registry.test",
        sign_workers=args.sign_workers,
    )
    app = create_api(settings)
    try:
        async with LifespanManager(app, startup_timeout=120, shutdown_timeout=30) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://issuer.test"
            ) as http:
                graph: IssuerGraph = app.state.graph
                headers, achievement, institution = await setup(graph, http)
                counted = Counted(mongo_uri, database, f"{institution}|{achievement}")
                try:
                    await timed(graph, http, headers, achievement, args, database, counted)
                finally:
                    await counted.close()
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        await client.drop_database(database)
        await client.close()
        await drop_topics(kafka.bootstrap_servers, kafka.topic_prefix)


class Counted:
    """How many credentials the insights counted (``issued``), by polling their counter.

    The polls are sent to the measured database: they are counted, and taken off the table.
    """

    def __init__(self, uri: str, database: str, counter_id: str) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        self._counters = self._client[database]["insights_counters"]
        self._id = counter_id
        self.polls = 0

    async def issued(self) -> int:
        self.polls += 1
        doc = await self._counters.find_one({"_id": self._id})
        return int(((doc or {}).get("totals") or {}).get("issued") or 0)

    async def close(self) -> None:
        await self._client.close()


async def timed(
    graph: IssuerGraph,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    achievement: str,
    args: argparse.Namespace,
    database: str,
    counted: Counted,
) -> None:
    # Warm up (first signature loads the JSON-LD contexts; caches fill). On a loaded machine
    # the first one can outlast the request's 10-s database deadline (503): the same key again
    # is answered from what it stored.
    for n in range(4):
        body = {"achievement_id": achievement, "recipient": {"email": f"warm{n}@example.org"}}
        for _ in range(5):
            answer = await http.post(
                "/v1/credentials", json=body, headers={**headers, "Idempotency-Key": f"warm{n}"}
            )
            if answer.status_code != 503:
                break
        answer.raise_for_status()
    relay = graph.relays.credentials
    await eventually(lambda: relay.published >= 8, timeout_s=60, message="warm-up events")

    async def counted_upto(total: int) -> bool:
        return await counted.issued() >= total

    # The insights consumer counts the warm-up before the timed part starts.
    await eventually(lambda: counted_upto(4), timeout_s=120, message="warm-up counted")
    queue = list(range(args.count))
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            n = queue.pop()
            started = time.perf_counter()
            answer = await http.post(
                "/v1/credentials",
                json={"achievement_id": achievement, "recipient": {"email": f"u{n}@example.org"}},
                headers={**headers, "Idempotency-Key": f"u{n}"},
            )
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 201:
                raise RuntimeError(f"{answer.status_code} {answer.text[:300]}")

    published = relay.published
    COMMANDS.database, COMMANDS.on = database, True
    profile = cProfile.Profile() if args.profile else None
    cpu, started = tree_cpu_seconds(os.getpid()), time.perf_counter()
    ferret = sum(cpu_seconds(p) for p in pids_named("ferretdb"))
    if profile is not None:
        profile.enable()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    wall = time.perf_counter() - started
    await eventually(
        lambda: relay.published >= published + 2 * args.count,
        timeout_s=600,
        message="events on Kafka",
        interval_s=0.01,
    )
    drained = time.perf_counter() - started
    # ... and until the insights consumer has counted every credential (its commands belong to
    # the single issue's cost: it runs for each credential issued).
    polls = counted.polls
    await eventually(
        lambda: counted_upto(4 + args.count),
        timeout_s=600,
        message="credentials counted by the insights",
        interval_s=0.05,
    )
    counted_after = time.perf_counter() - started
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    cpu = tree_cpu_seconds(os.getpid()) - cpu
    ferret = sum(cpu_seconds(p) for p in pids_named("ferretdb")) - ferret
    COMMANDS.on = False
    COMMANDS.seen[("find", "insights_counters")] -= counted.polls - polls  # the polls above
    ordered = sorted(latencies)
    total = sum(COMMANDS.seen.values())
    print(
        f"{args.count} issues, {args.clients} clients: {args.count / wall:.1f}/s "
        f"(events on Kafka after {drained:.2f} s, counted by the insights after "
        f"{counted_after:.2f} s), p50 {1000 * ordered[len(ordered) // 2]:.0f} "
        f"ms, p99 {1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]:.0f} ms"
    )
    print(
        f"CPU per credential: issuer {1000 * cpu / args.count:.1f} ms (process and signing "
        f"workers, HTTP client included), FerretDB {1000 * ferret / args.count:.1f} ms "
        "(the whole server: other clients included)"
    )
    print(f"database commands: {total / args.count:.2f} per credential")
    for (name, collection), count in COMMANDS.seen.most_common():
        print(f"  {count / args.count:6.2f}  {name:<14} {collection}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=320)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--sign-workers", type=int, default=2)
    parser.add_argument("--profile", help="write a cProfile of the timed part here")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
