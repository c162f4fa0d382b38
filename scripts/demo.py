"""The Sceau demo story, run by ``scripts/demo`` once Kafka and the MongoDB-protocol server are up.

It starts the four services as separate processes (fresh databases and topics for this run), a
local SMTP sink and a webhook receiver in this process, and then plays the story of issue 8:

1. an operator registers a bilingual college at the registry and accredits it for
   micro-credentials; the issuer creates the college's tenant and signing key from the registry's
   event; the operator creates an API key for the college (``sceau issuer api-key create``) and
   connects the college's webhook receiver at the notifier;
2. the college defines the series "Enseigner avec l'IA / Teaching with AI" (three 5-hour
   MicroCredential modules aligned to a competency framework, plus an overall credential) and
   issues the modules to a cohort of learners through the batch API (some learners complete only
   some modules);
3. the learners who completed all three modules automatically receive the overall credential;
4. the e-mails the learners received (SMTP sink) and the signed webhook deliveries are shown;
5. an employer verifies a credential (valid), the college revokes it, the employer verifies again
   until the answer is "revoked", and the demo prints how long that took to become visible;
6. a summary.

Everything the story produced lands in ``demo-output/``: every signed credential
(``credentials/*.json``), every e-mail (``mail/*.eml``), every webhook delivery
(``webhooks.jsonl``) and the services' logs (``logs/``). The end-to-end tests import this module
and drive :func:`run_story` with a smaller cohort.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pymongo import MongoClient

from sceau_shared.credentials.results import CREDENTIAL_REVOKED
from sceau_shared.infra.process import free_port
from sceau_shared.testing.processes import ServiceFailed
from sceau_shared.testing.stack import SERVICES, Stack, StackConfig, service_env

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORTS = {"issuer": 8001, "registry": 8002, "verifier": 8003, "notifier": 8004}
ACTOR = "demo-operator"
WEBHOOK_TYPES = [
    "credential.issued",
    "credential.status_changed",
    "credential.expiring",
    "verification.completed",
]


class StepFailed(Exception):
    """A step of the story did not reach its expected outcome (the message says what and why)."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def say(message: str) -> None:
    """Print one progress line."""
    print(f"[demo {_stamp()}] {message}", flush=True)


def heading(number: int, title: str) -> None:
    """Print the title of a step."""
    print(f"\n=== {number}. {title} ===", flush=True)


# --- the local SMTP sink and webhook receiver ---


@dataclass
class CapturedMail:
    """One message the notifier handed to the SMTP sink."""

    envelope_to: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The parsed message."""
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)  # noqa: S101 - policy.default builds these
        return parsed


class _MailHandler:
    """aiosmtpd handler that keeps every message in memory."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self._sink.lock:
            self._sink.messages.append(CapturedMail(list(envelope.rcpt_tos), bytes(content)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[CapturedMail] = []
        self.lock = threading.Lock()
        self._controller = Controller(_MailHandler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        """Start listening."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    def snapshot(self) -> list[CapturedMail]:
        """The messages received so far."""
        with self.lock:
            return list(self.messages)

    def unique(self) -> list[CapturedMail]:
        """One message per Message-ID (a resend after a crash repeats the Message-ID)."""
        seen: dict[str, CapturedMail] = {}
        for mail in self.snapshot():
            seen.setdefault(str(mail.message.get("Message-ID", id(mail))), mail)
        return list(seen.values())


@dataclass
class WebhookDelivery:
    """One webhook request as received."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        data: dict[str, Any] = json.loads(self.body)
        return data

    def signed_by(self, secret: str) -> bool:
        """Whether the Standard Webhooks ``v1`` signature matches ``secret`` (``whsec_…``)."""
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.webhook_id}.{self.timestamp}.".encode() + self.body
        expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(hmac.compare_digest(part, expected) for part in self.signature.split())


class WebhookReceiver:
    """A small HTTP server that records webhook deliveries; it can be stopped and started again.

    Stopping closes the socket, so the notifier sees "connection refused" like a real outage.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.deliveries: list[WebhookDelivery] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where the notifier posts."""
        return f"http://127.0.0.1:{self.port}/hooks/sceau"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                delivery = WebhookDelivery(
                    webhook_id=self.headers.get("webhook-id", ""),
                    timestamp=self.headers.get("webhook-timestamp", ""),
                    signature=self.headers.get("webhook-signature", ""),
                    body=body,
                )
                with receiver.lock:
                    receiver.deliveries.append(delivery)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the demo prints its own summary."""

        return Handler

    def start(self) -> None:
        """Listen (again) on the same port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (connections are refused until :meth:`start`)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def snapshot(self) -> list[WebhookDelivery]:
        """Deliveries received so far (a retried delivery appears once per attempt)."""
        with self.lock:
            return list(self.deliveries)

    def unique(self) -> dict[str, WebhookDelivery]:
        """One delivery per ``webhook-id`` (what a receiver that deduplicates keeps)."""
        return {d.webhook_id: d for d in self.snapshot()}

    def count(self, event_type: str) -> int:
        """Distinct deliveries of one event type."""
        return sum(1 for d in self.unique().values() if d.payload.get("type") == event_type)


# --- the content of the story ---

FRAMEWORK = {
    "fr": "Cadre de compétences numériques en enseignement (démo)",
    "en": "Digital Teaching Competency Framework (demo)",
}
FRAMEWORK_URL = "https://competences.example.org/enseignement-numerique"
QUALITY = [
    {
        "id": "https://riviere-erables.example/qualite",
        "name": {
            "fr": "Comité des programmes et de la qualité",
            "en": "Programs and Quality Board",
        },
    }
]


def _competency(code: str, fr: str, en: str, skill: str = "technical") -> dict[str, Any]:
    return {
        "name": {"fr": fr, "en": en},
        "url": f"{FRAMEWORK_URL}/{code.lower()}",
        "framework": FRAMEWORK,
        "code": code,
        "skill_type": skill,
    }


MODULES: list[dict[str, Any]] = [
    {
        "key": "module-1",
        "name": {"fr": "Comprendre l'IA générative", "en": "Understanding generative AI"},
        "description": {
            "fr": "Expliquer le fonctionnement, les forces et les limites des modèles génératifs.",
            "en": "Explain how generative models work, their strengths and their limits.",
        },
        "criteria": {
            "fr": "Réussir le questionnaire et l'analyse critique d'un cas réel.",
            "en": "Pass the quiz and the critical analysis of a real case.",
        },
        "competencies": [
            _competency("ENS-IA-1", "Expliquer le fonctionnement de l'IA", "Explain how AI works"),
            _competency(
                "ENS-IA-2",
                "Évaluer la fiabilité d'un contenu généré",
                "Assess the reliability of generated content",
                "non-technical",
            ),
        ],
        "assessment": ("quiz", {"fr": "Questionnaire et étude de cas", "en": "Quiz and case"}),
    },
    {
        "key": "module-2",
        "name": {
            "fr": "Concevoir des activités d'apprentissage avec l'IA",
            "en": "Designing learning activities with AI",
        },
        "description": {
            "fr": "Concevoir et animer des activités qui intègrent des outils d'IA.",
            "en": "Design and lead learning activities that integrate AI tools.",
        },
        "criteria": {
            "fr": "Concevoir une séquence d'activités et la mettre à l'essai en classe.",
            "en": "Design a sequence of activities and try it out in class.",
        },
        "competencies": [
            _competency(
                "ENS-IA-3",
                "Concevoir une activité intégrant l'IA",
                "Design an activity that integrates AI",
            ),
        ],
        "assessment": ("project", {"fr": "Projet de séquence", "en": "Sequence project"}),
    },
    {
        "key": "module-3",
        "name": {"fr": "Évaluer à l'ère de l'IA", "en": "Assessment in the age of AI"},
        "description": {
            "fr": "Adapter l'évaluation et l'intégrité académique à la présence de l'IA.",
            "en": "Adapt assessment and academic integrity to the presence of AI.",
        },
        "criteria": {
            "fr": "Remanier une évaluation existante et justifier les choix.",
            "en": "Redesign an existing assessment and justify the choices.",
        },
        "competencies": [
            _competency(
                "ENS-IA-4",
                "Adapter l'évaluation à l'IA",
                "Adapt assessment to AI",
                "non-technical",
            ),
            _competency(
                "ENS-IA-5",
                "Promouvoir un usage éthique de l'IA",
                "Promote the ethical use of AI",
                "non-technical",
            ),
        ],
        "assessment": ("portfolio", {"fr": "Portfolio d'évaluation", "en": "Assessment portfolio"}),
    },
]
OVERALL_NAME = {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"}


def achievement_body(
    name: dict[str, str],
    description: dict[str, str],
    criteria: dict[str, str],
    competencies: list[dict[str, Any]],
    assessments: list[dict[str, Any]],
    hours: float,
    modules: int,
) -> dict[str, Any]:
    """A bilingual MicroCredential definition the issuer can publish."""
    return {
        "achievement_type": "MicroCredential",
        "default_language": "fr",
        "name": name,
        "description": description,
        "criteria": criteria,
        "competencies": competencies,
        "hours": hours,
        "modules": modules,
        "delivery_mode": "online",
        "pacing": "cohort",
        "assessments": assessments,
        "instruction_languages": ["fr", "en"],
        "credit_status": "non-credit",
        "quality_assurance": QUALITY,
        "tags": ["IA", "AI", "pédagogie", "teaching"],
    }


def module_bodies() -> list[dict[str, Any]]:
    """The three 5-hour modules."""
    bodies = []
    for number, module in enumerate(MODULES, start=1):
        method, label = module["assessment"]
        bodies.append(
            achievement_body(
                {
                    "fr": f"Enseigner avec l'IA — module {number} : {module['name']['fr']}",
                    "en": f"Teaching with AI — module {number}: {module['name']['en']}",
                },
                module["description"],
                module["criteria"],
                module["competencies"],
                [{"method": method, "name": label}],
                hours=5,
                modules=1,
            )
        )
    return bodies


def overall_body() -> dict[str, Any]:
    """The overall credential: all three modules' competencies, 15 hours."""
    return achievement_body(
        OVERALL_NAME,
        {
            "fr": "A complété les trois modules de la série « Enseigner avec l'IA ».",
            "en": 'Completed the three modules of the "Teaching with AI" series.',
        },
        {
            "fr": "Obtenir les trois micro-titres de la série.",
            "en": "Earn the three micro-credentials of the series.",
        },
        [c for module in MODULES for c in module["competencies"]],
        [{"method": "portfolio", "name": {"fr": "Trois modules réussis", "en": "Three modules"}}],
        hours=15,
        modules=3,
    )


FIRST_NAMES = [
    "Amélie", "Benoît", "Chloé", "Dominic", "Élodie", "Félix", "Gabrielle", "Hugo", "Isabelle",
    "Jonathan", "Karine", "Laurent", "Mélissa", "Nicolas", "Olivia", "Patrick", "Rosalie",
    "Samuel", "Tania", "Vincent", "Wendy", "Xavier", "Yasmine", "Zoé",
]  # fmt: skip
LAST_NAMES = [
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie", "Fortin",
    "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc", "Smith",
    "Nguyen", "Martin", "Wilson",
]  # fmt: skip


@dataclass(frozen=True)
class Learner:
    """One member of the cohort and how many modules they completed."""

    number: int
    name: str
    email: str
    language: str
    modules_completed: int

    def recipient(self) -> dict[str, str]:
        """The batch API's recipient object."""
        return {"email": self.email, "name": self.name, "language": self.language}


def cohort(size: int, run_id: str) -> list[Learner]:
    """A cohort where about 70 % complete the series, the others one or two modules."""
    complete = size * 7 // 10
    two = (size - complete) // 2
    learners = []
    for i in range(size):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 7) % len(LAST_NAMES)]
        ascii_name = (
            f"{first}.{last}".lower()
            .translate(str.maketrans("éèêëàâîïôöûüç", "eeeeaaiioouuc"))
            .replace(" ", "")
        )
        done = 3 if i < complete else 2 if i < complete + two else 1
        learners.append(
            Learner(
                number=i + 1,
                name=f"{first} {last}",
                email=f"{ascii_name}.{i + 1:02d}.{run_id}@etu.riviere-erables.example",
                language="en" if i % 3 == 2 else "fr",
                modules_completed=done,
            )
        )
    return learners


# --- the story ---


@dataclass
class College:
    """What the story learns about the college as it goes."""

    institution_id: str = ""
    api_key: str = ""
    did: str = ""
    verification_method: str = ""
    webhook_secret: str = ""
    module_ids: list[str] = field(default_factory=list)
    overall_id: str = ""
    series_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        """The college's API key header."""
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class Summary:
    """The figures the story reports (and the end-to-end tests check)."""

    institution_id: str = ""
    learners: int = 0
    issued: dict[str, int] = field(default_factory=dict)
    overall_expected: int = 0
    overall_issued: int = 0
    overall_seconds: float = 0.0
    credentials_written: int = 0
    emails: int = 0
    emails_by_language: dict[str, int] = field(default_factory=dict)
    webhooks: dict[str, int] = field(default_factory=dict)
    webhook_signatures_ok: bool = False
    verified_before: str = ""
    verified_after: str = ""
    revoked_credential: str = ""
    revocation_visible_s: float = 0.0
    revocation_email: bool = False
    revocation_webhook: bool = False
    steps_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Story:
    """Everything the story needs: the running stack, the sinks and where to write."""

    config: StackConfig
    smtp: SmtpSink
    hooks: WebhookReceiver
    output: Path
    cohort_size: int = 40
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    log: Callable[[str], None] = say
    timeout_s: float = 90.0
    college: College = field(default_factory=College)
    summary: Summary = field(default_factory=Summary)

    def mails(self) -> list[CapturedMail]:
        """The e-mails sent to this run's learners (the sink may serve other runs too)."""
        return [m for m in self.smtp.unique() if any(self.run_id in r for r in m.envelope_to)]

    def url(self, service: str, path: str) -> str:
        """A URL of one of the services."""
        return self.config.url(service) + path

    @property
    def operator(self) -> dict[str, str]:
        """The operator's headers (registry and notifier share the demo's operator token)."""
        return {"Authorization": f"Bearer {self.config.operator_token}", "X-Sceau-Actor": ACTOR}


async def eventually(
    check: Callable[[], Awaitable[Any]], what: str, timeout_s: float, interval_s: float = 0.25
) -> Any:
    """Poll ``check`` until it returns something truthy, or raise :class:`StepFailed`."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise StepFailed(f"{what}: not reached within {timeout_s:.0f}s (last: {last!r})")


def expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """Return the JSON answer or raise :class:`StepFailed` with the exact failure."""
    if response.status_code not in statuses:
        raise StepFailed(
            f"{response.request.method} {response.request.url} -> {response.status_code}: "
            f"{response.text[:1500]}"
        )
    data: dict[str, Any] = response.json() if response.content else {}
    return data


def sceau_command() -> list[str]:
    """The ``sceau`` console command of this environment."""
    beside = Path(sys.executable).with_name("sceau")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sceau")
    if found:
        return [found]
    raise StepFailed("the 'sceau' command is not installed in this environment (uv sync?)")


async def create_api_key(story: Story) -> str:
    """``sceau issuer api-key create`` against the issuer's database, once the tenant exists."""
    env = {**os.environ, **service_env(story.config, "issuer")}
    command = [
        *sceau_command(), "issuer", "api-key", "create",
        "--institution", story.college.institution_id,
        "--name", "systeme-etudiant", "--scopes", "issue,revoke,read,manage", "--json",
    ]  # fmt: skip
    errors: list[str] = []

    async def attempt() -> str | None:
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            errors.append(done.stderr.strip()[-300:])
            return None
        token: str = json.loads(done.stdout)["token"]
        return token

    try:
        token: str = await eventually(
            attempt, "issuer tenant + API key", story.timeout_s, interval_s=0.5
        )
    except StepFailed as exc:
        raise StepFailed(f"{exc}; last CLI error: {errors[-1] if errors else '-'}") from exc
    story.log(f"`sceau issuer api-key create` succeeded after {len(errors) + 1} attempt(s)")
    return token


async def step_onboard(story: Story, http: httpx.AsyncClient) -> None:
    """1. Register, activate and accredit the college; API key; webhook endpoint."""
    college = story.college
    registered = expect(
        await http.post(
            story.url("registry", "/v1/admin/institutions"),
            headers=story.operator,
            json={
                "institution_id": f"riviere-erables-{story.run_id}",
                "legal_name": {
                    "fr": "Cégep de la Rivière-aux-Érables",
                    "en": "Maple River College",
                },
                "category": "public-college",
                "jurisdiction": "CA-QC",
                "domain": "riviere-erables.example",
                "contact_email": "registraire@riviere-erables.example",
                "did_method": "key",
                "reason": "demande d'adhésion / membership request",
            },
        ),
        201,
    )
    college.institution_id = registered["institution_id"]
    story.summary.institution_id = college.institution_id
    story.log(
        f"registered {registered['legal_name']['fr']} / {registered['legal_name']['en']} "
        f"as {college.institution_id} (status {registered['status']})"
    )
    admin = story.url("registry", f"/v1/admin/institutions/{college.institution_id}")
    activated = expect(
        await http.post(
            f"{admin}/status",
            headers=story.operator,
            json={"status": "active", "reason": "dossier approuvé / application approved"},
        ),
        200,
    )
    scope = expect(
        await http.post(
            f"{admin}/scopes",
            headers=story.operator,
            json={
                "achievement_types": ["MicroCredential"],
                "valid_from": datetime.now(UTC).isoformat(),
                "accreditor": "Ministère de l'Enseignement supérieur (démo)",
                "reason": "micro-titres approuvés / micro-credentials approved",
            },
        ),
        201,
    )
    story.log(
        f"status {activated['status']}; accredited for {', '.join(scope['achievement_types'])}"
    )
    story.log("waiting for the issuer to create the tenant from InstitutionRegisteredV1 …")
    college.api_key = await create_api_key(story)
    profile = expect(
        await http.get(story.url("issuer", "/v1/institution"), headers=college.auth), 200
    )
    key = next(k for k in profile["keys"] if k["state"] == "active")
    college.did, college.verification_method = key["did"], key["verification_method"]
    story.log(f"signing key ready: {college.did[:48]}…")

    async def registry_knows_key() -> bool:
        answer = await http.get(
            story.url("registry", f"/v1/issuers/{college.did}"),
            params={
                "at": datetime.now(UTC).isoformat(),
                "verification_method": college.verification_method,
            },
        )
        body = answer.json() if answer.status_code == 200 else {}
        return bool(body.get("registered") and (body.get("key") or {}).get("valid_at"))

    await eventually(registry_knows_key, "registry learns the key", story.timeout_s)
    story.log("the registry lists the key (IssuerKeyPublishedV1) — verifiers can trust it")
    endpoint = expect(
        await http.post(
            story.url("notifier", f"/v1/institutions/{college.institution_id}/webhooks"),
            headers=story.operator,
            json={
                "url": story.hooks.url,
                "event_types": WEBHOOK_TYPES,
                "description": "student information system",
            },
        ),
        201,
    )
    college.webhook_secret = endpoint["secret"]
    story.log(f"webhook endpoint {endpoint['id']} -> {story.hooks.url}")


async def _publish(story: Story, http: httpx.AsyncClient, body: dict[str, Any]) -> str:
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
        college.module_ids.append(await _publish(story, http, body))
        story.log(f"published module {number}: {body['name']['fr']} (5 h)")
    college.overall_id = await _publish(story, http, overall_body())
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


async def verify(story: Story, http: httpx.AsyncClient, document: Any) -> dict[str, Any]:
    """The employer's call: ``POST /v1/verify`` at the public verifier."""
    return expect(
        await http.post(
            story.url("verifier", "/v1/verify"),
            params={"lang": "en"},
            json={"credential": document},
        ),
        200,
    )


def status_problem(answer: dict[str, Any]) -> str | None:
    """The problem type of the status check (None when it passed)."""
    for item in answer["checks"]:
        if item["name"] == "status":
            problem: str | None = item.get("problem_type")
            return problem
    return None


async def step_verify_revoke(
    story: Story, http: httpx.AsyncClient, details: list[dict[str, Any]]
) -> None:
    """5. An employer verifies; the college revokes; the employer verifies again."""
    overall = [d for d in details if d["achievement_id"] == story.college.overall_id]
    chosen = (overall or details)[0]
    story.summary.revoked_credential = chosen["credential_id"]
    who = chosen["recipient"].get("name") or chosen["recipient"].get("email")
    story.log(f"an employer receives {who}'s credential {chosen['credential_id'][:8]}")
    last: dict[str, Any] = {}

    async def verified() -> bool:
        nonlocal last
        last = await verify(story, http, chosen["document"])
        return bool(last["verified"])

    try:
        await eventually(verified, "employer's verification", story.timeout_s)
    except StepFailed as exc:
        raise StepFailed(f"{exc}; checks: {json.dumps(last.get('checks'))[:1500]}") from exc
    story.summary.verified_before = last["outcome"]
    summary = last.get("summary") or {}
    story.log(
        f"verifier: {last['outcome'].upper()} — issued by {summary['issuer']['name']} "
        f"({summary['issuer'].get('name_source')}), '{summary.get('achievement_name')}', "
        f"{summary.get('hours')} h, {len(summary.get('competencies', []))} competencies"
    )
    for item in last["checks"]:
        print(f"    {item['name']:<10} {item['status']:<8} {item['reason_en'][:90]}", flush=True)
    started = time.monotonic()
    revoked = expect(
        await http.post(
            story.url("issuer", f"/v1/credentials/{chosen['credential_id']}/revoke"),
            headers=story.college.auth,
            json={"reason_code": "issued-in-error", "note": "module 3 grade corrected"},
        ),
        200,
    )
    story.log(f"the college revokes it (status {revoked['status']}, reason issued-in-error)")

    async def shows_revoked() -> bool:
        nonlocal last
        last = await verify(story, http, chosen["document"])
        return status_problem(last) == CREDENTIAL_REVOKED

    await eventually(shows_revoked, "verifier answers revoked", story.timeout_s, interval_s=0.1)
    visible = time.monotonic() - started
    story.summary.revocation_visible_s = visible
    story.summary.verified_after = last["outcome"]
    reason = next(c for c in last["checks"] if c["name"] == "status")["reason_en"]
    story.log(f"verifier: {last['outcome'].upper()} — {reason}")
    story.log(f"the revocation was visible to the employer {visible:.2f}s after the college's call")

    async def revocation_notified() -> bool:
        return story.hooks.count("credential.status_changed") >= 1

    with contextlib.suppress(StepFailed):
        await eventually(revocation_notified, "status webhook", 15)
    story.summary.revocation_webhook = story.hooks.count("credential.status_changed") >= 1
    story.summary.revocation_email = len(story.mails()) > story.summary.emails
    story.log(
        f"credential.status_changed webhook: {'yes' if story.summary.revocation_webhook else 'no'}"
        f"; revocation e-mail to the learner: {'yes' if story.summary.revocation_email else 'no'}"
    )


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
    return story.summary


def print_summary(story: Story, elapsed: float) -> None:
    """6. The summary."""
    s = story.summary
    heading(6, "Summary")
    rows = [
        ("college", f"{s.institution_id} (did:key, accredited for MicroCredential)"),
        ("cohort", f"{s.learners} learners"),
        ("credentials", ", ".join(f"{k}: {v}" for k, v in s.issued.items())),
        ("overall credential", f"{s.overall_issued}/{s.overall_expected} eligible learners"),
        (
            "e-mails",
            f"{s.emails} ({', '.join(f'{k}: {v}' for k, v in s.emails_by_language.items())})",
        ),
        ("webhooks", ", ".join(f"{k}: {v}" for k, v in sorted(s.webhooks.items()))),
        ("employer", f"{s.verified_before} -> revoked -> {s.verified_after}"),
        ("revocation visible", f"{s.revocation_visible_s:.2f}s after the college's call"),
        ("output", f"{story.output}/credentials ({s.credentials_written} files), mail/, logs/"),
        ("total time", f"{elapsed:.0f}s"),
    ]
    for name, value in rows:
        print(f"  {name:<20} {value}", flush=True)


# --- running it ---


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def fresh_output(output: Path) -> None:
    """Empty what an earlier run wrote (the logs, credentials and mail of this run only)."""
    for name in ("credentials", "mail", "logs"):
        shutil.rmtree(output / name, ignore_errors=True)
    (output / "webhooks.jsonl").unlink(missing_ok=True)
    output.mkdir(parents=True, exist_ok=True)


def drop_databases(config: StackConfig) -> None:
    """Remove this run's databases (topics stay: they are cheap and named per run)."""
    client: MongoClient[dict[str, Any]] = MongoClient(
        config.mongo_uri, serverSelectionTimeoutMS=5000
    )
    try:
        for service in SERVICES:
            client.drop_database(f"{config.database_prefix}{service}")
    finally:
        client.close()


@contextlib.contextmanager
def running_sinks(smtp_port: int, webhook_port: int) -> Iterator[tuple[SmtpSink, WebhookReceiver]]:
    """The SMTP sink and the webhook receiver, stopped on exit."""
    smtp = SmtpSink(smtp_port)
    hooks = WebhookReceiver(webhook_port)
    smtp.start()
    hooks.start()
    try:
        yield smtp, hooks
    finally:
        hooks.stop()
        smtp.stop()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops the demo like Ctrl-C does: the services are stopped, not orphaned."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit status 0 only when every step reached its expected outcome."""
    parser = argparse.ArgumentParser(description="Run the Sceau demo story.")
    parser.add_argument("--keep-running", action="store_true", help="leave the services running")
    parser.add_argument("--cohort", type=int, default=40, help="learners in the cohort (40)")
    parser.add_argument("--output", type=Path, default=ROOT / "demo-output")
    parser.add_argument(
        "--free-ports", action="store_true", help="pick free ports instead of 8001-8004"
    )
    args = parser.parse_args(argv)
    if args.cohort < 3:
        parser.error("--cohort must be at least 3")
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if not kafka or not mongo:
        say("KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI must be set (scripts/demo does it)")
        return 2
    ports = (
        {name: free_port() for name in DEFAULT_PORTS} if args.free_ports else dict(DEFAULT_PORTS)
    )
    busy = [f"{name} ({port})" for name, port in ports.items() if port_in_use(port)]
    if busy:
        say(f"ports already in use: {', '.join(busy)} — is another demo running? (or --free-ports)")
        return 2
    run_id = uuid.uuid4().hex[:6]
    output: Path = args.output.resolve()
    fresh_output(output)
    config = StackConfig(
        kafka_bootstrap=kafka,
        mongo_uri=mongo,
        log_dir=output / "logs",
        topic_prefix=f"demo{run_id}.",
        database_prefix=f"demo_{run_id}_",
        ports=ports,
        smtp_port=free_port(),
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = time.monotonic()
    say(f"run {run_id}: topics demo{run_id}.*, databases demo_{run_id}_*, output {output}")
    stack = Stack(config)
    code = 1
    try:
        with running_sinks(config.smtp_port, free_port()) as (smtp, hooks):
            say(f"SMTP sink on 127.0.0.1:{smtp.port}, webhook receiver on {hooks.url}")
            for name in SERVICES:
                say(f"starting {name} on {config.url(name)}")
            stack.start()
            say(
                f"four services ready in {time.monotonic() - started:.1f}s (logs: {config.log_dir})"
            )
            story = Story(config, smtp, hooks, output, cohort_size=args.cohort, run_id=run_id)
            asyncio.run(run_story(story))
            print_summary(story, time.monotonic() - started)
            code = 0
            if args.keep_running:
                say("--keep-running: services stay up; Ctrl-C stops them")
                for name in SERVICES:
                    say(f"  {name:<9} {config.url(name)}  (docs: {config.url(name)}/docs)")
                say(f"  operator token: {config.operator_token}")
                say(f"  college API key: {story.college.api_key}")
                while True:
                    time.sleep(3600)
    except (StepFailed, ServiceFailed) as exc:
        say(f"FAILED: {exc}")
        say(f"service logs: {config.log_dir}")
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        stack.stop()
        say("services stopped")
        if not args.keep_running:
            with contextlib.suppress(Exception):
                drop_databases(config)
    return code


if __name__ == "__main__":
    sys.exit(main())
