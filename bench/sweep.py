"""What the credentials relay's start-up sweep costs with N credentials stored (issue 19).

Fills a database with ``--stored`` credential-sized documents whose outbox entries are all
published (markers in ``outbox_published``, as years of issuing leave them) and ``--unpublished``
more written the way the issuer writes them now (pending marker first, then the document, and no
relay: a process that died before relaying), then times, with a relay whose publisher only
counts:

* the full sweep of every document with an outbox — what every process start did before the
  pending markers, and what a database written before them still gets once;
* the sweep of the pending markers — what every start (and every minute) does now.

Both must find exactly the unpublished events. Usage::

    MONGODB_URI=mongodb://127.0.0.1:27018/ uv run python bench/sweep.py [--stored 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

from pymongo import AsyncMongoClient

from sceau_dev.testing.sample_events import revocation
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.relay import TargetedOutboxRelay
from sceau_shared.events import CredentialStatusChangedV1, utcnow
from sceau_shared.outbox import outbox_entry


def counting(sent: Counter[str]) -> Any:
    """A stand-in for the event publisher that counts what the relay sends."""

    async def publish_raw(**entry: Any) -> None:
        sent[str(entry["event_id"])] += 1

    return SimpleNamespace(producer="bench", publish_raw=publish_raw)


def _event(n: int) -> CredentialStatusChangedV1:
    return revocation(str(uuid.uuid4()), reason_code=f"r{n}")


def _document(n: int) -> dict[str, Any]:
    """A stored credential of realistic size (~3 KB: the signed document dominates)."""
    return {
        "_id": str(uuid.uuid4()),
        "institution_id": "bench",
        "recipient": {"email": f"l{n}@example.org", "email_norm": f"l{n}@example.org"},
        "status": "active",
        "issued_at": utcnow(),
        "document": {"proof": "x" * 2500, "credentialSubject": {"id": f"mailto:l{n}"}},
        "outbox": [outbox_entry(_event(n)), outbox_entry(_event(n))],
    }


async def fill(db: Any, stored: int) -> None:
    for start in range(0, stored, 500):
        docs = [_document(n) for n in range(start, min(start + 500, stored))]
        markers = [
            {"_id": e["event_id"], "at": utcnow(), "collection": "credentials"}
            for d in docs
            for e in d["outbox"]
        ]
        await db["credentials"].insert_many(docs, ordered=False)
        await db["outbox_published"].insert_many(markers, ordered=False)


async def timed_sweep(db: Any, *, full: bool) -> tuple[float, int]:
    sent: Counter[str] = Counter()
    relay = TargetedOutboxRelay(
        db["credentials"],
        counting(sent),
        sweep_interval_s=60.0,
        lease_s=0.0,  # the dead writer's markers are old enough
        lease_notified=False,
    )
    if full:
        await db["outbox_sweeps"].delete_many({})
    else:
        await db["outbox_sweeps"].update_one(
            {"_id": "credentials"}, {"$set": {"at": utcnow()}}, upsert=True
        )
    started = time.perf_counter()
    await relay.drain_once()
    return time.perf_counter() - started, sum(sent.values())


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--unpublished", type=int, default=10)
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    db = client[f"bench_sweep_{uuid.uuid4().hex[:8]}"]
    try:
        started = time.perf_counter()
        await fill(db, args.stored)
        print(
            f"{args.stored} published credentials stored in {time.perf_counter() - started:.1f} s"
        )
        repo = CredentialRepository(db["credentials"])
        for n in range(args.unpublished):
            doc = _document(n)
            entries = doc.pop("outbox")
            events = [CredentialStatusChangedV1.model_validate_json(e["payload"]) for e in entries]
            await repo.insert(doc, events)  # marker, then the credential; nobody relays it
        # The pending sweep first: the full one would publish the entries (and mark them).
        pending_s, pending_sent = await timed_sweep(db, full=False)
        print(
            f"pending-marker sweep: {1000 * pending_s:.0f} ms, {pending_sent} events "
            f"({2 * args.unpublished} unpublished)"
        )
        # The same unpublished work again, for the full sweep.
        for n in range(args.unpublished):
            doc = _document(n)
            entries = doc.pop("outbox")
            events = [CredentialStatusChangedV1.model_validate_json(e["payload"]) for e in entries]
            await repo.insert(doc, events)
        full_s, full_sent = await timed_sweep(db, full=True)
        print(
            f"full sweep (every credential): {full_s:.1f} s, {full_sent} events "
            f"({2 * args.unpublished} unpublished)"
        )
        print("| stored | full sweep | pending-marker sweep | ratio |")
        print("|---:|---:|---:|---:|")
        print(
            f"| {args.stored + 2 * args.unpublished:,} | {full_s:.1f} s | "
            f"{1000 * pending_s:.0f} ms | {full_s / pending_s:.0f} x |"
        )
    finally:
        await client.drop_database(db.name)
        await client.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
