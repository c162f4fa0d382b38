import json
import subprocess
import sys

from sceau_shared.cli.main import build_parser, main


def sceau(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sceau_shared.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


class TestSceauCommand:
    def test_version(self, capsys):
        assert main(["version"]) == 0
        assert capsys.readouterr().out.startswith("sceau ")

    def test_infra_group_is_registered(self):
        help_text = build_parser().format_help()
        assert "infra" in help_text

    def test_infra_status_reports_stopped_servers_with_exit_1(self, tmp_path, monkeypatch):
        import os

        env = {
            **os.environ,
            "SCEAU_HOME": str(tmp_path),
            "SCEAU_KAFKA_PORT": "1",
            "SCEAU_MONGO_PORT": "2",
        }
        result = sceau("infra", "status", "--json", env=env)
        assert result.returncode == 1
        statuses = json.loads(result.stdout)
        assert {s["name"]: s["running"] for s in statuses} == {"kafka": False, "mongo": False}

    def test_bad_port_setting_is_a_clear_error(self, tmp_path):
        import os

        env = {**os.environ, "SCEAU_HOME": str(tmp_path), "SCEAU_KAFKA_PORT": "lots"}
        result = sceau("infra", "status", env=env)
        assert result.returncode != 0
        assert "SCEAU_KAFKA_PORT='lots' is not a TCP port" in result.stderr
        assert "Traceback" not in result.stderr
