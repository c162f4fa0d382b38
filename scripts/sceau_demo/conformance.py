"""The story's last check: every credential the demo issued, against 1EdTech's OB 3.0 rules.

Once the story has played, :func:`sceau_credentials.conformance.inspect_credential` runs over every
credential the college issued (the cohort's modules, the overall credentials, the capstone) and
over the share's derived copy the employer downloaded (``share/shared-credential.json``): the
college's did:key is resolved offline, each proof verified, and each status list fetched from the
running registry to check it holds at least 131,072 entries. The count that conforms goes into the
summary, and the findings of the others are printed grouped by code.

By default (``SCEAU_CONFORMANCE=enforce``, also what ``scripts/test`` passes) a credential that
does not conform fails the step; with ``SCEAU_CONFORMANCE=report`` the count is only reported.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from sceau_credentials.conformance import inspect_credential, offline_resolver
from sceau_demo.checks import StepFailed, expect
from sceau_demo.steps.overall import fetch_credentials
from sceau_demo.story import Story


class _RegistryLists:
    """Status list credentials from the running registry, each fetched once."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http
        self._seen: dict[str, Mapping[str, Any]] = {}

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        if url not in self._seen:
            self._seen[url] = expect(await self._http.get(url), 200)
        return self._seen[url]


async def check_conformance(story: Story, http: httpx.AsyncClient) -> None:
    """Check every credential issued; record how many conform (and fail under ``enforce``)."""
    documents: list[object] = [d["document"] for d in await fetch_credentials(story, http)]
    shared = story.output / "share" / "shared-credential.json"
    if shared.is_file():  # a JSON credential, or a compact VC-JWT for the jwt profile
        text = shared.read_text(encoding="utf-8").strip()
        documents.append(text if not text.startswith("{") else json.loads(text))
    resolver = offline_resolver()  # the demo college signs with did:key
    lists = _RegistryLists(http)
    now = datetime.now(UTC)
    codes: Counter[str] = Counter()
    conformant = 0
    for document in documents:
        findings = await inspect_credential(
            document, resolver=resolver, now=now, status_lists=lists
        )
        conformant += not findings
        codes.update({str(f.code) for f in findings})
    summary = story.summary
    summary.conformance_checked = len(documents)
    summary.conformant = conformant
    summary.conformance_findings = dict(codes)
    listed = ", ".join(f"{code} x{count}" for code, count in codes.most_common())
    story.log(
        f"{conformant}/{len(documents)} credentials conform to 1EdTech's Open Badges 3.0 rules"
        + (f" (findings: {listed})" if listed else "")
    )
    enforced = os.environ.get("SCEAU_CONFORMANCE", "enforce").strip().lower() == "enforce"
    if enforced and conformant != len(documents):
        raise StepFailed(
            f"{len(documents) - conformant} of {len(documents)} issued credentials do not "
            f"conform to 1EdTech's Open Badges 3.0 rules: {dict(codes)}"
        )
