"""Step 4: what the learners (e-mails) and the college's system (webhooks) received."""

from __future__ import annotations

import json
from collections import Counter

from sceau_demo.checks import StepFailed, eventually
from sceau_demo.story import Story


async def step_notifications(story: Story, total_issued: int) -> None:
    """4. Show the learners' e-mails and the webhook deliveries."""

    async def mails_arrived() -> bool:
        return len(story.mails()) >= total_issued

    try:
        await eventually(mails_arrived, "learner e-mails", story.timeout_s)
    except StepFailed as exc:
        raise StepFailed(f"{exc}: {len(story.mails())} of {total_issued} e-mails") from exc
    mails = story.mails()
    story.summary.emails = len(mails)
    languages = Counter(str(m.message.get("Content-Language", "?")) for m in mails)
    story.summary.emails_by_language = dict(languages)
    story.log(f"SMTP sink: {len(mails)} learner e-mails ({total_issued} credentials issued)")
    sample = next(
        (m for m in mails if str(m.message.get("Content-Language", "")).startswith("fr")), mails[0]
    )
    message = sample.message
    print(f"    From:    {message['From']}", flush=True)
    print(f"    To:      {message['To']}", flush=True)
    print(f"    Subject: {message['Subject']}", flush=True)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    for line in [line for line in text.splitlines() if line.strip()][:10]:
        print(f"    | {line[:110]}", flush=True)

    async def hooks_arrived() -> bool:
        return story.hooks.count("credential.issued") >= total_issued

    try:
        await eventually(hooks_arrived, "webhook deliveries", story.timeout_s)
    except StepFailed as exc:
        got = story.hooks.count("credential.issued")
        raise StepFailed(f"{exc}: {got} of {total_issued} credential.issued deliveries") from exc
    unique = story.hooks.unique()
    by_type = Counter(str(d.payload.get("type")) for d in unique.values())
    story.summary.webhooks = dict(by_type)
    signed = all(d.signed_by(story.college.webhook_secret) for d in story.hooks.snapshot())
    story.summary.webhook_signatures_ok = signed
    if not signed:
        raise StepFailed("a webhook delivery does not carry a valid Standard Webhooks signature")
    story.log(
        f"webhook receiver: {dict(by_type)}; every signature checks out against the endpoint secret"
    )
    example = next(d for d in unique.values() if d.payload.get("type") == "credential.issued")
    print(f"    webhook-id: {example.webhook_id}", flush=True)
    print(f"    {json.dumps(example.payload, ensure_ascii=False)[:400]}", flush=True)
