"""Two issuer replicas revoking on the same status list at the same time: every revocation lands.

A second issuer process (same database, same consumer groups, another port) joins the suite's
issuer. A college's credentials share one status list; half are revoked through one replica and
half through the other, all at once, so both re-sign the same list concurrently. The list the
registry serves ends up with every revocation (checked with the engine's status checker) and no
other credential touched, each revocation announced once.

On FerretDB the version guard of a list's publication is not atomic (docs/reliability.md): two
replicas can both store "their" version. What keeps revocations from being lost is that each
re-sign is rebuilt from the numbered change log and the credentials' current status, and a
change not yet visible to a replica keeps that replica's log position on it, so a later re-sign
(on either replica) publishes a list with everything.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import (
    all_valid,
    announcements,
    figures,
    peak_memory_mb,
    revocations_served,
)

from sceau_dev.infra.process import free_port
from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.journeys import issue, onboard
from sceau_dev.testing.processes import ServiceProcess
from sceau_dev.testing.stack import Stack
from sceau_shared.events import CredentialStatusChangedV1

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREDENTIALS = 16


async def test_two_replicas_revoking_on_one_list_lose_no_revocation(
    fault_stack: Stack, real_endpoints: Endpoints, tmp_path: Path
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    port = free_port()
    second = ServiceProcess(
        "issuer",
        port,
        {**stack["issuer"].env, "ISSUER_HTTP__PORT": str(port)},
        tmp_path / "replica",
    )
    second.start()
    try:
        await asyncio.to_thread(second.wait_ready, 90)
        replicas = [stack.url("issuer"), second.url]
        async with httpx.AsyncClient(timeout=60) as http:
            college = await onboard(http, stack, f"Répliques {run}")
            issued = [
                await issue(http, stack, college, f"x{n}-{run}@example.org")
                for n in range(CREDENTIALS)
            ]
            lists = {d["document"]["credentialStatus"]["statusListCredential"] for d in issued}
            assert len(lists) == 1, lists  # one list: the replicas race on it
            await all_valid(http, issued)
            to_revoke, kept = issued[: CREDENTIALS // 2], issued[CREDENTIALS // 2 :]

            async def revoke(n: int, detail: dict[str, Any]) -> httpx.Response:
                return await http.post(
                    f"{replicas[n % 2]}/v1/credentials/{detail['credential_id']}/revoke",
                    headers=college.auth,
                    json={"reason_code": "issued-in-error"},
                )

            started = time.monotonic()
            answers = await asyncio.gather(*(revoke(n, d) for n, d in enumerate(to_revoke)))
            assert Counter(a.status_code for a in answers) == {200: len(to_revoke)}, [
                a.text for a in answers if a.status_code != 200
            ]
            await revocations_served(http, to_revoke, kept)
            served_s = time.monotonic() - started
        topic = stack.config.topic_prefix + CredentialStatusChangedV1.TOPIC
        changes = await announcements(
            real_endpoints.kafka_bootstrap, topic, {d["credential_id"] for d in to_revoke}
        )
        doubled = sum(n - 1 for n in changes.values())
        assert doubled == 0, changes
        memory = peak_memory_mb(stack)
    finally:
        status = Path(f"/proc/{second.process.pid}/status") if second.process else None
        replica_mb = 0.0
        for line in status.read_text().splitlines() if status and status.exists() else []:
            if line.startswith("VmHWM:"):
                replica_mb = int(line.split()[1]) / 1024
        second.stop()
    figures(
        "two issuer replicas revoking on one list",
        requests=CREDENTIALS + len(to_revoke),
        faults="2 replicas re-signing one list concurrently",
        revoked=len(to_revoke),
        lost=0,
        duplicated=doubled,
        all_revocations_served_s=round(served_s, 1),
        peak_memory_mb={**memory, "issuer-2": round(replica_mb, 1)},
    )
