"""Node subprocess helpers for the interop tests: the Digital Bazaar stack, offline.

A uniquely named module (not ``conftest``): with several ``conftest.py`` files in the suite,
``from conftest import …`` resolves to whichever was imported first.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "interop" / "js"


@dataclass(frozen=True)
class JsSigned:
    did: str
    verification_method: str
    credential: dict[str, Any]


@dataclass(frozen=True)
class JsVerification:
    verified: bool
    errors: list[str]


class DigitalBazaar:
    """Calls ``sign.mjs`` / ``verify.mjs`` (see their headers for the JSON they exchange)."""

    def __init__(self, node: str) -> None:
        self._node = node

    @property
    def node(self) -> str:
        """The Node.js executable."""
        return self._node

    def _run(self, script: str, payload: dict[str, Any]) -> dict[str, Any]:
        completed = subprocess.run(
            [self._node, str(JS / script)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=JS,
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            pytest.fail(f"{script} crashed (exit {completed.returncode}):\n{completed.stderr}")
        result: dict[str, Any] = json.loads(completed.stdout)
        return result

    def sign(self, credential: dict[str, Any], suite: str, seed: bytes) -> JsSigned:
        """Sign with ``suite`` (``eddsa-rdfc-2022`` or ``Ed25519Signature2020``), key from seed."""
        out = self._run("sign.mjs", {"credential": credential, "suite": suite, "seed": seed.hex()})
        return JsSigned(out["did"], out["verificationMethod"], out["signed"])

    def verify(
        self, credential: dict[str, Any], did_documents: list[dict[str, Any]] | None = None
    ) -> JsVerification:
        """Verify with both suites; ``did_documents`` are served as if resolved (did:web)."""
        payload = {"credential": credential, "didDocuments": did_documents or []}
        out = self._run("verify.mjs", payload)
        return JsVerification(bool(out["verified"]), list(out["errors"]))

    def did_key_document(self, did: str, public_key_format: str) -> dict[str, Any]:
        """The DID document Digital Bazaar's did:key driver produces."""
        return self._run("did-key.mjs", {"did": did, "format": public_key_format})


class DigitalBazaarWorker:
    """One long-lived ``worker.mjs`` process: many sign/verify calls without a Node start each.

    The property-based tests make hundreds of calls; a process per call would cost ~0.5 s each.
    Requests and answers are JSON lines, answered in order.
    """

    def __init__(self, node: str) -> None:
        self._process = subprocess.Popen(
            [node, str(JS / "worker.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=JS,
        )

    def call(self, op: str, **payload: Any) -> dict[str, Any]:
        """Send one request; return its answer (fails the test if the worker crashed on it)."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        # ensure_ascii: every character travels as an escape, so no console encoding can alter it.
        stdin.write(json.dumps({"op": op, **payload}, ensure_ascii=True) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            pytest.fail(f"worker.mjs exited (code {self._process.poll()}) on {op}")
        answer: dict[str, Any] = json.loads(line)
        if "crash" in answer:
            pytest.fail(f"worker.mjs {op} threw: {answer['crash']}")
        return answer

    def sign(
        self,
        credential: dict[str, Any],
        suite: str,
        seed: bytes,
        *,
        key_id: str | None = None,
        did_documents: list[dict[str, Any]] | None = None,
    ) -> JsSigned:
        """Sign there; with ``key_id`` (a did:web method) the key is named by it, else did:key."""
        extra: dict[str, Any] = {}
        if key_id is not None:
            extra = {"controller": key_id.split("#")[0], "keyId": key_id}
        out = self.call(
            "sign",
            credential=credential,
            suite=suite,
            seed=seed.hex(),
            didDocuments=did_documents or [],
            **extra,
        )
        return JsSigned(out["did"], out["verificationMethod"], out["signed"])

    def verify(
        self, credential: dict[str, Any], did_documents: list[dict[str, Any]] | None = None
    ) -> JsVerification:
        out = self.call("verify", credential=credential, didDocuments=did_documents or [])
        return JsVerification(bool(out["verified"]), list(out["errors"]))

    def verify_jwt(
        self, token: str, did_documents: list[dict[str, Any]] | None = None
    ) -> JsVerification:
        out = self.call("jwt-verify", token=token, didDocuments=did_documents or [])
        return JsVerification(bool(out["verified"]), [out["error"]] if "error" in out else [])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
