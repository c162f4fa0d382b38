"""Helpers for the Kubernetes manifest tests: rendering, lookups, offline schema validation.

Plain functions (no fixtures) so that every test module of this folder can import them.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
SETUP = ROOT / "scripts" / "setup-kustomize.sh"
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.33"
STRIMZI_CRDS = Path(__file__).parent / "schemas" / "strimzi-1.2.0"

SERVICES = {"issuer": 8001, "registry": 8002, "verifier": 8003, "notifier": 8004}
AUTOSCALED = {"sceau-verifier", "sceau-notifier"}
# Topics whose partitions bound the notifier's parallelism (its main consumer groups).
NOTIFIER_WORK_TOPICS = (
    "issuer.notification-requested.v1",
    "issuer.credential-issued.v1",
    "issuer.credential-status-changed.v1",
    "verifier.verification-completed.v1",
)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
Doc = dict[str, Any]


def run_setup_script() -> Path:
    """Install kustomize if missing (scripts/setup-kustomize.sh) and return its path.

    Fails (never skips) when it cannot be installed: a skipped manifest check is no check.
    """
    proc = subprocess.run(
        [str(SETUP)], capture_output=True, text=True, timeout=900, check=False, cwd=ROOT
    )
    assert proc.returncode == 0, (
        f"scripts/setup-kustomize.sh failed ({proc.returncode}):\n{proc.stderr}"
    )
    path = Path(proc.stdout.strip().splitlines()[-1])
    assert path.is_file(), proc.stdout
    return path


def render(kustomize: Path, overlay: str) -> list[Doc]:
    """``kustomize build deploy/k8s/overlays/<overlay>`` as a list of objects."""
    proc = subprocess.run(
        [str(kustomize), "build", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"kustomize build {overlay} failed:\n{proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc: Doc) -> Doc:
    spec: Doc = doc["spec"]["template"]["spec"]
    return spec


def containers(doc: Doc) -> Iterator[Doc]:
    spec = pod_spec(doc)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


# --- schemas ---------------------------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """Forbid unknown fields wherever the CRD schema lists the known ones.

    The API server prunes unknown fields of custom resources silently; a misspelt Kafka setting
    would vanish without a word, so the test treats it as an error instead.
    """
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def strimzi_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for path in sorted(STRIMZI_CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served"):
                continue
            schema = _strict(version["schema"]["openAPIV3Schema"])
            api_version = f"{crd['spec']['group']}/{version['name']}"
            validators[(api_version, kind)] = jsonschema.Draft202012Validator(schema)
    return validators


def validate(doc: Doc) -> None:
    """Raise if ``doc`` does not match its Kubernetes or Strimzi schema."""
    if doc["apiVersion"].startswith("kafka.strimzi.io/"):
        validator = strimzi_validators().get((doc["apiVersion"], doc["kind"]))
        assert validator is not None, f"no Strimzi schema for {doc['apiVersion']} {doc['kind']}"
        validator.validate(doc)
        # ObjectMeta is not part of a CRD schema; check names like the API server does.
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", doc["metadata"]["name"])
    else:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def container_env(docs: list[Doc], svc: str) -> dict[str, str]:
    """The service's environment as the kubelet would build it (ConfigMaps, then env entries).

    Secret values are replaced by valid stand-ins so that the settings classes can parse them.
    """
    doc = named(docs, "Deployment", f"sceau-{svc}")
    (c,) = pod_spec(doc)["containers"]
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        env |= named(docs, "ConfigMap", source["configMapRef"]["name"]).get("data", {})
    for entry in c.get("env", []):
        if "value" in entry:
            value = re.sub(
                r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), entry["value"]
            )
        elif "configMapKeyRef" in entry["valueFrom"]:
            ref = entry["valueFrom"]["configMapKeyRef"]
            value = named(docs, "ConfigMap", ref["name"])["data"][ref["key"]]
        elif "secretKeyRef" in entry["valueFrom"]:
            value = SECRET_STAND_INS[entry["valueFrom"]["secretKeyRef"]["key"]]
        else:
            value = "pod-0"
        env[entry["name"]] = value
    return env


SECRET_STAND_INS = {
    "master-key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "webhook-secret-key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "operator-token": "x" * 32,
    "verifier-token": "v" * 32,
    "mongodb-uri": "mongodb://verifier:hex0123@sceau-mongodb-0.sceau-mongodb:27017/",
    "request-key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
    "username": "mailer",
    "password": "hex0123",
    **dict.fromkeys(SERVICES, "hex0123"),
}
