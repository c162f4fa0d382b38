"""Batches through the issuer's HTTP server: throughput against raw signing, alternating rounds.

``bench/issue.py`` times one batch per pass; this one times only ``POST /v1/batches`` in several
rounds, each from the request until every recipient's ``NotificationRequestedV1`` is read back
from Kafka (the issue's "issuance end to end"), with the CPU each process spent until the issuer
is idle again, and the engine's raw one-core signing rate measured right before and right after
each batch: a round's ratio is its rate over the mean of those two (a shared host's speed moves
within the half-minute a batch takes), and the table gives the median of the rounds' ratios
beside the ratio of the medians.

With ``--compare DIR`` a second issuer runs the sources under ``DIR`` (an exported earlier
commit: ``git archive BASE | tar -x -C DIR``), each on its own database and topics, and the
rounds alternate between the two, so a change is measured against its baseline under the same
load (a shared host's speed moves by ±10 % within minutes). With ``--seeded N`` the second
issuer runs this tree too, on a database first loaded with N stored credentials (copies of one
it signed, with their published outbox history, as ``bench/issue.py`` loads them): the field's
scale and an empty database, side by side in alternating rounds.

Usage::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/batch_http.py [--recipients 10000] [--rounds 3] \\
        [--compare /tmp/base | --seeded 250000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from typing import Any

import httpx
from issue import cpu_snapshot, notifications, raw_signing_rate  # bench/ is on the path
from pymongo import AsyncMongoClient
from single_http import (
    Issuer,
    idle,
    issuer_arguments,
    others,
    paired,
    prepare,
    seed,
    start_issuers,
    stop_all,
    summary,
)


async def batch_round(issuer: Issuer, name: str, recipients: int) -> None:
    """One batch, timed until its last notification request is on Kafka."""
    emails = [f"{name}-b{i}@example.org" for i in range(recipients)]
    ready = asyncio.Event()
    marks: dict[str, float] = {}
    watcher = asyncio.create_task(notifications(issuer.kafka, set(emails), ready, marks))
    await asyncio.wait_for(ready.wait(), timeout=120)
    await idle(issuer.pids)
    async with httpx.AsyncClient(base_url=issuer.base, headers=issuer.headers, timeout=300) as http:
        before = cpu_snapshot(*issuer.pids) | others()
        started = time.perf_counter()
        body = {"achievement_id": issuer.achievement, "recipients": [{"email": e} for e in emails]}
        accepted = await http.post(
            "/v1/batches", json=body, headers={"Idempotency-Key": f"{name}-batch"}
        )
        accepted.raise_for_status()
        try:
            await asyncio.wait_for(watcher, timeout=1800)
        except TimeoutError:
            print(f"  [{issuer.label}] not every notification seen on Kafka", flush=True)
            raise
        wall = marks["last"] - started
        await idle(issuer.pids)
        after = cpu_snapshot(*issuer.pids) | others()
        state = (await http.get(f"/v1/batches/{accepted.json()['batch_id']}")).json()
    if state["counts"]["issued"] != recipients:
        raise RuntimeError(f"batch {name}: {state['counts']}")
    issuer.rounds.append(
        {
            "rate": recipients / wall,
            "issuer_ms": 1000 * (after["issuer"] - before["issuer"]) / recipients,
            "ferret_ms": 1000 * (after["ferretdb"] - before["ferretdb"]) / recipients,
            "kafka_ms": 1000 * (after["kafka"] - before["kafka"]) / recipients,
            "watcher_ms": 1000 * (after["client"] - before["client"]) / recipients,
        }
    )
    last = issuer.rounds[-1]
    print(
        f"  [{issuer.label}] batch of {recipients}: {last['rate']:.1f}/s; CPU per credential: "
        f"issuer {last['issuer_ms']:.2f} ms, FerretDB {last['ferret_ms']:.2f} ms, Kafka "
        f"{last['kafka_ms']:.2f} ms, Kafka watcher {last['watcher_ms']:.2f} ms",
        flush=True,
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000, help="batch size per round")
    issuer_arguments(parser)
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
        for n in range(args.rounds):
            order = issuers if n % 2 == 0 else list(reversed(issuers))
            for issuer in order:
                before, _ = await raw_signing_rate(args.raw)
                print(f"round {n + 1}: raw one-core signing {before:.0f}/s", flush=True)
                await batch_round(issuer, f"r{n}", args.recipients)
                after, _ = await raw_signing_rate(args.raw)
                raws.extend((before, after))
                last = issuer.rounds[-1]
                last["ratio"] = last["rate"] / ((before + after) / 2)
                print(
                    f"  raw after it {after:.0f}/s: {last['ratio']:.2f} of the round's raw",
                    flush=True,
                )
    finally:
        await stop_all(issuers, client)
    raw = statistics.median(raws)
    print()
    print(f"medians of {args.rounds} rounds, one batch of {args.recipients} each")
    print(
        "| issuer | credentials/s | ÷ raw (median of rounds) | ÷ raw (of medians) "
        "| issuer CPU ms | FerretDB CPU ms | Kafka CPU ms | Kafka watcher CPU ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for issuer in issuers:
        s = summary(issuer)
        print(
            f"| {issuer.label} | {s['rate']:.1f} | {s['ratio']:.2f} | {s['rate'] / raw:.2f} "
            f"| {s['issuer_ms']:.2f} | {s['ferret_ms']:.2f} | {s['kafka_ms']:.2f} "
            f"| {s['watcher_ms']:.2f} |"
        )
    print(f"raw one-core signing (median of the measures before and after each batch): {raw:.0f}/s")
    pairs = paired(issuers)
    if pairs is not None:
        print(pairs)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
