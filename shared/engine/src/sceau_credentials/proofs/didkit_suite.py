"""didkit (openedx-didkit, SpruceID's Rust ``ssi``) for ``Ed25519Signature2020`` and VC-JWT.

didkit is the project's chosen library for VC Data Model 1.1 proofs, used where it is safe:

* **In a separate process.** didkit's functions return awaitables driven by a Rust (tokio)
  runtime whose threads call back into Python. Once such a runtime has run in a process, the
  interpreter can abort while finalizing ("Fatal Python error: PyGILState_Release: thread state
  ... must be current when releasing", seen in about one exit in three even without any HTTP
  request, and a segmentation fault after didkit made an HTTP request), replacing the real exit
  status. Running didkit on a worker *thread* does not prevent that. So every didkit call runs
  in one child interpreter (:class:`DidkitWorker`, module ``_didkit_worker``), reached from a
  worker thread over pipes: the calling process never imports didkit, its event loop never runs
  didkit code, and its exit code stays truthful. The child leaves through ``os._exit`` when its
  input closes and never runs that finalization.
* **Only with did:key.** When didkit resolves a did:web DID it makes its own HTTP request — no
  SSRF guard, no timeout policy of ours. didkit is only ever handed did:key identifiers, which
  it resolves offline; :class:`DidkitRefused` is raised before anything reaches it otherwise.
  did:web credentials are signed and verified by our own implementations
  (:mod:`.ed25519_signature_2020`, :mod:`.jwt`) over keys our SSRF-guarded resolver fetched.
* Verification asks for the ``proof``/``JWS`` check only, so didkit never fetches a status list.

didkit knows a fixed set of contexts (VC 1.1, ed25519-2020, StatusList2021, the OB 3.0.0
``context.json``, ...) and refuses others without fetching them.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sceau_credentials.keys import SigningKey
from sceau_credentials.proofs.rdfc import format_datetime

__all__ = [
    "DidkitError",
    "DidkitRefused",
    "DidkitWorker",
    "didkit_sign_ed25519_2020",
    "didkit_sign_jwt",
    "didkit_verify",
    "shared_didkit_worker",
]

_DID_KEY: Final = "did:key:"


class DidkitError(Exception):
    """didkit refused to sign or reported an error (message is didkit's, prefixed)."""


class DidkitRefused(DidkitError):
    """We did not hand the input to didkit because it would make didkit use the network."""


class DidkitWorker:
    """Runs didkit calls in one child interpreter (``_didkit_worker``), started on first use.

    Requests are serialised (one at a time, under a lock) and made from a worker thread, so the
    caller's event loop only awaits. A child that died is restarted on the next call.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "sceau_credentials.proofs._didkit_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _request(self, name: str, args: tuple[str, ...]) -> tuple[bool, str]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
                # Stop it cleanly at exit (closing its input makes it leave through os._exit).
                atexit.register(self.close)
            process = self._process
            assert process.stdin is not None  # noqa: S101 - created with PIPE
            assert process.stdout is not None  # noqa: S101 - created with PIPE
            try:
                process.stdin.write(json.dumps([name, list(args)]).encode("utf-8") + b"\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError as error:
                self._process = None
                raise DidkitError(f"didkit worker failed: {error}") from error
            if not line:
                self._process = None
                raise DidkitError("didkit worker stopped unexpectedly")
            ok, result = json.loads(line)
            return bool(ok), str(result)

    async def call(self, name: str, *args: str) -> str:
        """Run ``didkit.<name>(*args)`` in the worker process.

        Raises:
            DidkitError: didkit reported an error, or the worker failed.
        """
        ok, result = await asyncio.to_thread(self._request, name, args)
        if not ok:
            raise DidkitError(f"didkit: {result}")
        return result

    def close(self) -> None:
        """Stop the worker process (also done at interpreter exit)."""
        atexit.unregister(self.close)
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@functools.cache
def shared_didkit_worker() -> DidkitWorker:
    """The worker used when none is passed in: one child process per calling process."""
    return DidkitWorker()


def _require_did_key(identifier: object, what: str) -> str:
    if not isinstance(identifier, str) or not identifier.startswith(_DID_KEY):
        raise DidkitRefused(
            f"{what} {identifier!r} is not a did:key; didkit would resolve it over the network, "
            "so it is handled by Sceau's own implementation instead"
        )
    return identifier


async def didkit_sign_ed25519_2020(
    credential: Mapping[str, Any],
    key: SigningKey,
    *,
    created: datetime,
    worker: DidkitWorker | None = None,
) -> dict[str, Any]:
    """Sign a VC Data Model 1.1 credential with ``Ed25519Signature2020`` through didkit.

    Raises:
        DidkitRefused: the key's controller is not a did:key.
        DidkitError: didkit refused the credential (e.g. a context it does not know).
    """
    _require_did_key(key.verification_method, "verification method")
    options = {
        "type": "Ed25519Signature2020",
        "proofPurpose": "assertionMethod",
        "verificationMethod": key.verification_method,
        "created": format_datetime(created),
    }
    signed = await (worker or shared_didkit_worker()).call(
        "issue_credential",
        json.dumps(credential),
        json.dumps(options),
        json.dumps(key.to_jwk(private=True)),
    )
    result: dict[str, Any] = json.loads(signed)
    return result


async def didkit_sign_jwt(
    credential: Mapping[str, Any], key: SigningKey, *, worker: DidkitWorker | None = None
) -> str:
    """Sign a VC Data Model 1.1 credential as a VC-JWT (EdDSA) through didkit.

    Raises:
        DidkitRefused: the key's controller is not a did:key.
        DidkitError: didkit refused the credential.
    """
    _require_did_key(key.verification_method, "verification method")
    options = {
        "proofFormat": "jwt",
        "proofPurpose": "assertionMethod",
        "verificationMethod": key.verification_method,
    }
    return await (worker or shared_didkit_worker()).call(
        "issue_credential",
        json.dumps(credential),
        json.dumps(options),
        json.dumps(key.to_jwk(private=True)),
    )


async def didkit_verify(
    credential: Mapping[str, Any] | str,
    *,
    verification_method: str,
    worker: DidkitWorker | None = None,
) -> list[str]:
    """Verify an LD-proof credential or a VC-JWT with didkit; return didkit's error list.

    Args:
        credential: the credential (JSON object) or the compact JWT.
        verification_method: the verification method the caller read from the proof or JWT
            header; it must be a did:key DID URL, so didkit resolves it offline.
        worker: the didkit worker process (default: the shared one).

    Raises:
        DidkitRefused: ``verification_method`` is not a did:key.
    """
    _require_did_key(verification_method, "verification method")
    if isinstance(credential, str):
        options: dict[str, Any] = {
            "proofPurpose": "assertionMethod",
            "proofFormat": "jwt",
            "checks": ["JWS"],
        }
        payload = credential
    else:
        options = {"proofPurpose": "assertionMethod", "checks": ["proof"]}
        payload = json.dumps(credential)
    result = json.loads(
        await (worker or shared_didkit_worker()).call(
            "verify_credential", payload, json.dumps(options)
        )
    )
    errors = result.get("errors", [])
    return [str(error) for error in errors] if isinstance(errors, list) else [str(errors)]
