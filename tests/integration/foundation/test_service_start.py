"""Services start against the real servers, and refuse bad settings in one line."""

import os
import subprocess
import sys

import pytest

from sceau_dev.infra.process import free_port
from sceau_dev.testing.processes import ServiceProcess

pytestmark = pytest.mark.integration


def run_service(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sceau_notifier"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class TestRefusesBadSettings:
    def test_malformed_mongo_uri(self):
        result = run_service({"NOTIFIER_MONGO__URI": "not-a-uri"})
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "sceau-notifier: cannot start: invalid settings: NOTIFIER_MONGO__URI"
        )

    def test_unreachable_broker(self, real_endpoints):
        result = run_service(
            {
                "NOTIFIER_MONGO__URI": real_endpoints.mongo_uri,
                "NOTIFIER_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
            }
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("sceau-notifier: cannot start: Kafka at 127.0.0.1:")
        assert "unreachable" in last

    def test_unreachable_mongo(self):
        result = run_service(
            {
                "NOTIFIER_MONGO__URI": f"mongodb://127.0.0.1:{free_port()}/",
                "NOTIFIER_MONGO__SERVER_SELECTION_TIMEOUT_MS": "1000",
            }
        )
        assert result.returncode == 2
        assert "MongoDB is unreachable" in result.stderr.strip().splitlines()[-1]


def test_service_becomes_ready_against_real_servers(real_endpoints, unique_id, tmp_path):
    port = free_port()
    env = {
        "NOTIFIER_MONGO__URI": real_endpoints.mongo_uri,
        "NOTIFIER_MONGO__DATABASE": f"t_{unique_id}",
        "NOTIFIER_KAFKA__BOOTSTRAP_SERVERS": real_endpoints.kafka_bootstrap,
        "NOTIFIER_KAFKA__TOPIC_PREFIX": f"t{unique_id}.",
        "NOTIFIER_HTTP__PORT": str(port),
    }
    service = ServiceProcess("notifier", port, env, tmp_path)
    service.start()
    try:
        service.wait_ready(timeout_s=60)
    finally:
        service.stop(timeout_s=30)
