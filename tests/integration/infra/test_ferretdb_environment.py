"""The FerretDB that ``sceau infra`` starts runs with Go's collector paced at ``GOGC=800``.

Its live heap is a few megabytes, so Go's default (collect whenever the heap doubles) cost about
a quarter of its CPU (issue 19; docs/infrastructure.md). A FerretDB of its own is started on a
free port (the developer's and the other tests' servers are not touched) and its process
environment is read from ``/proc``; a ``GOGC`` set by the operator wins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sceau_dev.infra import mongo_server
from sceau_dev.infra.manager import default_cache_dir
from sceau_dev.infra.process import free_port

pytestmark = pytest.mark.integration


def _started_environment(folder: Path) -> list[bytes]:
    config = mongo_server.MongoConfig(free_port(), folder / "ferretdb", folder / "fdb.log")
    pid = mongo_server.start(
        config, default_cache_dir(), lambda _: None, timeout_s=120, server="ferretdb"
    )
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    finally:
        mongo_server.stop(pid)


def test_ferretdb_collects_less_often(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    assert b"GOGC=800" in _started_environment(tmp_path)


def test_an_operators_gogc_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGC", "150")
    environment = _started_environment(tmp_path)
    assert b"GOGC=150" in environment
    assert b"GOGC=800" not in environment
