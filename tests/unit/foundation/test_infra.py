import socket

import pytest

from sceau_dev.infra import kafka_server, mongo_server
from sceau_dev.infra.manager import Infra, InfraSettings
from sceau_dev.infra.process import InfraError, require_tool


class TestInfraErrors:
    def test_missing_tool_says_what_it_is_for(self, monkeypatch):
        monkeypatch.setenv("PATH", "/nonexistent")
        with pytest.raises(InfraError, match=r"'mvn' is not installed .* download Kafka"):
            require_tool("mvn", "download Kafka from Maven Central")

    def test_port_in_use_is_reported_with_the_setting_to_change(self, tmp_path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            config = mongo_server.MongoConfig(
                port=port, data_dir=tmp_path / "m", log_file=tmp_path / "m.log"
            )
            with pytest.raises(InfraError, match=rf"port {port} is already in use.*--mongo-port"):
                mongo_server.start(config, tmp_path, lambda _: None, timeout_s=1)
            kconfig = kafka_server.KafkaConfig(
                port=port,
                controller_port=port + 1,
                data_dir=tmp_path / "k",
                log_file=tmp_path / "k.log",
            )
            (tmp_path / f"kafka-{kafka_server.KAFKA_VERSION}").mkdir()
            (tmp_path / f"kafka-{kafka_server.KAFKA_VERSION}" / ".complete").write_text("x")
            with pytest.raises(InfraError, match=rf"port {port} is already in use.*--kafka-port"):
                kafka_server.start(kconfig, tmp_path, lambda _: None, timeout_s=1)

    def test_status_of_nothing_started(self, tmp_path):
        settings = InfraSettings(home=tmp_path, cache_dir=tmp_path, kafka_port=1, mongo_port=2)
        statuses = Infra(settings, lambda _: None).status()
        assert [s.running for s in statuses] == [False, False]
        assert Infra(settings, lambda _: None).addresses() == {
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "MONGODB_URI": "mongodb://127.0.0.1:2/",
        }


def _module_copy(tmp_path, metadata: str, collection: str):
    root = tmp_path / "ferretdb"
    (root / "internal/backends/sqlite/metadata").mkdir(parents=True)
    (root / "internal/backends/sqlite/metadata/metadata.go").write_text(metadata)
    (root / "internal/backends/sqlite/collection.go").write_text(collection)
    return root


def test_ferretdb_source_adjustment_points_queries_at_the_id_index(tmp_path):
    root = _module_copy(
        tmp_path,
        "\tIDColumn = DefaultColumn + \"->'$._id'\"\n",
        "if params.Filter.Len() == 1 {\n}\nif params.Filter.Len() == 1 {\n}\n",
    )
    mongo_server.adjust_ferretdb_source(root)
    metadata = (root / "internal/backends/sqlite/metadata/metadata.go").read_text()
    assert "IDColumn = DefaultColumn + \"->'_id'\"" in metadata
    collection = (root / "internal/backends/sqlite/collection.go").read_text()
    assert collection.count("params.Filter.Len() >= 1") == 2


def test_ferretdb_source_adjustment_refuses_unexpected_source(tmp_path):
    root = _module_copy(tmp_path, "IDColumn = something else\n", "")
    with pytest.raises(InfraError, match="not as expected"):
        mongo_server.adjust_ferretdb_source(root)


def test_adjusted_ferretdb_has_its_own_cache_entry(tmp_path):
    path = mongo_server.ferretdb_binary(tmp_path)
    assert mongo_server.FERRETDB_VERSION in path.parent.name
    assert mongo_server.FERRETDB_BUILD in path.parent.name


def test_ferretdb_collects_less_often_unless_told_otherwise():
    env = mongo_server.ferretdb_environment({"PATH": "/bin"})
    assert env == {"PATH": "/bin", "GOGC": mongo_server.FERRETDB_GOGC}
    assert mongo_server.ferretdb_environment({"GOGC": "100"})["GOGC"] == "100"
