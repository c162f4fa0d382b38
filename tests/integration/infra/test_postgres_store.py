"""``sceau infra`` runs FerretDB on a PostgreSQL cluster of its own with ``--store postgresql``.

The servers are started on free ports under a temporary project home, so the developer's (and the
other tests') servers are not touched. PostgreSQL must be on the machine (it is on ours and in CI:
``sceau infra`` installs Debian's package when it is missing and it runs as root).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from sceau_dev.infra import mongo_server, postgres_server
from sceau_dev.infra.manager import Infra, InfraSettings
from sceau_dev.infra.process import InfraError, free_port, pid_alive

pytestmark = pytest.mark.integration


@pytest.fixture
def infra(tmp_path: Path) -> Iterator[Infra]:
    if mongo_server.engine() != "ferretdb":
        pytest.skip("mongod is installed: FerretDB stores do not apply")
    settings = InfraSettings(
        home=tmp_path,
        mongo_port=free_port(),
        postgres_port=free_port(),
        mongo_store="postgresql",
        timeout_s=120,
    )
    manager = Infra(settings, lambda message: None)
    try:
        yield manager
    finally:
        manager.down(purge=True)


def test_ferretdb_runs_on_its_own_postgresql(infra: Infra) -> None:
    uri = infra.up_mongo()
    before = {s.name: s for s in infra.status()}
    assert before["postgres"].running
    pg_pid = before["postgres"].pid
    assert pg_pid is not None
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    try:
        items = client["infra_check"]["items"]
        items.insert_many([{"_id": f"i{n}", "tenant": "t", "n": n} for n in range(50)])
        assert items.find_one({"tenant": "t", "n": 42}) == {"_id": "i42", "tenant": "t", "n": 42}
        plan = client["infra_check"].command("explain", {"find": "items", "filter": {"n": 7}})
        # The equality filter reaches PostgreSQL (pushed down), not only FerretDB's own loop.
        assert "@>" in str(plan["queryPlanner"]), plan
    finally:
        client.close()
    statuses = {s.name: s for s in infra.status()}
    assert statuses["postgres"].running
    assert statuses["mongo"].detail == "ferretdb+postgresql"

    # Idempotent: a second `up` leaves both servers as they are.
    assert infra.up_mongo() == uri
    assert {s.name: s.pid for s in infra.status()}["postgres"] == pg_pid

    # PostgreSQL stopped under a running FerretDB: `up` starts both afresh.
    ferretdb_pid = statuses["mongo"].pid
    postgres_server.stop(pg_pid)
    assert infra.up_mongo() == uri
    after = {s.name: s for s in infra.status()}
    restarted = after["postgres"]
    assert restarted.running
    assert restarted.pid != pg_pid
    assert after["mongo"].pid != ferretdb_pid
    client = MongoClient(uri)
    try:
        assert client["infra_check"]["items"].count_documents({"tenant": "t"}) == 50
    finally:
        client.close()
    pg_pid = restarted.pid

    data_dir = infra.settings.postgres().data_dir
    infra.down(purge=True)
    assert not pid_alive(pg_pid)
    assert not data_dir.exists()


def test_a_running_server_on_another_store_is_reported(infra: Infra) -> None:
    infra.up_mongo()
    sqlite = Infra(
        InfraSettings(
            home=infra.settings.home,
            mongo_port=infra.settings.mongo_port,
            mongo_store="sqlite",
        ),
        lambda message: None,
    )
    with pytest.raises(InfraError, match="runs FerretDB on postgresql, not sqlite"):
        sqlite.up_mongo()


def test_unknown_store_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCEAU_MONGO_STORE", "oracle")
    with pytest.raises(InfraError, match="SCEAU_MONGO_STORE='oracle'"):
        InfraSettings()


def test_the_cluster_folder_is_reachable_by_the_server_account(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    chosen = postgres_server.reachable_data_dir(private / "postgres")
    if os.geteuid() != 0:
        assert chosen == private / "postgres"
    else:
        assert not chosen.is_relative_to(private)
        assert chosen == postgres_server.reachable_data_dir(private / "postgres")


def test_ferretdb_is_given_the_handler_of_its_store(tmp_path: Path) -> None:
    sqlite = mongo_server.MongoConfig(1, tmp_path, tmp_path / "log")
    assert mongo_server.store_flags(sqlite) == [
        "--handler=sqlite",
        f"--sqlite-url=file:{tmp_path}/?_pragma=synchronous(normal)",
    ]
    durable = mongo_server.MongoConfig(1, tmp_path, tmp_path / "log", sqlite_synchronous="full")
    assert mongo_server.store_flags(durable)[1].endswith("?_pragma=synchronous(full)")
    unknown = mongo_server.MongoConfig(1, tmp_path, tmp_path / "log", sqlite_synchronous="off")
    with pytest.raises(InfraError, match="unknown SQLite synchronous setting"):
        mongo_server.store_flags(unknown)
    url = "postgres://sceau@127.0.0.1:5/ferretdb"
    pg = mongo_server.MongoConfig(1, tmp_path, tmp_path / "log", "postgresql", url)
    assert mongo_server.store_flags(pg) == [
        "--handler=postgresql",
        f"--postgresql-url={url}",
    ]
    without_url = mongo_server.MongoConfig(1, tmp_path, tmp_path / "log", "postgresql")
    with pytest.raises(InfraError, match="needs the PostgreSQL URL"):
        mongo_server.store_flags(without_url)
