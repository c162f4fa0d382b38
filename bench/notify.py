"""Benchmark: issuance e-mails through Kafka and the notifier to a real SMTP sink.

Measures, in one run and against the same aiosmtpd sink:

* **raw** — one process sending pre-rendered messages over one SMTP connection, one after the
  other (the plain "how fast can this machine push mail into this sink" baseline), measured
  before and after the pipeline and averaged;
* **pipeline** — N ``NotificationRequestedV1`` events already on the topic, consumed by the
  notifier (batches, Mongo ledger: record → claim → send → mark, SMTP pool), until the sink has
  received all N messages: messages per second and time to drain.

Usage (real Kafka and MongoDB-protocol server)::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \
        uv run python bench/notify.py --events 10000 [--prefill 250000]

The pipeline runs twice in one run: on the empty database, then after ``--prefill`` past e-mails
were stored (issue 19: cost must not grow with the data); the ratio compares the two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from sceau_notifier.app import create_api
from sceau_notifier.mail.message import build_mime
from sceau_notifier.mail.render import EmailKind, EmailLinks, EmailRenderer
from sceau_notifier.settings import ConsumerSettings, NotifierSettings, SmtpSettings
from sceau_shared.events import BilingualText, NotificationRequestedV1
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings, MongoSettings

CPU_MS: dict[str, list[float]] = {"raw": [], "pipeline": []}
"""CPU milliseconds per message of this process (sink thread included), per measurement."""


class CountingSink:
    """aiosmtpd handler that only counts (the sink must not be the bottleneck)."""

    def __init__(self) -> None:
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        with self._lock:
            self.count += 1
            self.first = self.first or now
            self.last = now
        return "250 OK"

    def reset(self) -> None:
        with self._lock:
            self.count, self.first, self.last = 0, None, None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def event(i: int) -> NotificationRequestedV1:
    return NotificationRequestedV1(
        producer="bench",
        kind="issued",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        institution_id="bench-college",
        recipient_email=f"learner{i}@bench.example",
        recipient_name=f"Learner {i}",
        language="fr" if i % 2 else "en",
        institution_name=BilingualText(fr="Cégep du Banc d'essai", en="Benchmark College"),
        institution_contact="registrariat@bench.example",
        achievement_name=BilingualText(fr="Secourisme", en="First Aid"),
        issued_at=datetime.now(UTC),
        claim_url=f"https://issuer.bench.example/v1/claim/{i}",
    )


async def raw_baseline(port: int, sink: CountingSink, n: int) -> float:
    """Messages per second over one connection, sent one after the other."""
    renderer = EmailRenderer()
    links = EmailLinks(verifier_url="https://verify.bench.example")
    messages = []
    for i in range(n):
        req = event(i)
        rendered = renderer.render_request(req, EmailKind.ISSUED, links)
        messages.append(
            build_mime(
                rendered,
                key=str(req.event_id),
                sender="Sceau <no-reply@bench.example>",
                to_address=str(req.recipient_email),
                to_name=req.recipient_name,
                language=req.language,
                message_id_domain="bench.example",
                date=req.issued_at,
            )
        )
    sink.reset()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    start = time.perf_counter()
    cpu = time.process_time()
    for i, message in enumerate(messages):
        await client.sendmail("no-reply@bench.example", [f"learner{i}@bench.example"], message)
    elapsed = time.perf_counter() - start
    CPU_MS["raw"].append((time.process_time() - cpu) * 1000 / n)
    await client.quit()
    if sink.count != n:
        raise SystemExit(f"raw baseline: sink got {sink.count} of {n}")
    return n / elapsed


async def publish_all(kafka: KafkaSettings, n: int) -> float:
    broker = create_broker(kafka, client_id="bench-producer")
    await broker.connect()
    publisher = EventPublisher(broker, kafka, producer="bench")
    start = time.perf_counter()
    try:
        for chunk in range(0, n, 500):
            await asyncio.gather(*(publisher.publish(event(i)) for i in range(chunk, chunk + 500)))
    finally:
        await broker.stop()
    return time.perf_counter() - start


async def pipeline(
    settings: NotifierSettings, sink: CountingSink, n: int, timeout_s: float
) -> tuple[float, float, float]:
    """Return (messages/s between first and last delivery, drain time, start-up time)."""
    sink.reset()
    app = create_api(settings)
    t0 = time.perf_counter()
    cpu = time.process_time()
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60):
        started = time.perf_counter()
        while sink.count < n:
            if time.perf_counter() - started > timeout_s:
                raise SystemExit(f"timed out: {sink.count}/{n} delivered")
            await asyncio.sleep(0.05)
        drained = time.perf_counter()
        CPU_MS["pipeline"].append((time.process_time() - cpu) * 1000 / n)
    first, last = sink.first or drained, sink.last or drained
    rate = n / max(last - first, 1e-9)
    return rate, drained - t0, started - t0


async def prefill(mongo_uri: str, database: str, per_message: int, count: int) -> dict[str, int]:
    """Grow every per-message collection of the notifier's database to ``count`` more documents.

    The copies are the documents the first pass wrote (deliveries, ledger entries …), with new
    ``_id`` values, so the second pass runs against the field's volume of past e-mails without
    the benchmark knowing the notifier's schema. Collections with fewer documents than messages
    (settings, leases) are left alone.
    """
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    added: dict[str, int] = {}
    try:
        db = client[database]
        for name in await db.list_collection_names():
            collection = db[name]
            if await collection.estimated_document_count() < per_message:
                continue
            samples = await collection.find({}).limit(200).to_list()
            done = 0
            while done < count:
                chunk = []
                for i in range(min(1000, count - done)):
                    doc = dict(samples[(done + i) % len(samples)])
                    doc["_id"] = f"prefill-{done + i}-{doc['_id']}"
                    chunk.append(doc)
                await collection.insert_many(chunk, ordered=False)
                done += len(chunk)
            added[name] = done
    finally:
        await client.close()
    return added


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--raw", type=int, default=2_000, help="messages per raw baseline run")
    parser.add_argument("--pool", type=int, default=8, help="SMTP connections of the notifier")
    parser.add_argument("--batch", type=int, default=500, help="max records per Kafka batch")
    parser.add_argument("--timeout", type=float, default=150.0)
    parser.add_argument(
        "--prefill",
        type=int,
        default=250_000,
        help="past e-mails stored before the second pass (0: one pass on the empty database)",
    )
    args = parser.parse_args()

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    mongo_uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    run = uuid.uuid4().hex[:10]
    kafka = KafkaSettings(bootstrap_servers=bootstrap, topic_prefix=f"bench{run}.")
    mongo = MongoSettings(uri=SecretStr(mongo_uri), database=f"bench_notify_{run}")

    sink = CountingSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        raw_before = await raw_baseline(port, sink, args.raw)
        print(f"raw SMTP before: {raw_before:,.0f} msg/s ({args.raw} messages, 1 connection)")
        settings = NotifierSettings(
            kafka=kafka,
            mongo=mongo,
            smtp=SmtpSettings(host="127.0.0.1", port=port, tls="none", pool_size=args.pool),
            consumer=ConsumerSettings(group_prefix=f"bench{run}", max_records=args.batch),
        )
        rates: dict[str, float] = {}
        for phase in ("empty", "seeded") if args.prefill else ("empty",):
            if phase == "seeded":
                start = time.perf_counter()
                added = await prefill(mongo_uri, mongo.database, args.events, args.prefill)
                print(
                    f"prefilled {added} in {time.perf_counter() - start:.0f} s "
                    "(copies of the first pass's documents)"
                )
            publish_s = await publish_all(kafka, args.events)
            print(f"published {args.events} events in {publish_s:.1f} s (not part of the drain)")
            rate, drain_s, startup_s = await pipeline(settings, sink, args.events, args.timeout)
            rates[phase] = rate
            print(
                f"pipeline ({phase}): {rate:,.0f} msg/s (first to last delivery); drained "
                f"{args.events} in {drain_s:.1f} s including {startup_s:.1f} s start-up "
                f"(pool {args.pool}, batch {args.batch})"
            )
        if "seeded" in rates:
            print(f"seeded ÷ empty: {rates['seeded'] / rates['empty']:.2f}")
        rate = rates["empty"]
        raw_after = await raw_baseline(port, sink, args.raw)
        print(f"raw SMTP after: {raw_after:,.0f} msg/s")
        # The machine is shared: the baseline is taken on both sides of the pipeline run and
        # averaged, so a load change during the run does not favour either side.
        raw_rate = (raw_before + raw_after) / 2
        print(
            f"ratio pipeline/raw: {rate / raw_rate:.0%} (raw mean {raw_rate:,.0f}; target >= 50%)"
        )
        raw_cpu = sum(CPU_MS["raw"]) / len(CPU_MS["raw"])
        pipe_cpu = CPU_MS["pipeline"][0]
        if len(CPU_MS["pipeline"]) > 1:
            print(
                f"CPU of this process per message, seeded ÷ empty: "
                f"{CPU_MS['pipeline'][1] / pipe_cpu:.2f}"
            )
        print(
            f"CPU of this process per message: raw {raw_cpu:.2f} ms, pipeline {pipe_cpu:.2f} ms "
            f"(CPU-bound on one core the pipeline would reach {raw_cpu / pipe_cpu:.0%} of raw; "
            "MongoDB and Kafka CPU not included)"
        )
    finally:
        controller.stop()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        await client.drop_database(mongo.database)
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
