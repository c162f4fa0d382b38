"""The whole story, step after step, against a running stack (what the demo and tests play)."""

from __future__ import annotations

import time
from collections import Counter

import httpx

from sceau_demo.conformance import check_conformance
from sceau_demo.console import heading
from sceau_demo.learners import cohort
from sceau_demo.output import write_credentials, write_notifications
from sceau_demo.steps.issue import step_define_and_issue
from sceau_demo.steps.notifications import step_notifications
from sceau_demo.steps.onboard import step_onboard
from sceau_demo.steps.overall import fetch_credentials, step_overall
from sceau_demo.steps.sharing import step_share
from sceau_demo.steps.verification import step_verify_revoke
from sceau_demo.story import Story, Summary


async def run_story(story: Story) -> Summary:
    """Play the whole story against a running stack; raise :class:`StepFailed` on any failure."""
    learners = cohort(story.cohort_size, story.run_id)
    story.summary.learners = len(learners)
    timings = story.summary.steps_seconds
    async with httpx.AsyncClient(timeout=30) as http:
        started = time.monotonic()
        heading(1, "An operator registers and accredits a bilingual college")
        await step_onboard(story, http)
        timings["onboard"] = time.monotonic() - started

        started = time.monotonic()
        heading(2, "The college defines the series and issues the modules to its cohort")
        story.log(
            f"cohort of {len(learners)}: "
            + ", ".join(
                f"{sum(1 for x in learners if x.modules_completed == n)} completed {n} module(s)"
                for n in (3, 2, 1)
            )
        )
        await step_define_and_issue(story, http, learners)
        timings["issue"] = time.monotonic() - started

        started = time.monotonic()
        heading(3, "Learners who completed every module receive the overall credential")
        await step_overall(story, http, learners)
        details = await fetch_credentials(story, http)
        story.summary.credentials_written = write_credentials(story, details)
        story.log(f"wrote {len(details)} signed credentials to {story.output / 'credentials'}")
        timings["overall"] = time.monotonic() - started

        started = time.monotonic()
        heading(4, "What the learners and the college's systems received")
        await step_notifications(story, len(details))
        timings["notifications"] = time.monotonic() - started

        started = time.monotonic()
        heading(5, "An employer verifies; the college revokes; the employer verifies again")
        await step_verify_revoke(story, http, details)
        timings["verify"] = time.monotonic() - started
        write_notifications(story)
        unique = story.hooks.unique().values()
        story.summary.webhooks = dict(Counter(str(d.payload.get("type")) for d in unique))

        # After the snapshot of steps 1-5: the capstone it issues stays out of their counts.
        started = time.monotonic()
        heading(6, "A learner accepts, shares hiding the grade; an employer opens the link")
        await step_share(story, http, learners[0])
        timings["share"] = time.monotonic() - started
        # Every credential issued, the capstone and the share's derived copy included.
        await check_conformance(story, http)
    return story.summary
