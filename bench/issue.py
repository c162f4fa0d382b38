"""Issue a 10,000-recipient batch through the issuer's HTTP API and measure it end to end.

What is timed: from the ``POST /v1/batches`` request until the last ``CredentialIssuedV1`` *and*
``NotificationRequestedV1`` event has been read back from Kafka — i.e. accepted → signed → stored
→ events published. The issuer runs as a real process (``python -m sceau_issuer`` under uvicorn)
against real Kafka and the MongoDB-protocol server. Beside it, the engine's raw single-core
signing rate (``ob3-v2``, same achievement, same key type) is measured in this same run; the
report is the ratio of the two.

Usage::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/issue.py [--recipients 10000] [--sign-workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from procfs import cpu_seconds, tree_cpu_seconds
from pymongo import AsyncMongoClient

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_credentials.status.entries import status_entry
from sceau_dev.testing.stack import Stack, StackConfig, free_ports
from sceau_issuer.achievements.rules import engine_version
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.apikeys.repository import ApiKeyRepository
from sceau_issuer.apikeys.service import ApiKeyService, Scope
from sceau_issuer.vault import Vault
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    CredentialIssuedV1,
    InstitutionRegisteredV1,
    InstitutionStatus,
    NotificationRequestedV1,
)
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings

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


def cpu_snapshot(issuer_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the issuer process tree and by FerretDB."""
    return {
        "issuer": tree_cpu_seconds(issuer_pid),
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
            status=[status_entry("ob3-v2", p, url, i) for p in ("revocation", "suspension")],
        )
        for i in range(count + 5)
    ]
    for credential in credentials[:5]:  # warm-up (context loading, caches)
        await sign_credential(credential, key, Profile("ob3-v2"))
    started, cpu = time.perf_counter(), time.process_time()
    for credential in credentials[5:]:
        await sign_credential(credential, key, Profile("ob3-v2"))
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


async def count_events(
    kafka: KafkaSettings,
    expected: int,
    done: asyncio.Event,
    marks: dict[str, float],
    ready: asyncio.Event,
) -> None:
    topics = [kafka.topic(CredentialIssuedV1.TOPIC), kafka.topic(NotificationRequestedV1.TOPIC)]
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"bench-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    seen: dict[str, set[str]] = {t: set() for t in topics}
    try:
        # Make sure the consumer has its partitions before the clock starts.
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        ready.set()
        while not all(len(s) >= expected for s in seen.values()):
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    seen[tp.topic].add(record.key.decode() if record.key else "")
            if len(seen[topics[0]]) and "first_event" not in marks:
                marks["first_event"] = time.perf_counter()
        marks["last_event"] = time.perf_counter()
    finally:
        await consumer.stop()
        done.set()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--sign-workers", type=int, default=2)
    parser.add_argument("--raw", type=int, default=300, help="credentials for the raw rate")
    args = parser.parse_args()
    kafka_servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    mongo_uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    run = uuid.uuid4().hex[:8]
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
        status_debounce_s=None,
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
    issuer.start()
    process = issuer.process
    assert process is not None  # noqa: S101 - set by start()
    print(f"issuer process: pid {process.pid} (for a profiler)", flush=True)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        await asyncio.to_thread(issuer.wait_ready, 60)
        institution = f"bench-{run}"
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
        db = client[database]
        for _ in range(600):
            tenant = await db["institutions"].find_one({"_id": institution}, {"_id": 1})
            accredited = await db["accreditations"].find_one({"_id": institution}, {"_id": 1})
            if tenant and accredited:
                break
            await asyncio.sleep(0.1)
        from pydantic import SecretStr

        from sceau_issuer.settings import decode_master_key

        key = await ApiKeyService(
            ApiKeyRepository(db["api_keys"]), Vault(decode_master_key(SecretStr(master)))
        ).create(institution, "bench", list(Scope))
        headers = {"Authorization": f"Bearer {key.token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:
            created = (await http.post("/v1/achievements", json=ACHIEVEMENT)).json()
            achievement = created["achievement_id"]
            published = await http.post(f"/v1/achievements/{achievement}/publish")
            published.raise_for_status()
            recipients = [
                {
                    "email": f"learner{i}@example.org",
                    "name": f"Learner {i}",
                    "language": "fr" if i % 2 else "en",
                }
                for i in range(args.recipients)
            ]
            done = asyncio.Event()
            marks: dict[str, float] = {}
            ready = asyncio.Event()
            counter = asyncio.create_task(count_events(kafka, args.recipients, done, marks, ready))
            await ready.wait()
            started = time.perf_counter()
            cpu_before = cpu_snapshot(process.pid)
            load_before = os.getloadavg()[0]
            accepted = await http.post(
                "/v1/batches",
                json={"achievement_id": achievement, "recipients": recipients},
                headers={"Idempotency-Key": f"bench-{run}"},
            )
            accepted_at = time.perf_counter()
            accepted.raise_for_status()
            batch_id = accepted.json()["batch_id"]
            stored_at = None
            while stored_at is None:
                state = (await http.get(f"/v1/batches/{batch_id}")).json()
                if state["state"] == "completed":
                    stored_at = time.perf_counter()
                    report = state
                else:
                    await asyncio.sleep(0.5)
            await asyncio.wait_for(counter, timeout=1800)
            finished = marks["last_event"]
            cpu_after = cpu_snapshot(process.pid)
            load_after = os.getloadavg()[0]
        raw_after, raw_cpu_after = await raw_signing_rate(args.raw)
    finally:
        stack.stop()
        await client.drop_database(database)
        await client.close()

    total = finished - started
    rate = args.recipients / total
    issuer_cpu = cpu_after["issuer"] - cpu_before["issuer"]
    ferret_cpu = cpu_after["ferretdb"] - cpu_before["ferretdb"]
    print(f"batch accepted (HTTP 202) after {accepted_at - started:.2f} s")
    print(f"all credentials stored after {stored_at - started:.2f} s ({report['counts']})")
    print(f"all events on Kafka after {total:.2f} s")
    print(f"end-to-end rate: {rate:.1f} credentials/s")
    print(
        f"raw signing rate (one core, same run): {raw:.1f} credentials/s before the batch, "
        f"{raw_after:.1f} after"
    )
    best_raw = max(raw, raw_after)
    print(f"ratio end-to-end / raw: {rate / best_raw:.2f} (target >= 0.60; raw = best of the two)")
    print(f"load average: {load_before:.1f} at start, {load_after:.1f} at end (2 cores)")
    per_cpu = args.recipients / issuer_cpu if issuer_cpu else float("nan")
    raw_per_cpu = max(raw_cpu, raw_cpu_after)
    print(
        f"issuer CPU (process + signing workers): {issuer_cpu:.1f} s = {per_cpu:.1f} credentials "
        f"per CPU-second; raw signing: {raw_per_cpu:.1f} per CPU-second; "
        f"ratio {per_cpu / raw_per_cpu:.2f}"
    )
    print(
        f"FerretDB CPU during the batch: {ferret_cpu:.1f} s "
        f"({1000 * ferret_cpu / args.recipients:.2f} ms per credential)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
