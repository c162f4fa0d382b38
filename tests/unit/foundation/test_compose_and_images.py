"""docker compose cannot run here (no Docker engine), so its file is checked statically."""

import importlib
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


DOCKERFILE = ROOT / "Dockerfile"
PORTS = {"issuer": "8001", "registry": "8002", "verifier": "8003", "notifier": "8004"}


def _stages(text: str) -> list[str]:
    """The Dockerfile's stages, each from its FROM line to the next (preamble dropped)."""
    return re.split(r"^(?=FROM )", text, flags=re.M)[1:]


def _render(text: str, args: dict[str, str]) -> str:
    """Substitute build arguments the way the builder does for ``${NAME}`` (enough here)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), text)


class TestDockerfile:
    """One Dockerfile serves every service; no Docker engine here, so it is checked statically."""

    TEXT = DOCKERFILE.read_text()

    def test_multi_stage_non_root_with_healthcheck(self):
        stages = re.findall(r"^FROM .+ AS (\w+)", self.TEXT, flags=re.M)
        assert len(stages) >= 2
        user = re.findall(r"^USER (\S+)", self.TEXT, flags=re.M)
        assert user
        assert not user[-1].startswith(("root", "0"))
        assert "HEALTHCHECK" in _stages(self.TEXT)[-1]
        assert "/healthz" in self.TEXT

    def test_names_no_service_itself(self):
        # instructions only: the comments show an example build, the usage message lists choices
        instructions = "\n".join(
            line
            for line in self.TEXT.splitlines()
            if not line.startswith("#") and "<issuer|registry|verifier|notifier>" not in line
        )
        for service in SERVICES:
            assert service not in instructions.lower()

    def test_every_stage_declares_the_build_arguments_it_uses(self):
        # ARGs are stage-scoped: one used but not re-declared in a stage expands to "".
        for stage in _stages(self.TEXT):
            declared = set(re.findall(r"^ARG (\w+)", stage, flags=re.M))
            declared |= set(re.findall(r"^ENV (\w+)=", stage, flags=re.M))
            used = set(re.findall(r"\$\{(\w+)\}", stage))
            builtin = {"PATH"}
            assert used - declared - builtin == set(), stage.splitlines()[0]

    @pytest.mark.parametrize("service", SERVICES)
    def test_compose_builds_every_service_from_it(self, service):
        build = COMPOSE["services"][service]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
        args = {key: str(value) for key, value in build["args"].items()}
        assert set(args) == set(re.findall(r"^ARG (\w+)", self.TEXT, flags=re.M))
        assert args["SERVICE"] == service
        assert args["PORT"] == PORTS[service]
        # what the arguments select exists: the workspace member, its module and settings prefix
        member = ROOT / "services" / service
        assert f'name = "sceau-{service}"' in (member / "pyproject.toml").read_text()
        assert (member / "src" / f"sceau_{service}" / "__main__.py").exists()
        settings = importlib.import_module(f"sceau_{service}.settings")
        assert args["ENV_PREFIX"] == settings.ENV_PREFIX
        assert (
            f"127.0.0.1:{PORTS[service]}:{PORTS[service]}" in COMPOSE["services"][service]["ports"]
        )

    @pytest.mark.parametrize("service", SERVICES)
    def test_rendered_for_a_service(self, service):
        build = COMPOSE["services"][service]["build"]
        text = _render(self.TEXT, {key: str(value) for key, value in build["args"].items()})
        prefix, port = build["args"]["ENV_PREFIX"], PORTS[service]
        assert f'--package "sceau-{service}"' in text
        assert f"SCEAU_SERVICE_MODULE=sceau_{service}" in text
        assert f"{prefix}HTTP__HOST=0.0.0.0" in text
        assert f"{prefix}HTTP__PORT={port}" in text
        assert f"EXPOSE {port}" in text


def test_compose_publishes_nothing_beyond_this_machine():
    """Issue 18: the stack's fixed development secrets were served on every interface."""
    published = {
        name: spec["ports"] for name, spec in COMPOSE["services"].items() if spec.get("ports")
    }
    assert published  # the services are reachable from the host
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def _resolve(value: object) -> str:
    # ${VAR:-default} -> default (what compose uses when the variable is unset)
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


@pytest.mark.parametrize("service", SERVICES)
def test_compose_environment_is_accepted_by_the_service_settings(service, monkeypatch):
    """Every variable compose sets must exist in the service's settings and be valid."""
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
