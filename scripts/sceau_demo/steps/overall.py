"""Step 3: the learners holding all three modules receive the overall credential.

The issuer grants it on its own (series completion); the step only watches the count reach the
number of learners who completed, and checks it does not go beyond.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from sceau_demo.catalogue import OVERALL_NAME
from sceau_demo.checks import StepFailed, eventually, expect
from sceau_demo.learners import Learner
from sceau_demo.story import Story


async def count_credentials(
    story: Story, http: httpx.AsyncClient, achievement_id: str, status: str | None = None
) -> int:
    """How many credentials of one achievement the college has issued."""
    params: dict[str, Any] = {"achievement_id": achievement_id, "page_size": 1}
    if status:
        params["status"] = status
    page = expect(
        await http.get(
            story.url("issuer", "/v1/credentials"), headers=story.college.auth, params=params
        ),
        200,
    )
    total: int = page["total"]
    return total


async def step_overall(story: Story, http: httpx.AsyncClient, learners: list[Learner]) -> None:
    """3. The learners who hold all three modules receive the overall credential."""
    expected = sum(1 for learner in learners if learner.modules_completed == 3)
    story.summary.overall_expected = expected
    started = time.monotonic()
    last = 0

    async def all_issued() -> bool:
        nonlocal last
        last = await count_credentials(story, http, story.college.overall_id)
        return last >= expected

    try:
        await eventually(all_issued, "overall credentials", story.timeout_s)
    except StepFailed as exc:
        raise StepFailed(f"{exc}: {last} of {expected} overall credentials issued") from exc
    await asyncio.sleep(1.0)  # any surplus (a double issue) would show up now
    issued = await count_credentials(story, http, story.college.overall_id)
    story.summary.overall_issued = issued
    story.summary.overall_seconds = time.monotonic() - started
    story.summary.issued["overall"] = issued
    if issued != expected:
        raise StepFailed(f"{issued} overall credentials for {expected} learners who completed")
    partial = len(learners) - expected
    story.log(
        f"{issued} learners completed all three modules and hold '{OVERALL_NAME['en']}'; "
        f"{partial} completed only part of the series and do not"
    )


async def fetch_credentials(story: Story, http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every credential of the college, with its signed document."""
    ids: list[str] = []
    page = 1
    while True:
        listing = expect(
            await http.get(
                story.url("issuer", "/v1/credentials"),
                headers=story.college.auth,
                params={"page": page, "page_size": 200},
            ),
            200,
        )
        ids += [item["credential_id"] for item in listing["items"]]
        if page * 200 >= listing["total"]:
            break
        page += 1
    gate = asyncio.Semaphore(8)

    async def detail(credential_id: str) -> dict[str, Any]:
        async with gate:
            return expect(
                await http.get(
                    story.url("issuer", f"/v1/credentials/{credential_id}"),
                    headers=story.college.auth,
                ),
                200,
            )

    return list(await asyncio.gather(*(detail(i) for i in ids)))
