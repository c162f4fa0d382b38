"""Failure cases through the real services: a crashed issuer, a webhook receiver that is down.

Accepted work is never lost: a batch accepted before the issuer is killed (SIGKILL, no chance to
clean up) is finished by the restarted issuer with exactly one credential per recipient; a
webhook the college could not receive is retried until it gets through, and one that exhausted
its retries waits in the failed list until an operator replays it.
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
from system_support import System

from sceau_dev.testing.polling import eventually

pytestmark = pytest.mark.e2e

COHORT = 60


async def _batch(story: Any, http: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    answer = await http.get(
        story.url("issuer", f"/v1/batches/{batch_id}"), headers=story.college.auth
    )
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def test_issuer_killed_mid_batch_issues_each_recipient_once(
    system: System, tmp_path: Path
) -> None:
    demo = system.demo
    story = system.story(tmp_path, timeout_s=90)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await demo.step_onboard(story, http)
            achievement_id = await demo.publish_achievement(story, http, demo.module_bodies()[0])
            learners = demo.cohort(COHORT, story.run_id)
            batch_id = await demo.submit_batch(
                story, http, achievement_id, learners, f"kill-{story.run_id}"
            )

            async def partly_issued() -> dict[str, Any] | None:
                view = await _batch(story, http, batch_id)
                done = view["counts"].get("issued", 0)
                return view if done >= 10 or view["state"] == "completed" else None

            before = await eventually(partly_issued, timeout_s=60, message="batch under way")
            assert before["state"] != "completed", "the batch finished before the kill"
            system.stack["issuer"].kill()
            killed = time.monotonic()
            print(f"[e2e] issuer killed with {before['counts']} of {COHORT}")
            system.stack["issuer"].start()
            await asyncio.to_thread(system.stack["issuer"].wait_ready, 90)
            print(f"[e2e] issuer ready again {time.monotonic() - killed:.1f}s after the kill")

            view = await demo.wait_batch(story, http, batch_id)
            print(f"[e2e] batch completed {time.monotonic() - killed:.1f}s after the kill")
            assert view["counts"].get("failed", 0) == 0, view
            assert sum(view["counts"].values()) == COHORT, view

            listing = await http.get(
                story.url("issuer", "/v1/credentials"),
                headers=story.college.auth,
                params={"achievement_id": achievement_id, "page_size": 200},
            )
            assert listing.status_code == 200, listing.text
            holders = Counter(item["recipient"]["email"] for item in listing.json()["items"])
            assert listing.json()["total"] == COHORT
            assert holders == Counter({learner.email: 1 for learner in learners})

            # Every learner is told once (a resend after the crash keeps its Message-ID).
            async def everyone_mailed() -> bool:
                return len(story.mails()) >= COHORT

            try:
                await eventually(everyone_mailed, timeout_s=60, message="one e-mail per learner")
            except AssertionError as exc:
                pytest.fail(f"{exc}: {len(story.mails())} of {COHORT} mailed\n{system.logs()}")
            print(f"[e2e] every learner mailed {time.monotonic() - killed:.1f}s after the kill")
            per_learner = Counter(m.envelope_to[0] for m in story.mails())
            assert per_learner == Counter({learner.email: 1 for learner in learners})

            async def every_webhook() -> bool:
                return bool(story.hooks.count("credential.issued") >= COHORT)

            await eventually(every_webhook, timeout_s=30, message="one webhook per credential")
            assert story.hooks.count("credential.issued") == COHORT
    finally:
        story.hooks.stop()


async def test_notifier_killed_while_sending_tells_everyone_once(
    system: System, tmp_path: Path
) -> None:
    demo = system.demo
    story = system.story(tmp_path, timeout_s=90)
    notifier = system.stack["notifier"]
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await demo.step_onboard(story, http)
            achievement_id = await demo.publish_achievement(story, http, demo.module_bodies()[0])
            learners = demo.cohort(COHORT, story.run_id)
            await demo.submit_batch(story, http, achievement_id, learners, f"n-{story.run_id}")

            async def some_mailed() -> bool:
                return len(story.mails()) >= 5

            await eventually(some_mailed, timeout_s=60, message="the first e-mails")
            notifier.kill()
            killed = time.monotonic()
            print(f"[e2e] notifier killed after {len(story.mails())} of {COHORT} e-mails")
            notifier.start()
            await asyncio.to_thread(notifier.wait_ready, 90)

            async def everyone() -> bool:
                return (
                    len(story.mails()) >= COHORT
                    and story.hooks.count("credential.issued") >= COHORT
                )

            try:
                await eventually(everyone, timeout_s=75, message="every e-mail and webhook")
            except AssertionError as exc:
                got = (len(story.mails()), story.hooks.count("credential.issued"))
                pytest.fail(f"{exc}: (mails, webhooks) = {got}\n{system.logs()}")
            sent = [m for m in system.smtp.snapshot() if story.run_id in m.envelope_to[0]]
            print(
                f"[e2e] everyone told {time.monotonic() - killed:.1f}s after the kill "
                f"({len(sent)} SMTP messages for {COHORT} learners)"
            )
            # Once per learner: a message sent again after the crash keeps its Message-ID, and a
            # webhook sent again keeps its webhook-id, so receivers can drop the repeat.
            per_learner = Counter(m.envelope_to[0] for m in story.mails())
            assert per_learner == Counter({learner.email: 1 for learner in learners})
            assert story.hooks.count("credential.issued") == COHORT
    finally:
        story.hooks.stop()


async def _issue(story: Any, http: httpx.AsyncClient, achievement_id: str, email: str) -> str:
    answer = await http.post(
        story.url("issuer", "/v1/credentials"),
        headers=story.college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={"achievement_id": achievement_id, "recipient": {"email": email, "language": "en"}},
    )
    assert answer.status_code == 201, answer.text
    credential_id: str = answer.json()["credential_id"]
    return credential_id


async def _deliveries(story: Any, http: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    answer = await http.get(
        story.url("notifier", "/v1/deliveries"),
        headers=story.operator,
        params={"institution_id": story.college.institution_id, **params},
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def _received(story: Any, credential_id: str) -> list[Any]:
    return [
        d
        for d in story.hooks.snapshot()
        if d.payload.get("type") == "credential.issued"
        and credential_id in str(d.payload["data"].get("credential_id"))
    ]


async def test_webhook_receiver_down_then_back(system: System, tmp_path: Path) -> None:
    demo = system.demo
    story = system.story(tmp_path)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await demo.step_onboard(story, http)
            achievement_id = await demo.publish_achievement(story, http, demo.module_bodies()[0])

            # 1. Down for a moment: the notifier retries and the delivery gets through.
            story.hooks.stop()
            first = await _issue(story, http, achievement_id, f"a.{story.run_id}@example.org")

            async def failed_once() -> list[dict[str, Any]]:
                return [
                    d
                    for d in await _deliveries(story, http)
                    if d["attempts"] >= 1 and d["status"] != "sent"
                ]

            pending = await eventually(failed_once, timeout_s=30, message="a failed first attempt")
            assert pending[0]["last_error"], pending
            story.hooks.start()

            async def got_first() -> list[Any]:
                return _received(story, first)

            received = await eventually(got_first, timeout_s=30, message="the retried delivery")
            assert received[0].signed_by(story.college.webhook_secret)
            sent = await _deliveries(story, http, status="sent")
            assert [d["attempts"] >= 2 for d in sent] == [True], sent
            assert sent[0]["webhook_id"] == received[0].webhook_id

            # 2. Down for longer than the retries last: dead-lettered, then replayed.
            story.hooks.stop()
            second = await _issue(story, http, achievement_id, f"b.{story.run_id}@example.org")

            async def dead() -> list[dict[str, Any]]:
                return await _deliveries(story, http, status="failed")

            failed = await eventually(dead, timeout_s=45, message="the delivery in the failed list")
            assert failed[0]["attempts"] == 4, failed
            assert _received(story, second) == []
            story.hooks.start()
            replay = await http.post(
                story.url("notifier", f"/v1/deliveries/{failed[0]['id']}/replay"),
                headers=story.operator,
            )
            assert replay.status_code == 202, replay.text

            async def got_second() -> list[Any]:
                return _received(story, second)

            replayed = await eventually(got_second, timeout_s=30, message="the replayed delivery")
            assert replayed[0].webhook_id == failed[0]["webhook_id"]
            assert replayed[0].signed_by(story.college.webhook_secret)

            async def all_sent() -> bool:
                return len(await _deliveries(story, http, status="sent")) == 2

            await eventually(all_sent, timeout_s=15, message="both deliveries sent")
    finally:
        story.hooks.stop()
