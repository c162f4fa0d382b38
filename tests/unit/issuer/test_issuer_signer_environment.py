"""Signing processes: spawned without the issuer's secrets (issue 18), warm and settled; a dead
one is replaced.

The pool's processes were spawned with the issuer's whole environment: ``ISSUER_MASTER_KEY``
(which decrypts every institution's key), the database URI with its password. A worker needs
neither: each job carries the one key it signs with.
"""

from __future__ import annotations

import gc
import os
import signal
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_credentials.status.entries import status_entry
from sceau_dev.testing.polling import eventually
from sceau_issuer.achievements.rules import engine_version
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.signer_pool import Signer, worker_environment
from sceau_shared.heap import YOUNG_THRESHOLD

SECRET = "c2VjcmV0LW1hc3Rlci1rZXktZm9yLXRoZS10ZXN0cyE="


def test_only_what_runs_python_is_kept() -> None:
    kept = worker_environment(
        {
            "PATH": "/usr/bin",
            "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "ISSUER_MASTER_KEY": SECRET,
            "ISSUER_MONGO__URI": "mongodb://user:pw@db/",
            "AWS_SECRET_ACCESS_KEY": "x",
        }
    )
    assert kept == {"PATH": "/usr/bin", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"}


def test_worker_processes_start_without_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUER_MASTER_KEY", SECRET)
    monkeypatch.setenv("ISSUER_MONGO__URI", "mongodb://user:hunter2@db:27017/")
    signer = Signer(workers=1)
    signer.start()
    try:
        pool = signer._pool
        assert pool is not None
        assert pool.submit(os.getenv, "ISSUER_MASTER_KEY").result(timeout=60) is None
        assert pool.submit(os.getenv, "ISSUER_MONGO__URI").result(timeout=60) is None
        assert pool.submit(os.getenv, "PATH").result(timeout=60) == os.environ["PATH"]
        for process in pool._processes.values():
            initial = Path(f"/proc/{process.pid}/environ")
            if initial.exists():  # what the process was started with, as others can read it
                assert SECRET.encode() not in initial.read_bytes()
                assert b"hunter2" not in initial.read_bytes()
    finally:
        signer.close()
    # The issuer's own environment is intact.
    assert os.environ["ISSUER_MASTER_KEY"] == SECRET


def _settled() -> tuple[int, int]:
    """In a signing process: objects frozen out of the collector's reach, its first threshold."""
    return gc.get_freeze_count(), gc.get_threshold()[0]


def test_a_signing_process_starts_warm_with_its_heap_settled() -> None:
    # Issue 19: the start-up objects of an unsettled signing process (contexts, schemas) were
    # walked by a 20-30 ms full collection every few thousand signatures, holding up a group.
    signer = Signer(workers=1)
    signer.start()
    try:
        pool = signer._pool
        assert pool is not None
        frozen, young = pool.submit(_settled).result(timeout=60)
    finally:
        signer.close()
    assert frozen > 10_000  # the warm-up's contexts and caches, not just a few objects
    assert young == YOUNG_THRESHOLD


def _unsigned(key: SigningKey, n: int) -> dict[str, Any]:
    version = engine_version(
        AchievementInput.model_validate(
            {
                "name": {"fr": "Soudure", "en": "Welding"},
                "description": {"fr": "Soudure de base.", "en": "Basic welding."},
                "criteria": {"fr": "Réussir.", "en": "Pass."},
            }
        ),
        achievement_uri="https://issuer.example/v1/public/achievements/a/versions/1",
        version=1,
        languages=("fr", "en"),
    )
    issuer = IssuerProfile(id=key.controller, name={"fr": "Collège", "en": "College"})
    return build_credential(
        version,
        Recipient(email=f"learner{n}@example.org"),
        issuer,
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=datetime.now(UTC),
        status=[status_entry("ob3-v2", "revocation", "https://registry.example/v1/l", n)],
    )


async def test_a_dead_signing_process_is_replaced_and_signing_goes_on() -> None:
    """A killed worker broke the pool for good; the signer replaces it and signs again."""
    key = SigningKey.generate()
    signer = Signer(workers=1)
    signer.start()
    try:
        first = await signer.sign_ready_apart([(_unsigned(key, 1), key, "ob3-v2")])
        assert isinstance(first[0], dict)
        pool = signer._pool
        assert isinstance(pool, ProcessPoolExecutor)
        for process in list(pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
        # What every later submission to this pool fails on, once the pool saw the death:
        await eventually(lambda: pool._broken, timeout_s=30, message="the pool saw no death")
        again = await signer.sign_ready_apart(
            [(_unsigned(key, n), key, "ob3-v2") for n in range(2, 5)]
        )
        assert all(isinstance(signed, dict) and "proof" in signed for signed in again)
        assert signer.renewals == 1
        assert signer._pool is not pool
    finally:
        signer.close()
