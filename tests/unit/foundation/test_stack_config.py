"""The one stack launcher's configuration: what each service process is started with."""

from __future__ import annotations

from pathlib import Path

from sceau_dev.testing.stack import SERVICES, Stack, StackConfig, free_ports, service_env


def _config(**overrides: object) -> StackConfig:
    values: dict[str, object] = {
        "kafka_bootstrap": "127.0.0.1:19092",
        "mongo_uri": "mongodb://127.0.0.1:27018/",
        "log_dir": Path("/nonexistent"),
        "topic_prefix": "t1.",
        "database_prefix": "t1_",
        "ports": free_ports(),
    }
    values.update(overrides)
    return StackConfig(**values)  # type: ignore[arg-type]


def test_each_service_gets_its_database_the_shared_prefix_and_its_neighbours() -> None:
    config = _config()
    issuer = service_env(config, "issuer")
    assert issuer["ISSUER_MONGO__DATABASE"] == "t1_issuer"
    assert issuer["ISSUER_KAFKA__TOPIC_PREFIX"] == "t1."
    assert issuer["ISSUER_REGISTRY_PUBLIC_URL"] == config.url("registry")
    assert issuer["ISSUER_STATUS_DEBOUNCE_S"] == "0.2"
    assert "ISSUER_HTTP__RATE_LIMIT_PER_MINUTE" not in issuer
    verifier = service_env(config, "verifier")
    assert verifier["VERIFIER_TRUST__REGISTRY_URL"] == config.url("registry")


def test_benchmark_switches() -> None:
    config = _config(
        status_debounce_s=None,
        rate_limit_per_minute=0,
        extra_env={"issuer": {"ISSUER_SIGN_WORKERS": "0"}},
    )
    issuer = service_env(config, "issuer")
    assert "ISSUER_STATUS_DEBOUNCE_S" not in issuer
    assert issuer["ISSUER_HTTP__RATE_LIMIT_PER_MINUTE"] == "0"
    assert issuer["ISSUER_SIGN_WORKERS"] == "0"


def test_a_stack_runs_only_the_services_asked_for() -> None:
    assert list(Stack(_config()).services) == list(SERVICES)
    stack = Stack(_config(services=("verifier",), cpus={"verifier": frozenset({0})}))
    assert list(stack.services) == ["verifier"]
    assert stack["verifier"].cpus == frozenset({0})
    assert stack.url("registry") == stack.config.url("registry")
    assert stack.operator_headers("me")["Authorization"] == f"Bearer {stack.config.operator_token}"
    assert stack.env("verifier")["VERIFIER_HTTP__PORT"] == str(stack.config.ports["verifier"])
