"""Signing processes do not inherit the issuer's secrets (issue 18).

The pool's processes were spawned with the issuer's whole environment: ``ISSUER_MASTER_KEY``
(which decrypts every institution's key), the database URI with its password. A worker needs
neither: each job carries the one key it signs with.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sceau_issuer.signer_pool import Signer, worker_environment

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
