"""The Kafka broker restarts in the middle of the flow; nothing the services accepted is lost.

This test runs its own broker (free ports, temporary data folder) and its own four services on
it, so stopping the broker does not disturb the shared one other tests use.

While a cohort batch is being issued the broker stops and starts again. Afterwards every learner
has their credential, e-mail and webhook (the outboxes relay what piled up while the broker was
away), the registry has received the new status list, and a revocation made after the restart
reaches the employer.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from system_support import running_system

from sceau_dev.infra import kafka_server
from sceau_dev.infra.manager import default_cache_dir
from sceau_dev.infra.process import free_port
from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.polling import eventually

pytestmark = pytest.mark.e2e

COHORT = 30


def _progress(message: str) -> None:
    print(f"[broker] {message}")


async def test_broker_restart_during_the_flow(real_endpoints: Endpoints, tmp_path: Path) -> None:
    config = kafka_server.KafkaConfig(
        port=free_port(),
        controller_port=free_port(),
        data_dir=tmp_path / "kafka",
        log_file=tmp_path / "kafka.log",
        heap="384m",
    )
    cache = default_cache_dir()
    pid = await asyncio.to_thread(kafka_server.start, config, cache, _progress, timeout_s=120)
    try:
        logs = tmp_path / "logs"
        with running_system(config.bootstrap, real_endpoints.mongo_uri, logs) as system:
            demo = system.demo
            story = system.story(tmp_path / "out", timeout_s=90)
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    await demo.step_onboard(story, http)
                    achievement_id = await demo.publish_achievement(
                        story, http, demo.module_bodies()[0]
                    )
                    learners = demo.cohort(COHORT, story.run_id)
                    batch_id = await demo.submit_batch(
                        story, http, achievement_id, learners, f"restart-{story.run_id}"
                    )

                    async def under_way() -> dict[str, Any] | None:
                        answer = await http.get(
                            story.url("issuer", f"/v1/batches/{batch_id}"),
                            headers=story.college.auth,
                        )
                        view: dict[str, Any] = answer.json()
                        return view if view["counts"].get("issued", 0) >= 5 else None

                    before = await eventually(under_way, timeout_s=60, message="batch under way")
                    down = time.monotonic()
                    await asyncio.to_thread(kafka_server.stop, pid)
                    print(f"[broker] stopped with {before['counts']} of {COHORT} issued")
                    await asyncio.sleep(2.0)
                    pid = await asyncio.to_thread(
                        kafka_server.start, config, cache, _progress, timeout_s=120
                    )
                    print(f"[broker] back after {time.monotonic() - down:.1f}s")

                    view = await demo.wait_batch(story, http, batch_id)
                    assert view["counts"].get("failed", 0) == 0, view
                    assert await demo.count_credentials(story, http, achievement_id) == COHORT

                    async def everyone_notified() -> bool:
                        return (
                            len(story.mails()) >= COHORT
                            and story.hooks.count("credential.issued") >= COHORT
                        )

                    try:
                        await eventually(
                            everyone_notified, timeout_s=90, message="e-mails and webhooks"
                        )
                    except AssertionError as exc:
                        got = (len(story.mails()), story.hooks.count("credential.issued"))
                        pytest.fail(f"{exc}: (mails, webhooks) = {got}\n{system.logs()}")
                    assert {m.envelope_to[0] for m in story.mails()} == {
                        learner.email for learner in learners
                    }

                    details = await demo.fetch_credentials(story, http)
                    try:
                        await demo.step_verify_revoke(story, http, details)
                    except demo.StepFailed as exc:
                        pytest.fail(f"{exc}\n{system.logs()}")
                    assert story.summary.verified_before == "verified"
                    assert story.summary.verified_after == "not-verified"
            finally:
                story.hooks.stop()
    finally:
        await asyncio.to_thread(kafka_server.stop, pid)
