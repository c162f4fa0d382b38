"""What the story leaves in its output folder (``demo-output/`` by default).

Every signed credential (``credentials/*.json``), every e-mail (``mail/*.eml``) and every webhook
delivery (``webhooks.jsonl``) of steps 1-5; what the sharing scene (step 6) produced in ``share/``
(the share link, its QR code, the PDF certificate, the baked badge, the document the employer can
download and the e-mail the learner followed); the services write their own logs to ``logs/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sceau_demo.story import Story


def fresh_output(output: Path) -> None:
    """Empty what an earlier run wrote (the logs, credentials and mail of this run only)."""
    for name in ("credentials", "mail", "logs", "share"):
        shutil.rmtree(output / name, ignore_errors=True)
    (output / "webhooks.jsonl").unlink(missing_ok=True)
    output.mkdir(parents=True, exist_ok=True)


def write_credentials(story: Story, details: list[dict[str, Any]]) -> int:
    """Write each signed credential to ``credentials/<achievement>-<learner>-<id>.json``."""
    folder = story.output / "credentials"
    folder.mkdir(parents=True, exist_ok=True)
    labels = {a: f"module-{n}" for n, a in enumerate(story.college.module_ids, start=1)}
    labels[story.college.overall_id] = "overall"
    for detail in details:
        label = labels.get(detail["achievement_id"], detail["achievement_id"])
        local = str(detail["recipient"].get("email", "learner")).split("@")[0]
        name = f"{label}-{local}-{detail['credential_id'][:8]}.json"
        document = detail["document"]
        text = document if isinstance(document, str) else json.dumps(document, indent=2)
        (folder / name).write_text(text, encoding="utf-8")
    return len(details)


def write_notifications(story: Story) -> None:
    """Write the e-mails (``mail/*.eml``) and the webhook deliveries (``webhooks.jsonl``)."""
    folder = story.output / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    for number, mail in enumerate(story.mails(), start=1):
        (folder / f"{number:03d}.eml").write_bytes(mail.raw)
    with (story.output / "webhooks.jsonl").open("w", encoding="utf-8") as out:
        for delivery in story.hooks.snapshot():
            line = {"webhook_id": delivery.webhook_id, "timestamp": delivery.timestamp}
            out.write(json.dumps(line | {"payload": delivery.payload}, ensure_ascii=False) + "\n")


def write_share_file(story: Story, name: str, content: bytes | str) -> Path:
    """Write one file of the sharing scene to ``share/<name>``; return its path."""
    folder = story.output / "share"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path
