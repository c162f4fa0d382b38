"""Issue through the issuer's HTTP API on an empty database, then on one holding N credentials.

One run, one issuer process (``python -m sceau_issuer`` under uvicorn, started by the one stack
launcher ``sceau_dev.testing.stack``, real Kafka, the MongoDB-protocol server), one database;
every figure is measured twice and reported with its ratio, so "does the cost grow with the
data?" is answered by figures taken side by side:

1. **empty**: single issue (``POST /v1/credentials``, ``--clients`` concurrent clients), a
   progressive series (module 2 with its prerequisite check; module 3, which also awards the
   overall credential) and a batch (``POST /v1/batches``, timed until every recipient's
   ``NotificationRequestedV1`` is read back from Kafka);
2. **prefill**: ``--prefill`` credentials are inserted directly, copies of a credential the
   issuer signed in step 1 (same size, recipient, ids, outbox history and published markers
   changed), as many as years of issuing would leave, with the issuer stopped; it is then
   restarted and the seeded pass waits (``--settle``) until its start-up sweeps are done;
3. **prefilled**: step 1 again, with new recipients.

Beside it, the engine's raw single-core signing rate is measured before each pass (the batch is
compared to it; per CPU-second, it tells how fast the shared machine ran each pass),
and ``/proc`` gives the CPU used by the issuer process tree and by FerretDB during each step.

Usage::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/issue.py [--prefill 20000] [--single 320] [--clients 16] \\
        [--learners 64] [--recipients 2000] [--sign-workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from procfs import cpu_seconds, tree_cpu_seconds
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_credentials.status.entries import status_entry
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack, StackConfig, free_ports
from sceau_dev.testing.topics import drop_topics
from sceau_issuer.achievements.rules import engine_version
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.apikeys.repository import ApiKeyRepository
from sceau_issuer.apikeys.service import ApiKeyService, Scope
from sceau_issuer.vault import Vault
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    InstitutionRegisteredV1,
    InstitutionStatus,
    NotificationRequestedV1,
)
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings, decode_master_key

ACHIEVEMENT: dict[str, Any] = {
    "achievement_type": "MicroCredential",
    "default_language": "fr",
    "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
    "description": {
        "fr": "Concevoir des activités d'apprentissage qui intègrent l'IA générative.",
        "en": "Design learning activities that integrate generative AI.",
    },
    "criteria": {"fr": "Réussir le projet final.", "en": "Pass the final project."},
    "competencies": [
        {
            "name": {"fr": "Intégrer l'IA", "en": "Integrate AI"},
            "url": "https://example.edu/fw/ai-1",
            "framework": {"fr": "Cadre numérique", "en": "Digital framework"},
            "code": "AI-1",
            "skill_type": "technical",
        }
    ],
    "hours": 15,
    "delivery_mode": "online",
    "pacing": "cohort",
    "assessments": [
        {"method": "project", "name": {"fr": "Projet", "en": "Project"}, "result_type": "Status"}
    ],
    "instruction_languages": ["en"],
    "quality_assurance": [
        {"id": "https://example.edu/qa", "name": {"fr": "Comité", "en": "Board"}}
    ],
}


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (the FerretDB server)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as handle:
                    if handle.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def cpu_snapshot(*issuer_pids: int) -> dict[str, float]:
    """CPU seconds used so far by the issuer process trees (its replicas) and by FerretDB."""
    return {
        "issuer": sum(tree_cpu_seconds(pid) for pid in issuer_pids),
        "ferretdb": sum(cpu_seconds(p) for p in pids_named("ferretdb")),
    }


async def raw_signing_rate(count: int) -> tuple[float, float]:
    """The engine alone: sign ``count`` ob3-v2 credentials sequentially on this core.

    Returns the wall-clock rate and the rate per CPU-second (independent of other load).
    """
    key = SigningKey.generate()
    version = engine_version(
        AchievementInput.model_validate(ACHIEVEMENT),
        achievement_uri="https://issuer.example/v1/public/achievements/a/versions/1",
        version=1,
        languages=("fr", "en"),
    )
    issuer = IssuerProfile(id=key.controller, name={"fr": "Collège", "en": "College"})
    url = "https://registry.example/v1/status-lists/x"
    credentials = [
        build_credential(
            version,
            Recipient(email=f"raw{i}@example.org"),
            issuer,
            "ob3-v2",
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issued_at=datetime.now(UTC),
            status=[status_entry("ob3-v2", "revocation", url, i)],  # the issuer's default
        )
        for i in range(count + 5)
    ]
    for credential in credentials[:5]:  # warm-up (context loading, caches)
        await sign_credential(credential, key, Profile("ob3-v2"))
    started, cpu = time.perf_counter(), time.process_time()
    for credential in credentials[5:]:
        await sign_credential(credential, key, Profile("ob3-v2"))
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


@dataclass
class Step:
    """One timed step: how many credentials, how long, the latencies, the CPU it cost."""

    name: str
    count: int
    wall_s: float
    latencies: list[float]
    issuer_cpu_s: float
    ferret_cpu_s: float

    @property
    def rate(self) -> float:
        return self.count / self.wall_s if self.wall_s else float("nan")

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def ferret_ms(self) -> float:
        return 1000 * self.ferret_cpu_s / self.count if self.count else float("nan")

    @property
    def issuer_ms(self) -> float:
        return 1000 * self.issuer_cpu_s / self.count if self.count else float("nan")


class Bench:
    """The running issuer, its API client and what the steps share."""

    def __init__(
        self, http: httpx.AsyncClient, pid: int, kafka: KafkaSettings, clients: int
    ) -> None:
        self.http = http
        self.pid = pid
        self.kafka = kafka
        self.clients = clients

    async def timed(
        self, name: str, calls: list[tuple[str, dict[str, Any], dict[str, str]]]
    ) -> Step:
        """POST every call with ``clients`` in flight; each must answer 201."""
        queue = list(reversed(calls))
        latencies: list[float] = []

        async def client() -> None:
            while queue:
                path, body, headers = queue.pop()
                started = time.perf_counter()
                answer = await self.http.post(path, json=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 201:
                    raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")

        before = cpu_snapshot(self.pid)
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(self.clients)))
        wall = time.perf_counter() - started
        after = cpu_snapshot(self.pid)
        return Step(
            name,
            len(calls),
            wall,
            latencies,
            after["issuer"] - before["issuer"],
            after["ferretdb"] - before["ferretdb"],
        )

    async def single(self, achievement: str, phase: str, count: int) -> Step:
        calls = [
            (
                "/v1/credentials",
                {
                    "achievement_id": achievement,
                    "recipient": {"email": f"{phase}-u{i}@example.org", "name": f"Learner {i}"},
                },
                {"Idempotency-Key": f"{phase}-u{i}"},
            )
            for i in range(count)
        ]
        return await self.timed("single issue", calls)

    async def series(self, modules: list[str], phase: str, learners: int) -> list[Step]:
        """Module 1 by batch (not timed), then module 2 and module 3 (which completes)."""
        emails = [f"{phase}-s{i}@example.org" for i in range(learners)]
        await self.batch_stored(modules[0], f"{phase}-series", emails)
        steps = []
        for number, module in ((2, modules[1]), (3, modules[2])):
            calls = [
                (
                    "/v1/credentials",
                    {"achievement_id": module, "recipient": {"email": email}},
                    {"Idempotency-Key": f"{phase}-s{number}-{email}"},
                )
                for email in emails
            ]
            label = "series module 2" if number == 2 else "series module 3 + overall award"
            steps.append(await self.timed(label, calls))
        return steps

    async def batch_stored(self, achievement: str, key: str, emails: list[str]) -> float:
        """Submit a batch and wait until it is completed; return the seconds it took."""
        started = time.perf_counter()
        accepted = await self.http.post(
            "/v1/batches",
            json={"achievement_id": achievement, "recipients": [{"email": e} for e in emails]},
            headers={"Idempotency-Key": key},
        )
        accepted.raise_for_status()
        batch_id = accepted.json()["batch_id"]
        while True:
            state = (await self.http.get(f"/v1/batches/{batch_id}")).json()
            if state["state"] == "completed":
                if state["counts"]["issued"] != len(emails):
                    raise RuntimeError(f"batch {key}: {state['counts']}")
                return time.perf_counter() - started
            await asyncio.sleep(0.2)

    async def batch(self, achievement: str, phase: str, recipients: int) -> tuple[Step, float]:
        """A batch timed until every recipient's notification request is on Kafka."""
        emails = [f"{phase}-b{i}@example.org" for i in range(recipients)]
        ready, done = asyncio.Event(), asyncio.Event()
        marks: dict[str, float] = {}
        watcher = asyncio.create_task(notifications(self.kafka, set(emails), ready, marks))
        await ready.wait()
        before = cpu_snapshot(self.pid)
        started = time.perf_counter()
        stored = await self.batch_stored(achievement, f"{phase}-batch", emails)
        await asyncio.wait_for(watcher, timeout=1800)
        done.set()
        wall = marks["last"] - started
        after = cpu_snapshot(self.pid)
        step = Step(
            "batch (until the events are on Kafka)",
            recipients,
            wall,
            [],
            after["issuer"] - before["issuer"],
            after["ferretdb"] - before["ferretdb"],
        )
        return step, stored


async def notifications(
    kafka: KafkaSettings, emails: set[str], ready: asyncio.Event, marks: dict[str, float]
) -> None:
    """Read notification requests from now on until one per ``emails`` was seen."""
    consumer = AIOKafkaConsumer(
        kafka.topic(NotificationRequestedV1.TOPIC),
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="latest",
        enable_auto_commit=False,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    seen: set[str] = set()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        # Make the position concrete before the clock starts (``latest`` is resolved lazily).
        for partition in consumer.assignment():
            await consumer.position(partition)
        ready.set()
        while len(seen) < len(emails):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    email = json.loads(record.value or b"{}").get("recipient_email")
                    if email in emails:
                        seen.add(email)
        marks["last"] = time.perf_counter()
    finally:
        await consumer.stop()


async def prefill(db: Any, template: dict[str, Any], count: int) -> float:
    """Insert ``count`` copies of a signed credential, with their published outbox history."""
    started = time.perf_counter()
    group = 500
    for start in range(0, count, group):
        docs, markers = [], []
        for n in range(start, min(start + group, count)):
            doc = copy.deepcopy(template)
            email = f"prefill{n}@example.org"
            doc["_id"] = str(uuid.uuid4())
            doc["recipient"] = {**doc["recipient"], "email": email, "email_norm": email}
            doc["dedupe"] = uuid.uuid4().hex
            doc["idem"] = f"prefill|{n}"
            doc["status_index"] = random.randrange(131_072)
            for entry in doc.get("outbox") or []:
                entry["event_id"] = str(uuid.uuid4())
                markers.append({"_id": entry["event_id"], "at": datetime.now(UTC)})
            docs.append(doc)
        await db["credentials"].insert_many(docs, ordered=False)
        if markers:
            await db["outbox_published"].insert_many(markers, ordered=False)
    return time.perf_counter() - started


async def settle(pid: int, *, minimum_s: float, maximum_s: float, quiet_s: float = 40.0) -> float:
    """Wait until the restarted issuer is idle (start-up work over the stored credentials done).

    At least ``minimum_s``, then until the process tree and the MongoDB-protocol server together
    used under 10 % of a core in every 5-s window for ``quiet_s`` in a row, at most
    ``maximum_s``. The quiet spell is longer than the pause between a database's two full
    outbox sweeps (a dead process's 30-s lease + 5 s, ``sceau_issuer.relay``): one idle 5-s
    window used to end the wait between them, and the seeded pass then ran during the second.
    """

    def busy() -> float:
        return tree_cpu_seconds(pid) + sum(cpu_seconds(p) for p in pids_named("ferretdb"))

    started = time.perf_counter()
    await asyncio.sleep(minimum_s)
    quiet = 0.0
    while time.perf_counter() - started < maximum_s and quiet < quiet_s:
        before = busy()
        await asyncio.sleep(5)
        quiet = quiet + 5 if busy() - before < 0.5 else 0.0
    return time.perf_counter() - started


async def onboard(
    kafka: KafkaSettings,
    db: Any,
    institution: str,
    master_key: str,
    *,
    details: Callable[[], str] | None = None,
) -> dict[str, str]:
    """Announce and accredit an institution on Kafka (as the registry would), wait until the
    issuer knows it, and create an API key in its database; return the request headers."""
    broker = create_broker(kafka, client_id="bench-registry")
    async with broker:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="bench")
        await publisher.publish(
            InstitutionRegisteredV1(
                producer="bench",
                institution_id=institution,
                legal_name={"fr": "Collège Banc", "en": "Bench College"},
                category="college",
                jurisdiction="CA-ON",
            )
        )
        # The issuer refuses types the registry has not accredited (as the registry would).
        await publisher.publish(
            AccreditationChangedV1(
                producer="bench",
                institution_id=institution,
                status=InstitutionStatus.ACTIVE,
                scopes=[
                    AccreditationScope(
                        achievement_types=["MicroCredential"], valid_from=datetime.now(UTC)
                    )
                ],
                effective_at=datetime.now(UTC),
            )
        )

    async def onboarded() -> bool:
        tenant = await db["institutions"].find_one({"_id": institution}, {"_id": 1})
        accredited = await db["accreditations"].find_one({"_id": institution}, {"_id": 1})
        return bool(tenant and accredited)

    await eventually(
        onboarded,
        timeout_s=60,
        message=f"institution {institution} known and accredited by the issuer",
        error=RuntimeError,
        details=details,
    )
    key = await ApiKeyService(
        ApiKeyRepository(db["api_keys"]), Vault(decode_master_key(SecretStr(master_key)))
    ).create(institution, "bench", list(Scope))
    return {"Authorization": f"Bearer {key.token}"}


async def setup(http: httpx.AsyncClient) -> tuple[str, list[str]]:
    """A published achievement, and a progressive series of three modules with its overall."""

    async def published(name: str) -> str:
        definition = {**ACHIEVEMENT, "name": {"fr": name, "en": name}}
        created = (await http.post("/v1/achievements", json=definition)).json()
        achievement = str(created["achievement_id"])
        (await http.post(f"/v1/achievements/{achievement}/publish")).raise_for_status()
        return achievement

    achievement = await published("Enseigner avec l'IA")
    modules = [await published(f"Module {n}") for n in (1, 2, 3)]
    overall = await published("Parcours")
    series = await http.post(
        "/v1/series",
        json={
            "name": {"fr": "Parcours", "en": "Pathway"},
            "structure": "progressive",
            "components": [{"achievement_id": m} for m in modules],
            "overall_achievement_id": overall,
        },
    )
    series.raise_for_status()
    return achievement, modules


async def phase(
    bench: Bench, name: str, achievement: str, modules: list[str], args: Any
) -> dict[str, Any]:
    print(f"[{name}] single issue: {args.single} credentials, {args.clients} clients", flush=True)
    single = await bench.single(achievement, name, args.single)
    print(f"[{name}] series: {args.learners} learners", flush=True)
    module2, module3 = await bench.series(modules, name, args.learners)
    print(f"[{name}] batch: {args.recipients} recipients", flush=True)
    batch, stored = await bench.batch(achievement, name, args.recipients)
    return {"steps": [single, module2, module3, batch], "batch_stored_s": stored}


def report(
    empty: dict[str, Any], full: dict[str, Any], stored: int, raw: float, speeds: list[float]
) -> None:
    """The table; ``speeds``: raw signing per CPU-second before and after each pass."""
    rows: list[tuple[str, str, float, float, bool]] = []
    for a, b in zip(empty["steps"], full["steps"], strict=True):
        rows.append((a.name, "credentials/s", a.rate, b.rate, True))
        if a.latencies:
            rows.append(
                (a.name, "p50 ms", 1000 * a.percentile(0.5), 1000 * b.percentile(0.5), False)
            )
            rows.append(
                (a.name, "p99 ms", 1000 * a.percentile(0.99), 1000 * b.percentile(0.99), False)
            )
        rows.append((a.name, "FerretDB CPU ms/credential", a.ferret_ms, b.ferret_ms, False))
        rows.append((a.name, "issuer CPU ms/credential", a.issuer_ms, b.issuer_ms, False))
    rows.append(("batch", "stored (s)", empty["batch_stored_s"], full["batch_stored_s"], False))
    print()
    print(f"| step | measure | empty | {stored:,} stored | ratio |")
    print("|---|---|---:|---:|---:|")
    for step, measure, a, b, _ in rows:
        ratio = b / a if a else float("nan")
        print(f"| {step} | {measure} | {a:,.1f} | {b:,.1f} | {ratio:.2f} |")
    batch_empty, batch_full = empty["steps"][-1].rate, full["steps"][-1].rate
    print()
    print(
        f"raw engine signing (one core, same run): {raw:.0f}/s; batch end-to-end / raw: "
        f"{batch_empty / raw:.2f} empty, {batch_full / raw:.2f} prefilled"
    )
    before_empty, after_empty, before_full, after_full = speeds
    print(
        "machine speed, raw signing per CPU-second (a shared host's CPU-second does not buy the "
        f"same work all run long): {before_empty:.0f} before and {after_empty:.0f} after the "
        f"empty pass, {before_full:.0f} before and {after_full:.0f} after the seeded pass"
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--prefill", type=int, default=20_000, help="credentials stored before the second pass"
    )
    parser.add_argument("--single", type=int, default=320, help="single issues per pass")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--learners", type=int, default=64, help="series learners per pass")
    parser.add_argument("--recipients", type=int, default=2_000, help="batch size per pass")
    parser.add_argument("--sign-workers", type=int, default=2)
    parser.add_argument("--raw", type=int, default=300, help="credentials for the raw rate")
    parser.add_argument(
        "--settle",
        type=float,
        default=45.0,
        help="seconds at least between the issuer's restart after the prefill and the seeded pass",
    )
    args = parser.parse_args()
    kafka_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    mongo_uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    run = uuid.uuid4().hex[:8]
    database = f"bench_issue_{run}"
    kafka = KafkaSettings(bootstrap_servers=kafka_servers, topic_prefix=f"bench{run}.")
    master = base64.b64encode(os.urandom(32)).decode()

    print(f"raw signing: {args.raw} ob3-v2 credentials on one core ...", flush=True)
    raw, raw_cpu = await raw_signing_rate(args.raw)
    print(f"raw signing rate: {raw:.1f} credentials/s ({raw_cpu:.1f} per CPU-second)", flush=True)

    config = StackConfig(
        kafka_bootstrap=kafka_servers,
        mongo_uri=mongo_uri,
        log_dir=Path(tempfile.mkdtemp(prefix="sceau-bench-issue-")),
        topic_prefix=kafka.topic_prefix,
        database_prefix=f"bench_issue_{run}_",
        ports=free_ports(),
        issuer_master_key=master,
        services=("issuer",),
        status_debounce_s=None,  # the issuer's own default, as in production
        rate_limit_per_minute=1_000_000,
        extra_env={
            "issuer": {
                "ISSUER_SIGN_WORKERS": str(args.sign_workers),
                "ISSUER_TELEMETRY__LOG_LEVEL": "WARNING",
            }
        },
    )
    database = f"{config.database_prefix}issuer"
    base = config.url("issuer")
    stack = Stack(config)
    issuer = stack["issuer"]
    # Its log lines would bury the report: they go to its log file (quoted if it fails to start).
    issuer.start()
    process = issuer.process
    assert process is not None  # noqa: S101 - set by start()
    print(f"issuer process: pid {process.pid} (for a profiler)", flush=True)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    load_before = os.getloadavg()[0]
    try:
        await asyncio.to_thread(issuer.wait_ready, 60)
        institution = f"bench-{run}"
        db = client[database]
        headers = await onboard(kafka, db, institution, master, details=issuer.tail)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as http:
            achievement, modules = await setup(http)
            bench = Bench(http, process.pid, kafka, args.clients)
            empty = await phase(bench, "empty", achievement, modules, args)
            speeds = [raw_cpu, (await raw_signing_rate(args.raw))[1]]
            reservation = await db["idempotency"].find_one({"_id": f"{institution}|empty-u0"})
            if reservation is None:
                raise RuntimeError("the empty phase's first credential was not reserved")
            template = await db["credentials"].find_one({"_id": reservation["credential_id"]})
            if template is None:
                raise RuntimeError("no credential to copy")
            # The issuer is stopped while the copies go in, as a database restored from a backup
            # or filled by earlier runs would be: its start-up sweeps then read them once, and
            # the seeded pass starts after they are done (a live issuer's sweeps over a growing
            # collection made the 250,000 prefill take 27 minutes; docs/benchmarks.md).
            await asyncio.to_thread(issuer.stop)
            # Counted now, while the collection is small: a count of 250,000 documents is a full
            # scan on FerretDB (minutes, holding the store while the seeded pass runs).
            before = await db["credentials"].count_documents({})
            print(f"prefill: {args.prefill} credentials (issuer stopped) ...", flush=True)
            took = await prefill(db, template, args.prefill)
            print(f"prefill took {took:.1f} s", flush=True)
            issuer.start()
            await asyncio.to_thread(issuer.wait_ready, 120)
            process = issuer.process
            assert process is not None  # noqa: S101 - set by start()
            settled = await settle(process.pid, minimum_s=args.settle, maximum_s=600)
            print(f"issuer restarted (pid {process.pid}); start-up sweeps done in {settled:.0f} s")
            # A shared host's CPU-second does not buy the same work all run long: the speed
            # is measured around each pass, to read the CPU figures of the two passes by.
            speeds.append((await raw_signing_rate(args.raw))[1])
            bench = Bench(http, process.pid, kafka, args.clients)
            stored = before + args.prefill
            full = await phase(bench, "prefilled", achievement, modules, args)
            speeds.append((await raw_signing_rate(args.raw))[1])
        load_after = os.getloadavg()[0]
    finally:
        stack.stop()
        await client.drop_database(database)
        await client.close()
        await drop_topics(kafka.bootstrap_servers, kafka.topic_prefix)

    report(empty, full, stored, raw, speeds)
    print(f"load average: {load_before:.1f} at start, {load_after:.1f} at end (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
