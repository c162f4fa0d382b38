"""Load the field's scale into a running Sceau stack through its public APIs and batches.

The field (docs/benchmarks.md, "Stores at the field's scale"): 60 institutions registered and
accredited, 500 achievements (each institution with one series of three modules and an overall
credential), 20,000 learners, 250,000 credentials, and about 1.5 % of them revoked. ``--scale``
multiplies every count (``--scale 0.01`` is one institution, 5 achievements, 500 learners, 2,500
credentials); each achievement is issued to the same number of learners (500) at every scale, so
batches keep their real size.

Everything goes through what an operator and an institution use:

* the registry's operator API registers, activates and accredits each institution;
* ``sceau issuer api-key create`` (the issuer's operator command, run with the issuer's
  environment) gives each institution an API key once the issuer has created its tenant;
* the issuer's API creates and publishes achievements, defines the series, issues one batch per
  achievement (``POST /v1/batches``, deterministic ``Idempotency-Key``) and revokes
  (``POST /v1/credentials/status`` with credential ids taken from the batch results).

Resumable: every step first looks for what exists (institution by id, achievement and series by
name, batch by idempotency key, revocation already done) and skips it. API keys cannot be read
back, so the tokens are kept in ``--state`` (JSON); a lost state file only costs new keys.

Usage (a stack you started; ``--start-stack`` starts one on free ports beside the shared
Kafka/MongoDB servers with its own topic and database prefix, and stops it at the end)::

    uv run python bench/seed.py --scale 0.01 --start-stack
    uv run python bench/seed.py --registry http://127.0.0.1:8002 --issuer http://127.0.0.1:8001 \\
        --operator-token … --issuer-env ISSUER_MASTER_KEY=… --issuer-env ISSUER_MONGO__URI=… \\
        --issuer-env ISSUER_MONGO__DATABASE=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

FIELD = {
    "institutions": 60,
    "achievements": 500,
    "learners": 20_000,
    "credentials": 250_000,
}
PER_ACHIEVEMENT = FIELD["credentials"] // FIELD["achievements"]
REVOKED_SHARE = 0.015
SERIES_SIZE = 4  # three modules and the overall credential
SERIES_STAGGER = 100  # learners between the starts of a series' module cohorts
NAME_PREFIX = "Seed"


def log(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass(frozen=True)
class Plan:
    """How many of each thing one ``--scale`` means."""

    institutions: int
    achievements: int
    learners: int
    per_achievement: int

    @classmethod
    def at(cls, scale: float) -> Plan:
        institutions = max(1, round(FIELD["institutions"] * scale))
        achievements = max(institutions, round(FIELD["achievements"] * scale))
        learners = max(PER_ACHIEVEMENT, round(FIELD["learners"] * scale))
        return cls(institutions, achievements, learners, PER_ACHIEVEMENT)

    @property
    def credentials(self) -> int:
        return self.achievements * self.per_achievement

    def achievements_of(self, institution: int) -> list[int]:
        """The global numbers of an institution's achievements (round-robin)."""
        return list(range(institution, self.achievements, self.institutions))

    def series_position(self, achievement: int) -> int | None:
        """Where an achievement sits in its institution's series (modules 0 to 2, the overall 3).

        ``None`` for an achievement outside any series: an institution defines one series from
        its first :data:`SERIES_SIZE` achievements when it has that many.
        """
        institution = achievement % self.institutions
        position = achievement // self.institutions
        in_series = len(self.achievements_of(institution)) >= SERIES_SIZE
        return position if in_series and position < SERIES_SIZE else None

    def recipients_of(self, achievement: int) -> list[dict[str, str]]:
        """A deterministic cohort for one achievement, spread over all the learners.

        A series' cohorts overlap on purpose: module *k* starts *k* times :data:`SERIES_STAGGER`
        learners after the first module, so the learners in all three modules (300 of 500 at
        the field's scale) complete the series and are awarded its overall credential by the
        issuer; the overall achievement's own batch goes to the first module's cohort, which
        holds every one of them (found as duplicates), so each achievement still stores
        :attr:`per_achievement` credentials. Cohorts spread at random met so rarely at 20,000
        learners that the whole-scale seed of 2026-12-06 awarded none.
        """
        position = self.series_position(achievement)
        if position is None:
            start = (achievement * 7919) % self.learners
        else:
            first = achievement % self.institutions
            stagger = SERIES_STAGGER * position if position < SERIES_SIZE - 1 else 0
            start = (first * 7919 + stagger) % self.learners
        return [
            {
                "email": f"learner{(start + j) % self.learners:06d}@seed.example",
                "name": f"Learner {(start + j) % self.learners}",
                "language": "fr" if (start + j) % 3 else "en",
            }
            for j in range(self.per_achievement)
        ]


@dataclass
class Endpoints:
    """The stack the seed talks to."""

    registry: str
    issuer: str
    operator_token: str
    issuer_env: dict[str, str]
    run: str


@dataclass
class Tally:
    """What this run did and skipped, for the progress lines and the end report."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


def institution_id(run: str, number: int) -> str:
    return f"seed-{run}-{number:03d}"


def achievement_body(number: int, name: str, hours: float, modules: int) -> dict[str, Any]:
    """A bilingual MicroCredential definition (about the size of a real one)."""
    return {
        "achievement_type": "MicroCredential",
        "default_language": "fr",
        "name": {"fr": f"{name} (fr)", "en": name},
        "description": {
            "fr": f"Micro-titre de charge numéro {number} : concevoir, réaliser et évaluer.",
            "en": f"Load micro-credential number {number}: design, deliver and assess.",
        },
        "criteria": {"fr": "Réussir le projet final.", "en": "Pass the final project."},
        "competencies": [
            {
                "name": {"fr": f"Compétence {number}", "en": f"Competency {number}"},
                "url": f"https://competences.example.org/seed/{number}",
                "framework": {"fr": "Cadre de charge", "en": "Load framework"},
                "code": f"SEED-{number}",
                "skill_type": "technical",
            }
        ],
        "hours": hours,
        "modules": modules,
        "delivery_mode": "online",
        "pacing": "cohort",
        "assessments": [
            {
                "method": "project",
                "name": {"fr": "Projet", "en": "Project"},
                "result_type": "Status",
            }
        ],
        "instruction_languages": ["fr", "en"],
        "quality_assurance": [
            {"id": "https://qualite.example.org", "name": {"fr": "Comité", "en": "Board"}}
        ],
    }


def english_name(item: dict[str, Any]) -> str:
    """The English name of a listed achievement (in its latest definition) or series."""
    for holder in (item, item.get("latest", {}).get("definition", {})):
        if "name" in holder:
            return str(holder["name"]["en"])
    raise RuntimeError(f"no name in {sorted(item)}")


def expect(response: httpx.Response, *codes: int) -> Any:
    if response.status_code not in codes:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:400]}"
        )
    return response.json() if response.content else None


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 180.0
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


class Seeder:
    """One seeding run against one stack."""

    def __init__(
        self, ep: Endpoints, plan: Plan, state_file: Path, in_flight: int, *, series: bool = True
    ) -> None:
        self.ep = ep
        self.series = series
        self.plan = plan
        self.state_file = state_file
        self.state: dict[str, Any] = (
            json.loads(state_file.read_text()) if state_file.exists() else {}
        )
        self.tally = Tally()
        self.batches = asyncio.Semaphore(in_flight)
        self.operator = {"Authorization": f"Bearer {ep.operator_token}"}
        self.issued = 0
        self.seconds = 0.0

    def save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=1))

    # --- registry (operator) -------------------------------------------------------------
    async def onboard(self, http: httpx.AsyncClient, number: int) -> str:
        """Register, activate and accredit one institution unless already done."""
        inst = institution_id(self.ep.run, number)
        admin = f"{self.ep.registry}/v1/admin/institutions/{inst}"
        found = await http.get(admin, headers=self.operator)
        if found.status_code == 404:
            expect(
                await http.post(
                    f"{self.ep.registry}/v1/admin/institutions",
                    headers=self.operator,
                    json={
                        "institution_id": inst,
                        "legal_name": {
                            "fr": f"Collège de charge {number}",
                            "en": f"Load College {number}",
                        },
                        "category": "public-college",
                        "jurisdiction": "CA-QC",
                        "domain": f"{inst}.example",
                        "contact_email": f"registraire@{inst}.example",
                        "did_method": "key",
                        "reason": "seed",
                    },
                ),
                201,
            )
            self.tally.add("institutions registered")
            view = expect(await http.get(admin, headers=self.operator), 200)
        else:
            view = expect(found, 200)
            self.tally.add("institutions found")
        if view.get("status") != "active":
            expect(
                await http.post(
                    f"{admin}/status",
                    headers=self.operator,
                    json={"status": "active", "reason": "seed"},
                ),
                200,
            )
        if not view.get("scopes"):
            expect(
                await http.post(
                    f"{admin}/scopes",
                    headers=self.operator,
                    json={
                        "achievement_types": ["MicroCredential"],
                        "valid_from": datetime.now(UTC).isoformat(),
                        "accreditor": "Ministère (charge)",
                        "reason": "seed",
                    },
                ),
                201,
            )
        return inst

    # --- issuer (operator command, then the institution's API key) ------------------------
    async def api_key(self, inst: str) -> dict[str, str]:
        """The institution's API key: from the state file, else ``sceau issuer api-key create``."""
        keys = self.state.setdefault("api_keys", {})
        if inst not in keys:
            command = [
                *sceau_command(), "issuer", "api-key", "create", "--institution", inst,
                "--name", "seed", "--scopes", "issue,revoke,read,manage", "--json",
            ]  # fmt: skip
            env = {**os.environ, **self.ep.issuer_env}
            errors: list[str] = []

            async def attempt() -> str | None:
                done = await asyncio.to_thread(
                    subprocess.run, command, env=env, capture_output=True, text=True, timeout=120
                )
                if done.returncode != 0:
                    errors.append(done.stderr.strip()[-300:])
                    return None
                token: str = json.loads(done.stdout)["token"]
                return token

            try:
                keys[inst] = await eventually(attempt, f"the issuer's tenant {inst}")
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}; last error: {errors[-1] if errors else '-'}") from exc
            self.save()
            self.tally.add("API keys created")
        return {"Authorization": f"Bearer {keys[inst]}"}

    async def existing(
        self, http: httpx.AsyncClient, auth: dict[str, str], path: str
    ) -> dict[str, dict[str, Any]]:
        """English name -> listing item of what the institution has under ``path`` (all pages)."""
        names: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            body = expect(
                await http.get(
                    f"{self.ep.issuer}{path}",
                    headers=auth,
                    params={"page": page, "page_size": 200},
                ),
                200,
            )
            items = body["items"] if isinstance(body, dict) else body
            for item in items:
                names[english_name(item)] = item
            if len(items) < 200:
                return names
            page += 1

    def series_position(self, number: int) -> int | None:
        """The plan's series position of achievement ``number``; None when series are not seeded."""
        return self.plan.series_position(number) if self.series else None

    def is_overall(self, number: int) -> bool:
        """Whether achievement ``number`` is its series' overall credential."""
        return self.series_position(number) == SERIES_SIZE - 1

    def note_member(self, members: dict[int, str], number: int, achievement: str) -> None:
        """Record ``achievement`` under its series position, if it has one."""
        position = self.series_position(number)
        if position is not None:
            members[position] = achievement

    async def achievements(
        self, http: httpx.AsyncClient, auth: dict[str, str], inst: str, numbers: list[int]
    ) -> list[str]:
        """Create and publish the institution's achievements; define its series."""
        have = await self.existing(http, auth, "/v1/achievements")
        ids: list[str] = []
        series_members: dict[int, str] = {}  # position in the series -> achievement id
        for number in numbers:
            overall = self.is_overall(number)
            name = f"{NAME_PREFIX} {self.ep.run} achievement {number}"
            if name in have and have[name].get("latest", {}).get("state") == "published":
                ids.append(str(have[name]["achievement_id"]))
                self.tally.add("achievements found")
                self.note_member(series_members, number, ids[-1])
                continue
            if name in have:  # created by an interrupted run, not published yet
                achievement = str(have[name]["achievement_id"])
            else:
                body = achievement_body(number, name, 15 if overall else 5, 3 if overall else 1)
                created = expect(
                    await http.post(f"{self.ep.issuer}/v1/achievements", headers=auth, json=body),
                    201,
                )
                achievement = str(created["achievement_id"])

            async def publish(achievement: str = achievement) -> bool:
                answer = await http.post(
                    f"{self.ep.issuer}/v1/achievements/{achievement}/publish", headers=auth
                )
                if answer.status_code == 200:
                    return True
                if answer.status_code in (403, 409, 422):  # accreditation not there yet
                    return False
                expect(answer, 200)
                return False

            await eventually(publish, f"publishing achievement {number} of {inst}")
            ids.append(achievement)
            self.tally.add("achievements created")
            self.note_member(series_members, number, achievement)
        if len(series_members) == SERIES_SIZE:
            name = f"{NAME_PREFIX} {self.ep.run} series {inst}"
            if name not in await self.existing(http, auth, "/v1/series"):
                modules = [series_members[k] for k in range(SERIES_SIZE - 1)]
                expect(
                    await http.post(
                        f"{self.ep.issuer}/v1/series",
                        headers=auth,
                        json={
                            "name": {"fr": f"{name} (fr)", "en": name},
                            "structure": "modular",
                            "components": [{"achievement_id": a} for a in modules],
                            "overall_achievement_id": series_members[SERIES_SIZE - 1],
                        },
                    ),
                    201,
                )
                self.tally.add("series created")
        return ids

    async def batch(
        self, http: httpx.AsyncClient, auth: dict[str, str], achievement: str, number: int
    ) -> None:
        """Issue one achievement to its cohort (one batch), then revoke its share."""
        async with self.batches:
            recipients = self.plan.recipients_of(number)
            accepted = await http.post(
                f"{self.ep.issuer}/v1/batches",
                headers=auth | {"Idempotency-Key": f"seed-{self.ep.run}-{number}"},
                json={"achievement_id": achievement, "recipients": recipients},
            )
            body = expect(accepted, 200, 202)
            batch_id = body["batch_id"]
            self.tally.add("batches replayed" if accepted.status_code == 200 else "batches sent")

            async def completed() -> dict[str, Any] | None:
                view = expect(
                    await http.get(f"{self.ep.issuer}/v1/batches/{batch_id}", headers=auth), 200
                )
                return view if view["state"] == "completed" else None

            view = await eventually(completed, f"batch {batch_id}", timeout_s=3600)
            issued = int(view["counts"].get("issued", 0))
            if self.is_overall(number):
                # The series awards its overall credential by itself once a learner holds every
                # module; the batch finds those as duplicates. They are stored all the same.
                self.tally.add(
                    "overall credentials awarded by the series",
                    int(view["counts"].get("duplicate", 0)),
                )
            if accepted.status_code == 200:  # issued by an earlier run
                self.tally.add("credentials found", issued)
            else:
                self.issued += issued
                self.tally.add("credentials issued", issued)
            log(
                f"batch {number + 1}/{self.plan.achievements} ({view['counts']}); "
                f"{self.tally.counts.get('credentials issued', 0):,} credentials issued by this run"
            )
        await self.revoke(http, auth, batch_id, number)

    async def revoke(
        self, http: httpx.AsyncClient, auth: dict[str, str], batch_id: str, number: int
    ) -> None:
        done = self.state.setdefault("revoked_batches", [])
        if batch_id in done:
            return
        share = round(self.plan.per_achievement * REVOKED_SHARE)
        if share:
            results = expect(
                await http.get(
                    f"{self.ep.issuer}/v1/batches/{batch_id}/results",
                    headers=auth,
                    params={"state": "issued", "page_size": min(200, share)},
                ),
                200,
            )
            ids = [i["credential_id"] for i in results["items"] if i.get("credential_id")]
            answer = expect(
                await http.post(
                    f"{self.ep.issuer}/v1/credentials/status",
                    headers=auth,
                    json={
                        "action": "revoke",
                        "reason_code": "issued-in-error",
                        "credential_ids": ids,
                    },
                ),
                200,
            )
            self.tally.add("credentials revoked", int(answer["changed"]))
        done.append(batch_id)
        self.save()

    async def institution(self, http: httpx.AsyncClient, number: int) -> None:
        inst = await self.onboard(http, number)
        log(f"{inst}: registered, active, accredited; waiting for its issuer tenant and API key")
        auth = await self.api_key(inst)
        numbers = self.plan.achievements_of(number)
        ids = await self.achievements(http, auth, inst, numbers)
        log(f"{inst}: {len(ids)} achievements published; issuing {len(ids)} batches")
        batches = dict(zip(numbers, ids, strict=True))
        position = {n: self.series_position(n) for n in numbers}
        modules = [n for n in numbers if position[n] in range(SERIES_SIZE - 1)]
        overall = [n for n in numbers if position[n] == SERIES_SIZE - 1]
        rest = [n for n in numbers if position[n] is None]

        async def series_then_overall() -> None:
            # The overall batch waits for the modules, so that the issuer awards the series to
            # the learners who hold all three before the batch reaches them.
            await asyncio.gather(*(self.batch(http, auth, batches[n], n) for n in modules))
            for n in overall:
                await self.batch(http, auth, batches[n], n)

        chained = [series_then_overall()] if overall else []
        await asyncio.gather(*chained, *(self.batch(http, auth, batches[n], n) for n in rest))

    async def run(self) -> None:
        began = time.monotonic()
        async with httpx.AsyncClient(timeout=120) as http:
            for number in range(self.plan.institutions):
                await self.institution(http, number)
                elapsed = time.monotonic() - began
                done = number + 1
                log(
                    f"institution {done}/{self.plan.institutions} done; {self.issued:,} "
                    f"credentials so far ({self.issued / elapsed:.0f}/s); "
                    f"{json.dumps(self.tally.counts)}"
                )
        self.seconds = time.monotonic() - began


def sceau_command() -> list[str]:
    beside = Path(sys.executable).with_name("sceau")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sceau")
    if found:
        return [found]
    raise RuntimeError("the 'sceau' command is not installed in this environment (uv sync?)")


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--issuer-env {pair!r}: expected NAME=value")
        env[key] = value
    return env


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the field's counts")
    parser.add_argument("--registry", help="registry base URL")
    parser.add_argument("--issuer", help="issuer base URL")
    parser.add_argument("--operator-token", default=os.environ.get("REGISTRY_OPERATOR_TOKEN"))
    parser.add_argument(
        "--issuer-env",
        action="append",
        default=[],
        help="NAME=value for `sceau issuer api-key create` (ISSUER_MASTER_KEY, ISSUER_MONGO__*)",
    )
    parser.add_argument("--run", default="field", help="names institutions: seed-<run>-NNN")
    parser.add_argument("--state", type=Path, help="where API keys and progress are kept")
    parser.add_argument("--in-flight", type=int, default=3, help="batches waited on at once")
    parser.add_argument(
        "--no-series",
        dest="series",
        action="store_false",
        help="define no series (each series module batch makes the issuer look up every "
        "recipient's other modules)",
    )
    parser.add_argument(
        "--start-stack",
        action="store_true",
        help="start the four services on free ports (shared Kafka/MongoDB from the environment)",
    )
    parser.add_argument("--keep", action="store_true", help="with --start-stack: keep the data")
    args = parser.parse_args()
    # Stop cleanly on Ctrl-C or `kill` (also when started in the background, where SIGINT is
    # ignored): cancelling the run stops a --start-stack stack and drops its databases.
    task = asyncio.current_task()
    if task is not None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    plan = Plan.at(args.scale)
    log(
        f"plan at scale {args.scale}: {plan.institutions} institutions, {plan.achievements} "
        f"achievements, {plan.learners:,} learners, {plan.credentials:,} credentials "
        f"({plan.per_achievement} per batch), ~{round(plan.credentials * REVOKED_SHARE):,} "
        "revocations"
    )
    began = time.monotonic()
    if args.start_stack:
        from seeding_stack import started_stack

        run = uuid.uuid4().hex[:8] if args.run == "field" else args.run
        saved = json.loads(args.state.read_text()) if args.state and args.state.exists() else {}
        secrets = saved.get("stack_secrets")
        with started_stack(run, keep=args.keep, secrets=secrets) as stack:
            ep = Endpoints(
                stack.registry, stack.issuer, stack.operator_token, stack.issuer_env, run
            )
            state = args.state or stack.folder / "seed-state.json"
            seeder = Seeder(ep, plan, state, args.in_flight, series=args.series)
            seeder.state["stack_secrets"] = stack.secrets
            seeder.save()
            await seeder.run()
    else:
        if not (args.registry and args.issuer and args.operator_token):
            parser.error("give --registry, --issuer and --operator-token (or --start-stack)")
        ep = Endpoints(
            registry=args.registry.rstrip("/"),
            issuer=args.issuer.rstrip("/"),
            operator_token=args.operator_token,
            issuer_env=parse_env(args.issuer_env),
            run=args.run,
        )
        state = args.state or Path(f"seed-state-{args.run}.json")
        seeder = Seeder(ep, plan, state, args.in_flight, series=args.series)
        await seeder.run()
    elapsed = time.monotonic() - began
    log(
        f"done in {elapsed:.0f} s ({seeder.seconds:.0f} s seeding): "
        f"{json.dumps(seeder.tally.counts)}"
    )
    if seeder.issued:
        rate = seeder.issued / seeder.seconds
        log(
            f"{rate:.1f} credentials/s while seeding (onboarding, definitions, batches, "
            f"revocations); the field's {FIELD['credentials']:,} at this rate: "
            f"{FIELD['credentials'] / rate / 3600:.1f} h"
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except (asyncio.CancelledError, KeyboardInterrupt):
        log("stopped; run the same command again to resume (with --state and --keep)")
        sys.exit(130)
