"""Run the real registry, issuer and verifier as processes and drive them like their users.

Shared by ``tests/e2e/test_verify_flow.py`` and ``bench/verify.py --issuer`` (revocation
propagation measured from the issuer's revoke API).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from verifier_support import free_port

from sceau_dev.testing.polling import eventually


class StackError(Exception):
    """A service did not start or did not become ready."""


ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "e2e-operator-token-" + "x" * 24
SCEAU = str(Path(sys.executable).with_name("sceau"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    base: str
    log: Path

    def tail(self) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} log (last 3000 chars) ---\n{text[-3000:]}"


@dataclass
class Stack:
    registry: Process
    issuer: Process
    verifier: Process
    issuer_env: dict[str, str]

    def logs(self) -> str:
        """The end of the registry's and the issuer's logs (for failure messages)."""
        return "\n".join(p.tail() for p in (self.registry, self.issuer))


def _start(name: str, module: str, env: dict[str, str], port: int, logs: Path) -> Process:
    log = logs / f"{name}.log"
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            [sys.executable, "-m", module], env=env, cwd=ROOT, stdout=handle, stderr=handle
        )
    return Process(name, popen, f"http://127.0.0.1:{port}", log)


def _wait_ready(process: Process, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise StackError(
                    f"{process.name} exited with {process.popen.returncode}\n{process.tail()}"
                )
            try:
                if client.get(f"{process.base}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise StackError(f"{process.name} not ready after {timeout_s} s\n{process.tail()}")


@contextmanager
def running_stack(
    kafka_bootstrap: str, mongo_uri: str, logs: Path, *, status_debounce_s: float | None = 0.2
) -> Iterator[Stack]:
    """Start the registry, the issuer and the verifier as processes on fresh topics/databases.

    ``status_debounce_s`` shortens the issuer's status re-signing window for tests (``None``
    keeps the issuer's default, as the benchmark does).
    """
    run = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in ("registry", "issuer", "verifier")}
    base = dict(os.environ)
    for name in ("REGISTRY", "ISSUER", "VERIFIER"):
        base.update(
            {
                f"{name}_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
                f"{name}_KAFKA__TOPIC_PREFIX": f"e2e{run}.",
                f"{name}_MONGO__URI": mongo_uri,
                f"{name}_MONGO__DATABASE": f"e2e_{run}_{name.lower()}",
                f"{name}_HTTP__PORT": str(ports[name.lower()]),
                f"{name}_HTTP__PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[name.lower()]}",
                f"{name}_HTTP__RATE_LIMIT_PER_MINUTE": "0",
            }
        )
    registry_url = f"http://127.0.0.1:{ports['registry']}"
    registry_env = base | {
        "REGISTRY_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "REGISTRY_MASTER_KEY": _master_key(),
    }
    issuer_env = base | {
        "ISSUER_MASTER_KEY": _master_key(),
        "ISSUER_REGISTRY_PUBLIC_URL": registry_url,
        "ISSUER_VERIFIER_PUBLIC_URL": f"http://127.0.0.1:{ports['verifier']}",
        "ISSUER_SIGN_WORKERS": "0",
    }
    if status_debounce_s is not None:
        issuer_env["ISSUER_STATUS_DEBOUNCE_S"] = str(status_debounce_s)
    verifier_env = base | {
        "VERIFIER_STATUS__ALLOWED_HOSTS": json.dumps([f"127.0.0.1:{ports['registry']}"]),
        "VERIFIER_STATUS__ALLOW_PRIVATE_HOSTS": "true",
        "VERIFIER_DID_WEB__ALLOW_PRIVATE_HOSTS": "true",
        "VERIFIER_TRUST__REGISTRY_URL": registry_url,
    }
    processes = []
    try:
        for name, module, env in (
            ("registry", "sceau_registry", registry_env),
            ("issuer", "sceau_issuer", issuer_env),
            ("verifier", "sceau_verifier", verifier_env),
        ):
            processes.append(_start(name, module, env, ports[name], logs))
        for process in processes:
            _wait_ready(process)
        yield Stack(*processes, issuer_env=issuer_env)
    finally:
        for process in processes:
            process.popen.terminate()
        for process in processes:
            try:
                process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)


@dataclass
class College:
    institution_id: str
    api_key: str
    did: str
    verification_method: str
    achievement_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Sceau-Actor": "e2e-operator"}

ACHIEVEMENT = {
    "achievement_type": "MicroCredential",
    "default_language": "fr",
    "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
    "description": {
        "fr": "Concevoir des activités d'apprentissage qui intègrent l'IA générative.",
        "en": "Design learning activities that integrate generative AI.",
    },
    "criteria": {"fr": "Réussir le projet final.", "en": "Pass the final project."},
    "competencies": [
        {
            "name": {"fr": "Intégrer l'IA en classe", "en": "Integrate AI in class"},
            "url": "https://example.edu/frameworks/digital/ai-1",
            "framework": {"fr": "Cadre numérique", "en": "Digital framework"},
            "code": "AI-1",
            "skill_type": "technical",
        }
    ],
    "level": {
        "name": {"fr": "Niveau 2", "en": "Level 2"},
        "definition_url": "https://example.edu/levels/2",
    },
    "hours": 15,
    "delivery_mode": "online",
    "pacing": "cohort",
    "assessments": [{"method": "project", "name": {"fr": "Projet final", "en": "Final project"}}],
    "instruction_languages": ["fr"],
    "credit_status": "non-credit",
    "quality_assurance": [
        {"id": "https://example.edu/qa", "name": {"fr": "Comité qualité", "en": "Quality board"}}
    ],
}


async def _api_key(stack: Stack, institution_id: str) -> str:
    async def attempt() -> str | None:
        completed = await asyncio.to_thread(
            subprocess.run,
            [SCEAU, "issuer", "api-key", "create", "--institution", institution_id,
             "--name", "e2e", "--scopes", "issue,revoke,read,manage", "--json"],
            env=stack.issuer_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            return None
        token: str = json.loads(completed.stdout)["token"]
        return token

    token: str = await eventually(
        attempt, timeout_s=60, message="issuer tenant and API key", details=stack.logs
    )
    return token


async def onboard(http: httpx.AsyncClient, stack: Stack, name: str) -> College:
    """Register, activate and accredit a college (backdated 10 days); get its key and API key."""
    since = iso(datetime.now(UTC) - timedelta(days=10))
    registry = stack.registry.base
    created = await http.post(
        f"{registry}/v1/admin/institutions",
        headers=OPERATOR,
        json={
            "legal_name": {"fr": f"Collège {name}", "en": f"{name} College"},
            "category": "public-college",
            "jurisdiction": "ON",
            "did_method": "key",
            "effective_at": since,
        },
    )
    assert created.status_code == 201, created.text
    institution_id = created.json()["institution_id"]
    admin = f"{registry}/v1/admin/institutions/{institution_id}"
    activated = await http.post(
        f"{admin}/status",
        headers=OPERATOR,
        json={"status": "active", "reason": "approved", "effective_at": since},
    )
    assert activated.status_code == 200, activated.text
    scope = await http.post(
        f"{admin}/scopes",
        headers=OPERATOR,
        json={"achievement_types": ["MicroCredential"], "valid_from": since, "reason": "QA"},
    )
    assert scope.status_code == 201, scope.text
    api_key = await _api_key(stack, institution_id)
    profile = (
        await http.get(
            f"{stack.issuer.base}/v1/institution", headers={"Authorization": f"Bearer {api_key}"}
        )
    ).json()
    active = next(k for k in profile["keys"] if k["state"] == "active")
    college = College(institution_id, api_key, active["did"], active["verification_method"])
    await registry_knows_key(http, stack, college.did, college.verification_method)
    achievement = await http.post(
        f"{stack.issuer.base}/v1/achievements", headers=college.auth, json=ACHIEVEMENT
    )
    assert achievement.status_code == 201, achievement.text
    college.achievement_id = achievement.json()["achievement_id"]
    published = await http.post(
        f"{stack.issuer.base}/v1/achievements/{college.achievement_id}/publish",
        headers=college.auth,
    )
    assert published.status_code == 200, published.text
    return college


async def registry_knows_key(
    http: httpx.AsyncClient, stack: Stack, did: str, verification_method: str
) -> None:
    async def known() -> bool:
        answer = await http.get(
            f"{stack.registry.base}/v1/issuers/{did}",
            params={"at": iso(datetime.now(UTC)), "verification_method": verification_method},
        )
        body = answer.json() if answer.status_code == 200 else {}
        key = body.get("key") or {}
        return bool(body.get("registered") and key.get("valid_at"))

    await eventually(
        known, timeout_s=60, message=f"registry knows {verification_method}", details=stack.logs
    )


async def issue(
    http: httpx.AsyncClient, stack: Stack, college: College, email: str
) -> dict[str, Any]:
    response = await http.post(
        f"{stack.issuer.base}/v1/credentials",
        headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={
            "achievement_id": college.achievement_id,
            "recipient": {"email": email, "name": "Alex Tremblay", "language": "fr"},
        },
    )
    assert response.status_code == 201, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def verify(http: httpx.AsyncClient, stack: Stack, document: Any) -> dict[str, Any]:
    response = await http.post(
        f"{stack.verifier.base}/v1/verify", json={"credential": document}, params={"lang": "en"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def verified_once_published(
    http: httpx.AsyncClient, stack: Stack, document: Any, limit_s: float = 30.0
) -> dict[str, Any]:
    """Verify until the answer is "verified".

    Right after issuance the status list may still be on its way to the registry (outbox ->
    Kafka -> registry): until then the honest answer is "inconclusive", never "valid".
    """
    last: dict[str, Any] = {}

    async def attempt() -> bool:
        nonlocal last
        last = await verify(http, stack, document)
        return bool(last["verified"])

    try:
        await eventually(
            attempt, timeout_s=limit_s, message="credential verified", details=stack.logs
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlast answer: {json.dumps(last['checks'])[:3000]}") from exc
    return last


def check(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in answer["checks"] if c["name"] == name)
