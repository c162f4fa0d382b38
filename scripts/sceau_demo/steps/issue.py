"""Step 2: the college defines the series and issues its modules through the batch API."""

from __future__ import annotations

import time
from typing import Any

import httpx

from sceau_demo.catalogue import OVERALL_NAME, module_bodies, overall_body
from sceau_demo.checks import StepFailed, eventually, expect
from sceau_demo.learners import Learner
from sceau_demo.story import Story


async def publish_achievement(story: Story, http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Create an achievement definition and publish it; return its id."""
    created = expect(
        await http.post(
            story.url("issuer", "/v1/achievements"), headers=story.college.auth, json=body
        ),
        201,
    )
    achievement_id: str = created["achievement_id"]
    expect(
        await http.post(
            story.url("issuer", f"/v1/achievements/{achievement_id}/publish"),
            headers=story.college.auth,
        ),
        200,
    )
    return achievement_id


async def wait_batch(story: Story, http: httpx.AsyncClient, batch_id: str) -> dict[str, Any]:
    """Poll a batch until it is completed; return its final view."""

    async def done() -> dict[str, Any] | None:
        view = expect(
            await http.get(
                story.url("issuer", f"/v1/batches/{batch_id}"), headers=story.college.auth
            ),
            200,
        )
        return view if view["state"] == "completed" else None

    result: dict[str, Any] = await eventually(done, f"batch {batch_id} completed", story.timeout_s)
    return result


async def submit_batch(
    story: Story, http: httpx.AsyncClient, achievement_id: str, learners: list[Learner], key: str
) -> str:
    """Submit one cohort batch; return its id."""
    accepted = expect(
        await http.post(
            story.url("issuer", "/v1/batches"),
            headers=story.college.auth | {"Idempotency-Key": key},
            json={
                "achievement_id": achievement_id,
                "recipients": [learner.recipient() for learner in learners],
            },
        ),
        200,
        202,
    )
    batch_id: str = accepted["batch_id"]
    return batch_id


async def step_define_and_issue(
    story: Story, http: httpx.AsyncClient, learners: list[Learner]
) -> None:
    """2. Define the series and issue its modules to the cohort with the batch API."""
    college = story.college
    for number, body in enumerate(module_bodies(), start=1):
        college.module_ids.append(await publish_achievement(story, http, body))
        story.log(f"published module {number}: {body['name']['fr']} (5 h)")
    college.overall_id = await publish_achievement(story, http, overall_body())
    story.log(f"published the overall credential: {OVERALL_NAME['fr']} / {OVERALL_NAME['en']}")
    series = expect(
        await http.post(
            story.url("issuer", "/v1/series"),
            headers=college.auth,
            json={
                "name": OVERALL_NAME,
                "structure": "modular",
                "components": [{"achievement_id": a} for a in college.module_ids],
                "overall_achievement_id": college.overall_id,
            },
        ),
        201,
    )
    college.series_id = series["series_id"]
    story.log(f"series {college.series_id}: 3 modules -> overall credential")
    for number, achievement_id in enumerate(college.module_ids, start=1):
        passed = [learner for learner in learners if learner.modules_completed >= number]
        started = time.monotonic()
        batch_id = await submit_batch(
            story, http, achievement_id, passed, f"demo-{story.run_id}-module-{number}"
        )
        view = await wait_batch(story, http, batch_id)
        counts = view["counts"]
        if counts.get("issued", 0) != len(passed):
            raise StepFailed(f"batch {batch_id} for module {number}: {counts} ({view['report']})")
        story.summary.issued[f"module-{number}"] = counts["issued"]
        story.log(
            f"module {number}: batch {batch_id[:8]} issued {counts['issued']}/{len(passed)} "
            f"in {time.monotonic() - started:.1f}s"
        )
