"""Single issues through the issuer's HTTP server: CPU per credential, alternating rounds.

``bench/issue.py`` times every path once per pass; this one times only ``POST
/v1/credentials`` (the issuer under uvicorn, as deployed: ``python -m sceau_issuer``, real
Kafka and the MongoDB-protocol server) in several rounds, and counts the issuer's CPU until the
round's work is *finished*: every credential answered, every ``NotificationRequestedV1`` read
back from Kafka and the issuer idle again (its learner-contact consumer included). CPU per
credential does not depend on what else a shared machine runs; throughput and latency do, so
they are reported beside it but compared only within one run.

With ``--compare DIR`` a second issuer runs the sources under ``DIR`` (for example an exported
earlier commit: ``git archive BASE | tar -x -C DIR``), each on its own database and topics, and
the rounds alternate between the two, so a change is measured against its baseline under the
same load. With ``--seeded N`` the second issuer runs this tree too, on a database first loaded
with N stored credentials (copies of one it signed, with their published outbox history): the
field's scale and an empty database side by side (issue 19's targets are on the seeded one).
With ``--replicas N`` this tree's issuer runs as N processes on one database and one set of
topics (as Kubernetes runs two replicas, ``deploy/k8s``), the clients' connections spread over
them in turn, their CPU summed; ``--env ISSUER_SIGN_WORKERS=1`` gives each one signing process.

Usage::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/single_http.py [--count 400] [--rounds 3] [--clients 16] \\
        [--compare /tmp/base | --seeded 250000] [--replicas 2] [--client lean|httpx]

The load generator shares the machine's two cores with the issuer: by default it is
``bench/lean_http.py`` (one kept-alive HTTP/1.1 connection per client, ~0.2 ms of CPU per
request); ``--client httpx`` is the one every figure before 2026-12-06 13:40 UTC used (~1.6 ms).
Its CPU per credential is printed beside the issuer's, FerretDB's and Kafka's. Each round also
prints its cohorts (``bench/cohorts.py``): the requests the clients sent together and how long
each such cohort waited, since a round's p99 is its slowest cohort or two.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from cohorts import cohorts
from issue import (  # bench/ is on the path
    ACHIEVEMENT,
    cpu_snapshot,
    notifications,
    onboard,
    pids_named,
    prefill,
    raw_signing_rate,
)
from lean_http import LeanConnection
from procfs import cpu_seconds, tree_cpu_seconds
from pymongo import AsyncMongoClient

from sceau_dev.testing.stack import Stack, StackConfig, free_ports
from sceau_dev.testing.topics import drop_topics
from sceau_shared.settings import KafkaSettings


@dataclass
class Issuer:
    """One issuer under test (one process, or several replicas of one deployment) and its figures.

    ``replicas``: the other processes of the same deployment (``--replicas``), each a stack of
    its own (own port and logs) on the same database and topics, as Kubernetes runs the issuer.
    """

    label: str
    stack: Stack
    kafka: KafkaSettings
    database: str
    base: str
    headers: dict[str, str] = field(default_factory=dict)
    achievement: str = ""
    rounds: list[dict[str, float]] = field(default_factory=list)
    replicas: list[tuple[Stack, str]] = field(default_factory=list)

    @property
    def stacks(self) -> list[Stack]:
        """The stack of every process of the deployment, the first one first."""
        return [self.stack, *(replica for replica, _ in self.replicas)]

    @property
    def pids(self) -> list[int]:
        """Every process of the deployment (their trees hold the signing processes)."""
        found = []
        for stack in self.stacks:
            process = stack["issuer"].process
            assert process is not None  # noqa: S101 - started
            found.append(process.pid)
        return found

    @property
    def bases(self) -> list[str]:
        """Where each process listens; clients' connections are spread over them in turn."""
        return [self.base, *(base for _, base in self.replicas)]

    def stop(self) -> None:
        """Stop every process of the deployment."""
        for stack in self.stacks:
            stack.stop()


def start(label: str, kafka_servers: str, mongo_uri: str, args: Any, source: str | None) -> Issuer:
    run = uuid.uuid4().hex[:8]
    env = {
        "ISSUER_SIGN_WORKERS": str(args.sign_workers),
        "ISSUER_TELEMETRY__LOG_LEVEL": "WARNING",
    }
    if source is None:  # settings tried on this tree's issuer only (``--env``)
        env.update(dict(pair.split("=", 1) for pair in args.env))
    if source:
        root = Path(source)
        env["PYTHONPATH"] = os.pathsep.join(
            str(root / part)
            for part in ("services/issuer/src", "shared/core/src", "shared/engine/src")
        )
    config = StackConfig(
        kafka_bootstrap=kafka_servers,
        mongo_uri=mongo_uri,
        log_dir=Path(tempfile.mkdtemp(prefix=f"sceau-bench-single-{label}-")),
        topic_prefix=f"single{run}.",
        database_prefix=f"bench_single_{run}_",
        ports=free_ports(),
        issuer_master_key=base64.b64encode(os.urandom(32)).decode(),
        services=("issuer",),
        status_debounce_s=None,
        rate_limit_per_minute=1_000_000,
        extra_env={"issuer": env},
    )
    stack = Stack(config)
    stack["issuer"].start()
    kafka = KafkaSettings(bootstrap_servers=kafka_servers, topic_prefix=config.topic_prefix)
    issuer = Issuer(label, stack, kafka, f"{config.database_prefix}issuer", config.url("issuer"))
    for n in range(1, args.replicas if source is None else 1):
        more = replace(
            config,
            ports=free_ports(),
            log_dir=Path(tempfile.mkdtemp(prefix=f"sceau-bench-single-{label}-{n}-")),
        )
        replica = Stack(more)
        replica["issuer"].start()
        issuer.replicas.append((replica, more.url("issuer")))
    return issuer


async def prepare(issuer: Issuer, client: AsyncMongoClient[dict[str, Any]]) -> None:
    """Registered, accredited, an API key, a published achievement, a warm-up."""
    for stack in issuer.stacks:
        await asyncio.to_thread(stack["issuer"].wait_ready, 300)
    issuer.headers = await onboard(
        issuer.kafka,
        client[issuer.database],
        f"bench-{uuid.uuid4().hex[:6]}",
        issuer.stack.config.issuer_master_key,
    )
    async with httpx.AsyncClient(base_url=issuer.base, headers=issuer.headers, timeout=120) as http:
        created = (await http.post("/v1/achievements", json=ACHIEVEMENT)).json()
        issuer.achievement = str(created["achievement_id"])
        published = await http.post(f"/v1/achievements/{issuer.achievement}/publish")
        published.raise_for_status()
    await one_round(issuer, "warm", 64, clients=16, record=False)


async def idle(pids: list[int], *, maximum_s: float = 30.0) -> None:
    """Until the issuer's trees used under 2 % of a core over 0.5 s (their trailing work done)."""
    deadline = time.perf_counter() + maximum_s
    while time.perf_counter() < deadline:
        before = sum(tree_cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(0.5)
        if sum(tree_cpu_seconds(pid) for pid in pids) - before < 0.01:
            return


Post = Callable[[dict[str, Any], dict[str, str]], Awaitable[tuple[int, str]]]


@dataclass
class Senders:
    """One ``post`` per client and how to close them."""

    posts: list[Post]
    close: Callable[[], Awaitable[None]]


def senders(issuer: Issuer, lean: bool, clients: int) -> Senders:
    """``clients`` ways to POST /v1/credentials: lean kept-alive connections, or httpx.

    With replicas, client ``i`` talks to replica ``i mod n`` (as a Kubernetes Service spreads
    kept-alive connections).
    """
    bases = issuer.bases
    if lean:
        connections = [
            LeanConnection(bases[i % len(bases)], issuer.headers) for i in range(clients)
        ]

        def lean_post(connection: LeanConnection) -> Post:
            async def post(body: dict[str, Any], headers: dict[str, str]) -> tuple[int, str]:
                answer = await connection.post_json("/v1/credentials", body, headers)
                return answer.status, answer.body.decode(errors="replace")

            return post

        async def close_all() -> None:
            for connection in connections:
                await connection.close()

        return Senders([lean_post(c) for c in connections], close_all)
    https = [httpx.AsyncClient(base_url=b, headers=issuer.headers, timeout=120) for b in bases]

    def httpx_post(http: httpx.AsyncClient) -> Post:
        async def post(body: dict[str, Any], headers: dict[str, str]) -> tuple[int, str]:
            answer = await http.post("/v1/credentials", json=body, headers=headers)
            return answer.status_code, answer.text

        return post

    async def close_clients() -> None:
        for http in https:
            await http.aclose()

    return Senders([httpx_post(https[i % len(https)]) for i in range(clients)], close_clients)


async def one_round(
    issuer: Issuer,
    name: str,
    count: int,
    *,
    clients: int,
    record: bool = True,
    lean: bool = True,
) -> None:
    emails = [f"{name}-u{i}@example.org" for i in range(count)]
    ready = asyncio.Event()
    marks: dict[str, float] = {}
    watcher = asyncio.create_task(notifications(issuer.kafka, set(emails), ready, marks))
    await asyncio.wait_for(ready.wait(), timeout=120)
    await idle(issuer.pids)
    queue = list(reversed(emails))
    latencies: list[float] = []
    sent: list[tuple[float, float]] = []  # (sent at, latency): the round's cohorts
    send = senders(issuer, lean, clients)

    async def client(post: Post) -> None:
        while queue:
            email = queue.pop()
            body = {
                "achievement_id": issuer.achievement,
                "recipient": {"email": email, "name": "Learner"},
            }
            started = time.perf_counter()
            status, text = await post(body, {"Idempotency-Key": email})
            latencies.append(time.perf_counter() - started)
            sent.append((started, latencies[-1]))
            if status != 201:
                raise RuntimeError(f"{status} {text[:300]}")

    try:
        before = cpu_snapshot(*issuer.pids) | others()
        started = time.perf_counter()
        await asyncio.gather(*(client(post) for post in send.posts))
        wall = time.perf_counter() - started
    finally:
        await send.close()
    try:
        await asyncio.wait_for(watcher, timeout=300)
    except TimeoutError:
        print(f"  [{issuer.label}] not every notification seen on Kafka in 300 s", flush=True)
        raise
    on_kafka = marks["last"] - started
    await idle(issuer.pids)
    after = cpu_snapshot(*issuer.pids) | others()
    if not record:
        return
    ordered = sorted(latencies)
    issuer.rounds.append(
        {
            "rate": count / wall,
            "p50": 1000 * ordered[len(ordered) // 2],
            "p99": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "on_kafka_s": on_kafka,
            "issuer_ms": 1000 * (after["issuer"] - before["issuer"]) / count,
            "ferret_ms": 1000 * (after["ferretdb"] - before["ferretdb"]) / count,
            "client_ms": 1000 * (after["client"] - before["client"]) / count,
            "kafka_ms": 1000 * (after["kafka"] - before["kafka"]) / count,
            "load": os.getloadavg()[0],
        }
    )
    last = issuer.rounds[-1]
    print(
        f"  [{issuer.label}] {count} issues: {last['rate']:.1f}/s, p50 {last['p50']:.0f} ms, "
        f"p99 {last['p99']:.0f} ms, events on Kafka after {on_kafka:.2f} s; CPU per "
        f"credential: issuer {last['issuer_ms']:.2f} ms, FerretDB {last['ferret_ms']:.2f} ms, "
        f"Kafka {last['kafka_ms']:.2f} ms, load generator {last['client_ms']:.2f} ms "
        f"(load {last['load']:.1f})",
        flush=True,
    )
    print(f"  [{issuer.label}] {cohorts(sent).line()}", flush=True)


def others() -> dict[str, float]:
    """CPU seconds of the rest of the machine's work: the Kafka broker and this process.

    This process is the load generator (its HTTP clients) and the Kafka watcher; both share
    the two cores with the issuer, so their cost is part of what bounds the throughput.
    """
    return {
        "kafka": sum(cpu_seconds(p) for p in pids_named("java")),
        "client": time.process_time(),
    }


def summary(issuer: Issuer) -> dict[str, float]:
    keys = issuer.rounds[0].keys()
    return {k: statistics.median(r[k] for r in issuer.rounds) for k in keys}


def paired(issuers: list[Issuer]) -> str | None:
    """Round by round, the second issuer's rate ÷ the first's, for two issuers.

    Rounds alternate so that the host's drift hits both alike; on a shared host whose speed
    moves by a sixth within minutes, the ratios of the pairs and how often one side was ahead
    tell more than the ratio of two medians.
    """
    if len(issuers) != 2:
        return None
    first, second = issuers
    ratios = [b["rate"] / a["rate"] for a, b in zip(first.rounds, second.rounds, strict=False)]
    if not ratios:
        return None
    ahead = sum(ratio > 1 for ratio in ratios)
    return (
        f"{second.label} ÷ {first.label}, credentials/s round by round: "
        f"{', '.join(f'{ratio:.2f}' for ratio in ratios)}; median {statistics.median(ratios):.2f}; "
        f"{second.label} ahead in {ahead} of {len(ratios)} rounds"
    )


def issuer_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every alternating-rounds issuer benchmark takes (``bench/batch_http.py`` too)."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sign-workers", type=int, default=2)
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="processes of this tree's issuer, on one database and one set of topics (each with "
        "--sign-workers signing processes; the --compare one stays a single process)",
    )
    parser.add_argument("--raw", type=int, default=300, help="credentials for the raw rate")
    parser.add_argument("--compare", help="a source tree run as the baseline issuer")
    parser.add_argument(
        "--seeded",
        type=int,
        default=0,
        help="a second issuer of this tree on a database holding this many credentials",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an environment setting for this tree's issuer only (the --compare one keeps its "
        "defaults): with --compare on this same tree, a setting is measured against its default",
    )


def start_issuers(
    args: Any, parser: argparse.ArgumentParser, kafka_servers: str, mongo_uri: str
) -> list[Issuer]:
    """This tree's issuer, and the ``--compare`` or ``--seeded`` one it alternates with."""
    if args.compare and args.seeded:
        parser.error("--compare and --seeded are exclusive")
    issuers = [start("this", kafka_servers, mongo_uri, args, None)]
    if args.compare:
        issuers.insert(0, start("base", kafka_servers, mongo_uri, args, args.compare))
    if args.seeded:
        issuers[0].label = "empty"
        issuers.append(start("seeded", kafka_servers, mongo_uri, args, None))
    return issuers


async def seed(db: Any, count: int) -> None:
    """Load ``count`` copies of a credential the issuer signed while warming up."""
    template = await db["credentials"].find_one({})
    if template is None:
        raise RuntimeError("no credential to copy")
    print(f"seeding {count} credentials ...", flush=True)
    took = await prefill(db, template, count)
    print(f"seeded in {took:.1f} s (a count would read them all on FerretDB)", flush=True)


async def at_rest(issuers: list[Issuer], *, quiet_s: float, maximum_s: float) -> None:
    """Wait until the database server and the issuers are idle after the seeding.

    The field's volume is a database at rest, not one still absorbing 250,000 credentials loaded
    in two minutes (a write-ahead log to fold in, a heap to collect). A guard: FerretDB was idle
    within the first second in every run measured (docs/benchmarks.md, 2026-12-08), and the CPU
    of each second is printed so that a store still busy would show. Quiet: under 10 % of a core
    in every 1-s window for ``quiet_s`` in a row (at most ``maximum_s``).
    """

    def busy() -> tuple[float, float]:
        ferret = sum(cpu_seconds(p) for p in pids_named("ferretdb"))
        return ferret, sum(tree_cpu_seconds(p) for i in issuers for p in i.pids)

    started, quiet, seconds = time.perf_counter(), 0.0, []
    while time.perf_counter() - started < maximum_s and quiet < quiet_s:
        before = busy()
        await asyncio.sleep(1)
        after = busy()
        used = (after[0] - before[0], after[1] - before[1])
        seconds.append(f"{used[0]:.2f}/{used[1]:.2f}")
        quiet = quiet + 1 if sum(used) < 0.1 else 0.0
    print(
        f"at rest after {time.perf_counter() - started:.0f} s; CPU-seconds per second "
        f"(FerretDB/issuers): {' '.join(seconds)}",
        flush=True,
    )


async def stop_all(issuers: list[Issuer], client: AsyncMongoClient[dict[str, Any]]) -> None:
    """Stop every issuer and drop its database and its topics (a broker slows with stale ones)."""
    for issuer in issuers:
        issuer.stop()
        await client.drop_database(issuer.database)
        await drop_topics(issuer.kafka.bootstrap_servers, issuer.kafka.topic_prefix)
    await client.close()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400, help="issues per round")
    parser.add_argument("--clients", type=int, default=16)
    issuer_arguments(parser)
    parser.add_argument(
        "--client",
        choices=("lean", "httpx"),
        default="lean",
        help="load generator: kept-alive raw HTTP/1.1 (bench/lean_http.py) or httpx",
    )
    args = parser.parse_args()
    kafka_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    mongo_uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    issuers = start_issuers(args, parser, kafka_servers, mongo_uri)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    raws: list[float] = []
    try:
        for issuer in issuers:
            await prepare(issuer, client)
            print(f"issuer {issuer.label}: pids {issuer.pids} (for a profiler)", flush=True)
        if args.seeded:
            await seed(client[issuers[-1].database], args.seeded)
            await at_rest(issuers, quiet_s=5, maximum_s=180)
        for n in range(args.rounds):
            rate, _ = await raw_signing_rate(args.raw)
            raws.append(rate)
            print(f"round {n + 1}: raw one-core signing {rate:.0f}/s", flush=True)
            order = issuers if n % 2 == 0 else list(reversed(issuers))
            for issuer in order:
                await one_round(
                    issuer, f"r{n}", args.count, clients=args.clients, lean=args.client == "lean"
                )
    finally:
        await stop_all(issuers, client)
    raw = statistics.median(raws)
    print()
    print(
        f"medians of {args.rounds} rounds, {args.count} issues each, {args.clients} clients "
        f"({args.client} load generator)"
    )
    print(
        "| issuer | credentials/s | ÷ raw | p50 ms | p99 ms | issuer CPU ms | FerretDB CPU ms "
        "| Kafka CPU ms | load generator CPU ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for issuer in issuers:
        s = summary(issuer)
        print(
            f"| {issuer.label} | {s['rate']:.1f} | {s['rate'] / raw:.2f} | {s['p50']:.0f} | "
            f"{s['p99']:.0f} | {s['issuer_ms']:.2f} | {s['ferret_ms']:.2f} | "
            f"{s['kafka_ms']:.2f} | {s['client_ms']:.2f} |"
        )
    print(f"raw one-core signing (median): {raw:.0f}/s")
    pairs = paired(issuers)
    if pairs is not None:
        print(pairs)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
