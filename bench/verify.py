"""Verifier benchmark: HTTP throughput and latency with warm caches, and revocation propagation.

Run (needs the dev Kafka and MongoDB-protocol server, see docs/benchmarks.md)::

    uv run python bench/verify.py

What it does, in one run so that the ratios compare like with like on the same machine:

1. **Baseline** — the credential engine in this process (one core), best of 3 interleaved
   rounds: ``verify_proof`` (signature only) and the engine's full ``verify`` (structure, proof,
   validity, status from an in-memory list, no issuer registry) over the same distinct OB 3.0
   (``ob3-v2``, eddsa-rdfc-2022) credentials the service gets.
2. **Service** — ``python -m sceau_verifier`` as a separate process tree (``--workers``, default
   2 = ``VERIFIER_WORKERS``, one per core; ``--pin`` with one worker pins it and the baseline to
   one core and the load to the others), with a loopback registry stand-in serving the status
   list and the trust answers. Every worker's caches are warmed (status list, trust answers, DID
   resolution). 32 concurrent HTTP/1.1 clients (closed loop,
   one keep-alive connection each, pre-encoded requests so that the load generator takes as
   little CPU as possible from the verifier on a 2-core machine) then ``POST /v1/verify``:

   * *distinct* — every request is a credential the verifier has never seen (each proof is
     canonicalized and checked): the cost of a first check;
   * *repeat* — a pool of credentials checked again and again (the same bytes within seconds:
     the kept answers of ``sceau_verifier.kept_answers``, sent by ``api/kept_gate.py``; the
     proof memo when an answer is not kept): the cost of an applicant-tracking system
     re-checking files or a link reloaded;
   * *paced* — the repeat pool again, the 32 clients together offering half of the repeat
     throughput at fixed intervals (open loop): latency when the verifier is not saturated.
     With 32 requests always in flight (closed loop), latency is 32 / throughput by Little's law,
     whatever the code does.

3. **Propagation** — 100 times: revoke an index (re-sign the list), publish
   ``StatusListPublishedV1`` to Kafka, and poll ``POST /v1/verify`` until the answer says
   "revoked". Measured from just before publication to the first "revoked" answer.

4. **The field's shape** (``--seeded``, default 60: the field's institutions) — the
   *distinct* and *repeat* loads again in two rounds (one institution, then the field; the
   field, then one institution; every distinct load on credentials of its own, all after the
   field's warm-up). The field is 60 institutions, each with its own key, registry standing and
   131,072-entry revocation list (``--revoked`` entries set in each of the 59 others: some
   thousands in all). In both shapes the credentials are issued at any second of the past year
   (not in one cohort, whose shared proof date the engine's memo would answer): the two differ
   only by the data the verifier has to know. The verifier keeps nothing per credential, so
   what could grow with the field is what it caches per institution (status lists, trust
   answers, DID documents) and per issuance date (trust answers: the stand-in then sends the
   registry's answer windows, as the registry does). Both figures, their ratio and the registry
   requests each load made are printed.

``--issuer`` measures propagation the way users see it instead: the real registry, issuer and
verifier run as processes (``sceau_dev.testing.stack``), a college is onboarded, 100
credentials are issued through the issuer's API, and each is revoked with
``POST /v1/credentials/{id}/revoke``; the clock starts when that call returns and stops at the
verifier's first "revoked" answer. The issuer's own status debounce (default 1 s, to re-sign a
list once for a burst of changes) is included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from procfs import tree_cpu_seconds

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.status import MIN_ENTRIES, ListStatusChecker
from sceau_credentials.verification import verify
from sceau_dev.infra.process import free_port
from sceau_dev.testing.credentials import Issuer, StatusList
from sceau_dev.testing.journeys import check as check_of
from sceau_dev.testing.journeys import issue as issue_via_api
from sceau_dev.testing.journeys import onboard
from sceau_dev.testing.journeys import verify as verify_via_api
from sceau_dev.testing.polling import eventually_sync
from sceau_dev.testing.registry_stand_in import RegistryStandIn
from sceau_dev.testing.stack import Stack, StackConfig, free_ports, running_stack
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings


def check(condition: object, detail: object) -> None:
    if not condition:
        raise RuntimeError(f"benchmark precondition failed: {detail}")


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


# --- the registry stand-in, in its own thread and event loop ---------------------------------


class RegistryThread:
    def __init__(self, registry: RegistryStandIn) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            registry.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RegistryThread:
        self.thread.start()
        eventually_sync(
            lambda: self.server.started,
            timeout_s=20,
            interval_s=0.02,
            message="registry stand-in started",
            error=RuntimeError,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# --- baseline: the engine in this process ------------------------------------------------------


async def baseline(
    credentials: Sequence[Mapping[str, Any]], signed_list: Mapping[str, Any], seconds: float
) -> dict[str, float]:
    resolver = CompositeResolver({"key": DidKeyResolver()})

    class InMemory:
        async def fetch(self, url: str) -> Mapping[str, Any]:
            return signed_list

    list_outcome = await verify_proof(dict(signed_list), resolver)

    async def proof_or_list(document: Any, res: Any) -> Any:
        if document is signed_list:
            return list_outcome
        return await verify_proof(document, res)

    checker = ListStatusChecker(InMemory(), resolver, proof_verifier=proof_or_list)
    rates: dict[str, float] = {}
    # Interleaved rounds, best kept: every operation sees the same background load.
    for _ in range(3):
        for name in ("verify_proof", "verify"):
            done, start, cpu = 0, time.perf_counter(), time.process_time()
            while time.perf_counter() - start < seconds / 3:
                credential = dict(credentials[done % len(credentials)])
                if name == "verify_proof":
                    outcome = await verify_proof(credential, resolver)
                    check(outcome.verified, outcome.reason)
                else:
                    result = await verify(credential, resolver=resolver, status=checker)
                    check(result.verified, result.checks)
                done += 1
            rate = done / (time.perf_counter() - start)
            rates[name] = max(rates.get(name, 0.0), rate)
            # CPU-time rate: what one core-second buys, whatever else runs on the machine.
            per_cpu = done / max(1e-9, time.process_time() - cpu)
            rates[f"{name}/cpu"] = max(rates.get(f"{name}/cpu", 0.0), per_cpu)
    return rates


# --- the verifier process ----------------------------------------------------------------------


SERVICE_CORE = max(os.sched_getaffinity(0))
"""The verifier process, and the baseline before it, run on this core; the load on the others."""


def pin(pid: int, cores: set[int]) -> None:
    if cores:
        os.sched_setaffinity(pid, cores)


def verifier_stack(
    registry_base: str, kafka: KafkaSettings, *, workers: int, cpus: set[int] | None
) -> Stack:
    """The verifier alone (the one stack launcher), its registry being the loopback stand-in."""
    ports = free_ports() | {"registry": int(httpx.URL(registry_base).port or 80)}
    return Stack(
        StackConfig(
            kafka_bootstrap=kafka.bootstrap_servers,
            mongo_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/"),
            log_dir=Path(tempfile.mkdtemp(prefix="sceau-bench-verify-")),
            topic_prefix=kafka.topic_prefix,
            database_prefix=f"bench_verify_{uuid.uuid4().hex[:8]}_",
            ports=ports,
            services=("verifier",),
            rate_limit_per_minute=0,
            cpus={"verifier": frozenset(cpus)} if cpus else {},
            extra_env={
                "verifier": {
                    "VERIFIER_WORKERS": str(workers),
                    "VERIFIER_STATUS__DEFAULT_TTL_S": "3600",
                    "VERIFIER_INVALIDATION_OFFSET_RESET": "earliest",
                    "VERIFIER_TELEMETRY__LOG_LEVEL": "WARNING",
                }
            },
        )
    )


class RawClient:
    """A minimal keep-alive HTTP/1.1 client: the load generator must leave the CPU to the server.

    httpx costs 1.5-3 ms of CPU per request here (h11 in pure Python), which on a 2-core machine
    is CPU taken from the verifier being measured. Requests are pre-encoded; responses are read
    by ``Content-Length`` (the verifier never uses chunked encoding for these answers).
    """

    def __init__(self, base: str) -> None:
        url = httpx.URL(base)
        self._host, self._port = url.host, url.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @staticmethod
    def request(path: str, body: bytes, host: str) -> bytes:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None  # noqa: S101 - set together with the writer
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


def encoded(base: str, credentials: Sequence[Mapping[str, Any]]) -> list[bytes]:
    host = base.removeprefix("http://")
    return [RawClient.request("/v1/verify", json.dumps(c).encode(), host) for c in credentials]


@dataclass
class Load:
    requests: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        """Verifier CPU per request: what one core-second buys, independent of other load."""
        return self.server_cpu_s * 1000 / max(1, self.requests)

    @property
    def client_cpu_ms(self) -> float:
        return self.client_cpu_s * 1000 / max(1, self.requests)


async def measured(pid: int, run: Awaitable[Load]) -> Load:
    """Run a load phase and record the verifier's and this process's CPU time during it."""
    server, client = tree_cpu_seconds(pid), time.process_time()
    result = await run
    result.server_cpu_s = tree_cpu_seconds(pid) - server
    result.client_cpu_s = time.process_time() - client
    return result


async def load(
    base: str,
    requests: Sequence[bytes],
    *,
    clients: int,
    seconds: float,
    cycle: bool,
) -> Load:
    """Closed loop: ``clients`` tasks, one connection each, until time or requests run out."""
    latencies: list[float] = []
    position = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal position
        client = RawClient(base)
        try:
            while time.perf_counter() < deadline:
                if not cycle and position >= len(requests):
                    return
                raw = requests[position % len(requests)]
                position += 1
                started = time.perf_counter()
                status, body = await client.send(raw)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200 or b'"verified":true' not in body:
                    raise RuntimeError(f"unexpected answer: {body[:500]!r}")
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return Load(len(latencies), time.perf_counter() - started, latencies)


async def paced(
    base: str,
    requests: Sequence[bytes],
    *,
    clients: int,
    rate: float,
    seconds: float,
) -> Load:
    """Open loop: ``clients`` tasks together offering ``rate`` requests/s at fixed intervals."""
    latencies: list[float] = []
    interval = clients / rate
    deadline = time.perf_counter() + seconds

    async def client_loop(number: int) -> None:
        client = RawClient(base)
        next_at = time.perf_counter() + interval * number / clients
        sent = 0
        try:
            while next_at < deadline:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                raw = requests[(number + sent * clients) % len(requests)]
                started = time.perf_counter()
                status, body = await client.send(raw)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200 or b'"verified":true' not in body:
                    raise RuntimeError(f"unexpected answer: {body[:500]!r}")
                sent += 1
                next_at += interval
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return Load(len(latencies), time.perf_counter() - started, latencies)


async def propagation(
    base: str,
    issuer: Issuer,
    status_list: StatusList,
    credentials: Sequence[tuple[Mapping[str, Any], int]],
    kafka: KafkaSettings,
) -> list[float]:
    broker = create_broker(kafka, client_id="bench-issuer")
    await broker.connect()
    publisher = EventPublisher(broker, kafka, producer="sceau-issuer")
    delays: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for credential, index in credentials:
                first = (await http.post("/v1/verify", json=credential)).json()
                check(first["verified"], first["checks"])
                await issuer.set_status(status_list, index, True)
                event = issuer.published(status_list, institution_id="bench")
                started = time.perf_counter()
                await publisher.publish(event)
                while True:
                    answer = (await http.post("/v1/verify", json=credential)).json()
                    status = next(c for c in answer["checks"] if c["name"] == "status")
                    if status["status"] == "failed":
                        break
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("revocation not visible after 30 s")
                delays.append((time.perf_counter() - started) * 1000)
    finally:
        await broker.stop()
    return delays


async def propagation_via_issuer(args: argparse.Namespace) -> list[float]:
    """Revocation propagation with the real issuer and registry processes (see module docstring)."""
    logs = Path(tempfile.mkdtemp(prefix="sceau-bench-"))
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    mongo = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    delays: list[float] = []
    run = uuid.uuid4().hex[:8]
    config = StackConfig(
        kafka_bootstrap=kafka,
        mongo_uri=mongo,
        log_dir=logs,
        topic_prefix=f"bench{run}.",
        database_prefix=f"bench_{run}_",
        ports=free_ports(),
        services=("registry", "issuer", "verifier"),
        rate_limit_per_minute=0,
        status_debounce_s=args.debounce,
        extra_env={"issuer": {"ISSUER_SIGN_WORKERS": "0"}},
    )
    with running_stack(config) as stack:
        async with httpx.AsyncClient(timeout=30) as http:
            college = await onboard(http, stack, "Bench")
            issued = []
            for n in range(args.revocations):
                issued.append(await issue_via_api(http, stack, college, f"l{n}@example.org"))
            for detail in issued:
                first = await verify_via_api(http, stack, detail["document"])
                check(first["verified"], first["checks"])
            for detail in issued:
                response = await http.post(
                    f"{stack.url('issuer')}/v1/credentials/{detail['credential_id']}/revoke",
                    headers=college.auth,
                    json={"reason_code": "issued-in-error"},
                )
                check(response.status_code == 200, response.text)
                started = time.perf_counter()
                while True:
                    answer = await verify_via_api(http, stack, detail["document"])
                    if check_of(answer, "status")["status"] == "failed":
                        break
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("revocation not visible after 30 s")
                delays.append((time.perf_counter() - started) * 1000)
    return delays


async def issue_many(
    issuer: Issuer, status_list: StatusList, count: int, issued_at: datetime
) -> list[tuple[dict[str, Any], int]]:
    out: list[tuple[dict[str, Any], int]] = []
    for _ in range(count):
        credential, index = await issuer.issue(lists=[status_list], issued_at=issued_at)
        if not isinstance(credential, dict):
            raise TypeError("ob3-v2 credentials are JSON objects")
        out.append((credential, index))
    return out


#: Revoked entries of the field's other institutions sit above every index the benchmark issues.
REVOKED_FROM = MIN_ENTRIES // 2


async def field_institutions(
    registry: RegistryStandIn, base: str, count: int, revoked: int, rng: random.Random
) -> list[tuple[Issuer, StatusList]]:
    """``count`` more institutions, registered, each with a signed list holding ``revoked``."""
    made: list[tuple[Issuer, StatusList]] = []
    for number in range(count):
        issuer = Issuer(name={"fr": f"Collège {number + 2}", "en": f"College {number + 2}"})
        status_list = issuer.add_list(base, "revocation")
        status_list.ttl_ms = 3_600_000
        for index in rng.sample(range(REVOKED_FROM, MIN_ENTRIES), revoked):
            status_list.bits.set(index, True)
        await issuer.sign_list(status_list)
        registry.register(issuer)
        made.append((issuer, status_list))
    return made


async def issue_spread(
    institutions: Sequence[tuple[Issuer, StatusList]], count: int, rng: random.Random
) -> list[dict[str, Any]]:
    """``count`` credentials, institution after institution, each dated within the past year."""
    now = datetime.now(UTC).replace(microsecond=0)
    out: list[dict[str, Any]] = []
    for number in range(count):
        issuer, status_list = institutions[number % len(institutions)]
        issued_at = now - timedelta(seconds=rng.randrange(3600, 365 * 86400))
        ((credential, _),) = await issue_many(issuer, status_list, 1, issued_at)
        out.append(credential)
    return out


@dataclass
class Shape:
    """Credentials of one shape: a distinct pool per round and a repeat pool."""

    distinct: list[list[dict[str, Any]]]
    repeat: list[dict[str, Any]]


def registry_requests(registry: RegistryStandIn) -> int:
    """Status list and trust requests the stand-in has answered so far."""
    return registry.list_requests + registry.issuer_requests


async def asked_during(registry: RegistryStandIn, run: Awaitable[Load]) -> tuple[Load, int]:
    """The load's figures and the registry requests made while it ran."""
    before = registry_requests(registry)
    result = await run
    return result, registry_requests(registry) - before


async def main(args: argparse.Namespace) -> None:
    if args.issuer:
        print(f"revocation propagation through the issuer's API x{args.revocations} ...")
        delays = await propagation_via_issuer(args)
        debounce = "issuer default" if args.debounce is None else f"{args.debounce:g} s"
        print(
            f"revocation propagation (issuer revoke API response -> verifier 'revoked', "
            f"issuer status debounce {debounce}), "
            f"n={len(delays)}: p50 {statistics.median(delays):.0f} ms, "
            f"p99 {pct(delays, 99):.0f} ms, max {max(delays):.0f} ms"
        )
        return
    # Trust answers with their windows, as the registry sends them.
    registry = RegistryStandIn(windows=True)
    rng = random.Random(19)
    kafka = KafkaSettings(
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        topic_prefix=f"bench{uuid.uuid4().hex[:8]}.",
    )
    with RegistryThread(registry) as stand_in:
        issuer = Issuer()
        status_list = issuer.add_list(stand_in.base, "revocation")
        status_list.ttl_ms = 3_600_000
        signed_list = await issuer.sign_list(status_list)
        registry.register(issuer)
        # One cohort issued at once: they share the trust answer (same issuer, same date).
        cohort = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        print(f"issuing {args.distinct + args.repeat + args.revocations + 1} credentials ...")
        distinct = [c for c, _ in await issue_many(issuer, status_list, args.distinct, cohort)]
        repeat = [c for c, _ in await issue_many(issuer, status_list, args.repeat, cohort)]
        to_revoke = await issue_many(issuer, status_list, args.revocations, cohort)
        ((warm, _),) = await issue_many(issuer, status_list, 1, cohort)
        field: list[tuple[Issuer, StatusList]] = [(issuer, status_list)]
        # The field's phase: two rounds (one institution, the field; then the field, one
        # institution), each load on credentials of its own, the repeat pools kept.
        shapes: dict[str, Shape] = {}
        field_warm: list[dict[str, Any]] = []
        if args.seeded > 1:
            print(
                f"the field: {args.seeded - 1} more institutions, {args.revoked} revoked "
                f"entries in each list, {2 * args.distinct + args.repeat} credentials of the "
                f"past year, {2 * args.distinct + args.repeat} more of one institution's ..."
            )
            field += await field_institutions(
                registry, stand_in.base, args.seeded - 1, args.revoked, rng
            )
            # Dated across the past year too, like the field's: a cohort's credentials share
            # their proof's `created`, which the engine's memo of flat documents answers, and
            # that alone made one institution's figures ~10 % faster than the field's.
            one = [(issuer, status_list)]
            shapes["one"] = Shape(
                [await issue_spread(one, args.distinct, rng) for _ in range(2)],
                await issue_spread(one, args.repeat, rng),
            )
            shapes["field"] = Shape(
                [await issue_spread(field, args.distinct, rng) for _ in range(2)],
                await issue_spread(field, args.repeat, rng),
            )
            # One credential of each institution, at its own date: the caches' first look.
            field_warm = await issue_spread(field, len(field), rng)

        print("baseline (engine in-process) ...")
        everything = os.sched_getaffinity(0)
        if args.pin:
            pin(0, {SERVICE_CORE})
        rates = await baseline(distinct[:200], signed_list, args.baseline_seconds)
        if args.pin:
            pin(0, (everything - {SERVICE_CORE}) or everything)

        stack = verifier_stack(
            stand_in.base,
            kafka,
            workers=args.workers,
            cpus={SERVICE_CORE} if args.pin and args.workers == 1 else None,
        )
        verifier = stack["verifier"]
        base = verifier.url
        verifier.start()
        try:
            await asyncio.to_thread(verifier.wait_ready, 60)
            assert verifier.process is not None  # noqa: S101 - set by start()
            process = verifier.process
            if args.workers > 1:
                # The first ready worker answers /readyz; give the others time to finish their
                # start-up (Kafka consumers, warm-up signing) before the caches are warmed.
                await asyncio.sleep(5)
            distinct_raw, repeat_raw = encoded(base, distinct), encoded(base, repeat)
            # Warm the caches (status list, trust answer, proofs of the repeat pool) of every
            # worker: several connections, so that each worker accepts some of them.
            connections = 4 * args.workers
            await load(
                base,
                encoded(base, [warm, *repeat] * connections),
                clients=connections,
                seconds=60,
                cycle=False,
            )
            print(f"distinct credentials, {args.clients} clients ...")
            first = await measured(
                process.pid,
                load(base, distinct_raw, clients=args.clients, seconds=args.seconds, cycle=False),
            )
            print(f"repeated credentials, {args.clients} clients ...")
            again = await measured(
                process.pid,
                load(base, repeat_raw, clients=args.clients, seconds=args.seconds, cycle=True),
            )
            offered = again.throughput * args.paced_fraction
            print(f"repeated credentials, {args.clients} clients paced at {offered:.0f}/s ...")
            steady = await measured(
                process.pid,
                paced(base, repeat_raw, clients=args.clients, rate=offered, seconds=args.seconds),
            )
            compared: dict[tuple[str, str], list[tuple[Load, int]]] = {}
            if shapes:
                print(f"the field ({args.seeded} institutions): warming every worker ...")
                await load(
                    base,
                    encoded(base, [*field_warm, *shapes["field"].repeat] * connections),
                    clients=connections,
                    seconds=60,
                    cycle=False,
                )
                for shape_name, number in (("one", 0), ("field", 0), ("field", 1), ("one", 1)):
                    shape = shapes[shape_name]
                    for name, pool, cycle in (
                        ("distinct", shape.distinct[number], False),
                        ("repeat", shape.repeat, True),
                    ):
                        print(f"{shape_name}, round {number + 1}: {name} credentials ...")
                        compared.setdefault((shape_name, name), []).append(
                            await asked_during(
                                registry,
                                measured(
                                    process.pid,
                                    load(
                                        base,
                                        encoded(base, pool),
                                        clients=args.clients,
                                        seconds=args.seconds,
                                        cycle=cycle,
                                    ),
                                ),
                            )
                        )
            print(f"revocation propagation x{args.revocations} ...")
            delays = await propagation(base, issuer, status_list, to_revoke, kafka)
        finally:
            stack.stop()

    raw_proof, raw_verify = rates["verify_proof"], rates["verify"]
    cpu_verify = rates["verify/cpu"]
    lines = [
        f"verifier: {args.workers} worker process(es) on {os.cpu_count()} cores",
        f"engine verify_proof (in-process, 1 core): {raw_proof:.0f}/s "
        f"({rates['verify_proof/cpu']:.0f} per CPU-second)",
        f"engine verify (in-process, 1 core):       {raw_verify:.0f}/s "
        f"({cpu_verify:.0f} per CPU-second)",
    ]
    for name, run in (("distinct", first), ("repeat", again)):
        lines.append(
            f"service {name:8s} {args.clients} clients: {run.throughput:.0f}/s "
            f"({run.throughput / raw_verify:.0%} of engine verify, "
            f"{run.throughput / raw_proof:.0%} of verify_proof); "
            f"p50 {statistics.median(run.latencies_ms):.1f} ms, "
            f"p99 {pct(run.latencies_ms, 99):.1f} ms ({run.requests} requests); "
            f"verifier CPU {run.server_cpu_ms:.2f} ms/request "
            f"(= {1000 / run.server_cpu_ms:.0f} per CPU-second, "
            f"{1000 / run.server_cpu_ms / cpu_verify:.0%} of engine verify per CPU-second), "
            f"load generator CPU {run.client_cpu_ms:.2f} ms/request"
        )
    lines.append(
        f"service repeat   {args.clients} clients paced at {steady.throughput:.0f}/s "
        f"({args.paced_fraction:.0%} of repeat saturation): "
        f"p50 {statistics.median(steady.latencies_ms):.1f} ms, "
        f"p99 {pct(steady.latencies_ms, 99):.1f} ms ({steady.requests} requests); "
        f"verifier CPU {steady.server_cpu_ms:.2f} ms/request"
    )
    lines.append(
        f"revocation propagation (StatusListPublishedV1 -> 'revoked'), n={len(delays)}: "
        f"p50 {statistics.median(delays):.0f} ms, p99 {pct(delays, 99):.0f} ms, "
        f"max {max(delays):.0f} ms"
    )
    if compared:
        lines.append(
            f"the field ({args.seeded} institutions, {args.revoked * (args.seeded - 1):,} "
            "revoked entries) against one institution, credentials of the past year in both, "
            "two rounds (one, field; field, one):"
        )
        lines.append(
            "| load | round | one institution /s | the field /s | field ÷ one "
            "| p99 ms one → field | verifier CPU ms one → field "
            "| registry requests one / field |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ("distinct", "repeat"):
            pairs = zip(compared[("one", name)], compared[("field", name)], strict=True)
            for number, ((alone, one_asked), (crowded, asked)) in enumerate(pairs, start=1):
                lines.append(
                    f"| {name} | {number} | {alone.throughput:.0f} | {crowded.throughput:.0f} "
                    f"| {crowded.throughput / alone.throughput:.2f} "
                    f"| {pct(alone.latencies_ms, 99):.1f} → {pct(crowded.latencies_ms, 99):.1f} "
                    f"| {alone.server_cpu_ms:.2f} → {crowded.server_cpu_ms:.2f} "
                    f"| {one_asked} / {asked} |"
                )
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--distinct", type=int, default=2500)
    parser.add_argument("--repeat", type=int, default=64)
    parser.add_argument("--revocations", type=int, default=100)
    parser.add_argument("--baseline-seconds", type=float, default=6.0)
    parser.add_argument("--paced-fraction", type=float, default=0.5)
    parser.add_argument(
        "--seeded",
        type=int,
        default=60,
        help="institutions of the field's phase (the field's 60; 0 or 1 skips it)",
    )
    parser.add_argument(
        "--revoked",
        type=int,
        default=100,
        help="revoked entries in each list of the field's other institutions",
    )
    parser.add_argument(
        "--issuer",
        action="store_true",
        help="only measure revocation propagation, through the real issuer and registry processes",
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=None,
        help="with --issuer: ISSUER_STATUS_DEBOUNCE_S (default: the issuer's own default)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="verifier worker processes (VERIFIER_WORKERS); 2 = one per core of our machines",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="pin the baseline and the verifier to one core and the load to the others",
    )
    asyncio.run(main(parser.parse_args()))
