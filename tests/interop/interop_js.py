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
