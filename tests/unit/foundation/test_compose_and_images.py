"""docker compose cannot run here (no Docker engine), so its file is checked statically."""

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft201909Validator

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = ["issuer", "registry", "verifier", "notifier"]


class TestCompose:
    def test_valid_against_the_compose_specification_schema(self):
        schema = json.loads((ROOT / "tests/schemas/compose-spec.json").read_text())
        errors = sorted(Draft201909Validator(schema).iter_errors(COMPOSE), key=str)
        assert errors == [], [e.message for e in errors]

    def test_every_built_service_has_its_dockerfile(self):
        for name, service in COMPOSE["services"].items():
            build = service.get("build")
            if build:
                dockerfile = ROOT / build["context"] / build["dockerfile"]
                assert dockerfile.exists(), f"{name}: {dockerfile} missing"

    def test_all_four_services_and_infrastructure_are_there(self):
        assert set(SERVICES) | {"kafka", "mongo"} <= set(COMPOSE["services"])
        assert COMPOSE["services"]["kafka"]["image"].startswith("apache/kafka:4")
        assert "--replSet" in COMPOSE["services"]["mongo"]["command"]

    def test_services_wait_for_healthy_dependencies(self):
        for name in SERVICES:
            service = COMPOSE["services"][name]
            assert "healthcheck" in service
            conditions = {d["condition"] for d in service["depends_on"].values()}
            assert conditions <= {"service_healthy", "service_started"}


@pytest.mark.parametrize("service", SERVICES)
class TestDockerfiles:
    def test_multi_stage_non_root_with_healthcheck(self, service):
        text = (ROOT / "services" / service / "Dockerfile").read_text()
        stages = re.findall(r"^FROM .+ AS (\w+)", text, flags=re.M)
        assert len(stages) >= 2
        user = re.findall(r"^USER (\S+)", text, flags=re.M)
        assert user
        assert not user[-1].startswith(("root", "0"))
        assert "HEALTHCHECK" in text
        assert f"sceau_{service}" in text


def _resolve(value: object) -> str:
    # ${VAR:-default} -> default (what compose uses when the variable is unset)
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


@pytest.mark.parametrize("service", SERVICES)
def test_compose_environment_is_accepted_by_the_service_settings(service, monkeypatch):
    """Every variable compose sets must exist in the service's settings and be valid."""
    import importlib

    module = importlib.import_module(f"sceau_{service}.settings")
    settings_class = getattr(module, f"{service.capitalize()}Settings")
    prefix = f"{service.upper()}_"
    for key in list(__import__("os").environ):
        if key.startswith(prefix):
            monkeypatch.delenv(key)
    for key, value in COMPOSE["services"][service]["environment"].items():
        if key.startswith(prefix):
            monkeypatch.setenv(key, _resolve(value))
    settings = settings_class(_env_file=None)
    assert settings.kafka.bootstrap_servers == "kafka:9092"
