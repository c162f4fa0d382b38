"""Configuration, secrets, network isolation and public routes of the Kubernetes manifests."""

from __future__ import annotations

import importlib
import os
import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from k8s_manifests import (
    K8S,
    K8S_VERSION,
    SERVICES,
    WORKLOAD_KINDS,
    Doc,
    container_env,
    containers,
    named,
    of_kind,
    pod_spec,
)
from pydantic import BaseModel


def _settings_class(svc: str) -> type[Any]:
    module = importlib.import_module(f"sceau_{svc}.settings")
    return getattr(module, f"{svc.capitalize()}Settings")  # type: ignore[no-any-return]


def _field_path_exists(model: type[Any], parts: list[str]) -> bool:
    field = model.model_fields.get(parts[0])
    if field is None:
        return False
    if len(parts) == 1:
        return True
    nested = field.annotation
    return (
        isinstance(nested, type)
        and issubclass(nested, BaseModel)
        and _field_path_exists(nested, parts[1:])
    )


def test_service_environment_matches_the_settings_classes(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misspelt variable is silently ignored by pydantic-settings: check every name resolves to
    # a settings field, then that the whole environment parses.
    for svc in SERVICES:
        prefix = f"{svc.upper()}_"
        env = container_env(docs, svc)
        settings_cls = _settings_class(svc)
        for name in env:
            if name.startswith(prefix):
                parts = name[len(prefix) :].lower().split("__")
                assert _field_path_exists(settings_cls, parts), f"{name}: no such setting"
        for name in [n for n in os.environ if n.startswith(prefix)]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = settings_cls()
        assert settings.http.port == SERVICES[svc]
        assert settings.telemetry.otlp_endpoint
        if svc == "verifier":  # verifies without a database: only OpenID4VP's optional store
            assert not hasattr(settings, "mongo")
            assert {n for n in env if "MONGO" in n} == {"VERIFIER_OID4VP__MONGODB_URI"}, env
            assert settings.oid4vp.enabled
            assert settings.oid4vp.database == "sceau_verifier"
            continue
        uri = settings.mongo.uri.get_secret_value()
        assert uri.startswith(f"mongodb://sceau_{svc}:"), uri
        assert "replicaSet=rs0" in uri
        assert "$(" not in uri


def test_secrets_are_referenced_never_inlined(docs: list[Doc]) -> None:
    assert not of_kind(docs, "Secret"), "Secrets must not be part of an overlay"
    examples = {
        d["metadata"]["name"]: d
        for d in yaml.safe_load_all((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    }
    referenced: set[tuple[str, str]] = set()
    for doc in docs:
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        for c in containers(doc):
            for entry in c.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add((ref["name"], ref["key"]))
                elif "value" in entry:
                    assert not re.search(r"(?i)key|token|password", entry["name"]), entry
        for volume in pod_spec(doc).get("volumes", []):
            if "secret" in volume:
                referenced.add((volume["secret"]["secretName"], "keyfile"))
    for ingress in of_kind(docs, "Ingress"):
        referenced |= {(t["secretName"], "tls.crt") for t in ingress["spec"]["tls"]}
    for name, key in referenced:
        assert name in examples, f"Secret {name} missing from secret.example.yaml"
        assert key in examples[name]["stringData"], f"{name}/{key} missing from the example"
    assert {
        ("sceau-issuer-secrets", "master-key"),
        ("sceau-registry-secrets", "operator-token"),
        ("sceau-notifier-secrets", "operator-token"),
        ("sceau-smtp", "password"),
    } <= referenced
    for config in of_kind(docs, "ConfigMap"):
        for key in config.get("data", {}):
            assert not re.search(r"(?i)master_key|token|password|secret", key), key
    for example in examples.values():
        kubernetes_validate.validate(example, K8S_VERSION, strict=True)


def test_secret_example_is_not_part_of_any_kustomization() -> None:
    for path in K8S.rglob("kustomization.yaml"):
        kustomization = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in kustomization.get("resources", []):
            assert "secret.example" not in entry, path


# --- network ---------------------------------------------------------------------------------


def _policies(docs: list[Doc]) -> list[Doc]:
    return of_kind(docs, "NetworkPolicy")


def _selects(policy: Doc, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    wanted = selector.get("matchLabels", {})
    expressions = selector.get("matchExpressions", [])
    for expression in expressions:
        assert expression["operator"] == "In", expression  # the only operator the policies use
    return all(labels.get(k) == v for k, v in wanted.items()) and all(
        labels.get(e["key"]) in e["values"] for e in expressions
    )


def _pod_labels(docs: list[Doc], name: str) -> dict[str, str]:
    labels: dict[str, str] = named(docs, "Deployment", name)["spec"]["template"]["metadata"][
        "labels"
    ]
    return labels


def _allowed_ingress_ports(docs: list[Doc], labels: dict[str, str]) -> dict[int, list[Doc]]:
    """Port -> the peers allowed in on it, over every policy that selects these pods."""
    allowed: dict[int, list[Doc]] = {}
    for policy in _policies(docs):
        if not _selects(policy, labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            for port in rule.get("ports", [{"port": 0}]):
                allowed.setdefault(port["port"], []).extend(rule.get("from", [{}]))
    return allowed


def test_network_policies_deny_by_default(docs: list[Doc]) -> None:
    defaults = [
        p
        for p in _policies(docs)
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert len(defaults) == 1
    # No policy opens everything to everyone.
    for policy in _policies(docs):
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), policy["metadata"]["name"]
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to") or rule.get("ports"), policy["metadata"]["name"]


def test_network_policies_let_only_the_right_services_talk(docs: list[Doc]) -> None:
    ingress_ns = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }
    verifier = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "sceau-verifier"}}}
    issuer = _allowed_ingress_ports(docs, _pod_labels(docs, "sceau-issuer"))
    registry = _allowed_ingress_ports(docs, _pod_labels(docs, "sceau-registry"))
    verifier_in = _allowed_ingress_ports(docs, _pod_labels(docs, "sceau-verifier"))
    notifier = _allowed_ingress_ports(docs, _pod_labels(docs, "sceau-notifier"))
    # The verifier resolves share links through the issuer's GET /v1/shares/{token}.
    assert issuer == {8001: [ingress_ns, verifier]}
    assert registry == {8002: [ingress_ns, verifier]}
    assert verifier_in == {8003: [ingress_ns]}
    assert notifier == {}, "the notifier's operator API is not reachable in-cluster"

    def egress_ports(name: str) -> set[int]:
        labels = _pod_labels(docs, name)
        return {
            port["port"]
            for p in _policies(docs)
            if _selects(p, labels) and p["spec"]["podSelector"] != {}
            for rule in p["spec"].get("egress", [])
            for port in rule.get("ports", [])
        }

    data_and_telemetry = {9092, 27017, 4317, 4318}
    assert egress_ports("sceau-issuer") == data_and_telemetry
    assert egress_ports("sceau-registry") == data_and_telemetry
    # The verifier stores nothing: no route to MongoDB.
    # 27017: the verifier's optional OpenID4VP request store (docs/verifier.md).
    assert egress_ports("sceau-verifier") == data_and_telemetry | {8001, 8002, 443}
    assert egress_ports("sceau-notifier") == data_and_telemetry | {25, 465, 587, 443}

    # Kafka and MongoDB accept clients only from the service pods (and their own members).
    service_peer = {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/part-of": "sceau",
                "app.kubernetes.io/component": "service",
            }
        }
    }
    kafka = _allowed_ingress_ports(
        docs, {"strimzi.io/cluster": "sceau", "strimzi.io/kind": "Kafka"}
    )
    assert kafka[9092] == [service_peer]
    mongo = _allowed_ingress_ports(docs, {"app.kubernetes.io/name": "sceau-mongodb"})
    assert set(mongo) == {27017}
    assert service_peer in mongo[27017]


# --- ingress ---------------------------------------------------------------------------------


def _routes(ingress: Doc) -> dict[tuple[str, str], str]:
    return {
        (path["path"], path["pathType"]): path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }


def test_ingress_exposes_only_the_public_endpoints(docs: list[Doc]) -> None:
    public = named(docs, "Ingress", "sceau-public")
    api = named(docs, "Ingress", "sceau-institution-api")
    routes = _routes(public)
    assert routes[("/", "Exact")] == "sceau-verifier"
    assert routes[("/v1/verify", "Prefix")] == "sceau-verifier"
    assert routes[("/s", "Prefix")] == "sceau-verifier"  # share links
    assert routes[("/robots.txt", "Exact")] == "sceau-verifier"
    assert routes[("/oid4vp", "Prefix")] == "sceau-verifier"  # OpenID4VP (wallets, employers)
    assert routes[("/v1/oid4vp", "Prefix")] == "sceau-verifier"
    assert routes[("/.well-known/did.json", "Exact")] == "sceau-registry"
    assert routes[("/institutions", "Prefix")] == "sceau-registry"
    for path in ("/v1/status-lists", "/v1/issuers", "/v1/trust-list"):
        assert routes[(path, "Prefix")] == "sceau-registry"
    assert routes[("/v1/claim", "Prefix")] == "sceau-issuer"
    assert routes[("/v1/public", "Prefix")] == "sceau-issuer"  # Achievement.id URLs
    assert "sceau-notifier" not in routes.values()
    assert not any(p.startswith("/v1/admin") for p, _ in routes)
    assert set(_routes(api).values()) == {"sceau-issuer"}
    (public_host,) = {r["host"] for r in public["spec"]["rules"]}
    (api_host,) = {r["host"] for r in api["spec"]["rules"]}
    assert public_host != api_host, "the institution API has its own host"
    for ingress in (public, api):
        hosts = {r["host"] for r in ingress["spec"]["rules"]}
        assert hosts <= {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
        for path in (p for r in ingress["spec"]["rules"] for p in r["http"]["paths"]):
            named(docs, "Service", path["backend"]["service"]["name"])
    # Public URLs handed out by the services point at the public host.
    registry_env = container_env(docs, "registry")
    assert registry_env["REGISTRY_HTTP__PUBLIC_BASE_URL"] == f"https://{public_host}"
    assert container_env(docs, "verifier")["VERIFIER_STATUS__ALLOWED_HOSTS"] == f'["{public_host}"]'
    assert container_env(docs, "verifier")["VERIFIER_SHARES__ISSUER_URL"] == (
        "http://sceau-issuer:8001"
    )
