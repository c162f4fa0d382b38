"""The Kubernetes manifests (deploy/k8s): every overlay renders with kustomize, validates OFFLINE
against the Kubernetes and Strimzi schemas, and keeps the deployment policy (hardened pods,
probes, resources, autoscaling, topics, network isolation, secrets by reference only).

kustomize comes from ``scripts/setup-kustomize.sh`` (built from the Go module proxy once, then
cached). If it cannot be installed these tests FAIL: a skipped manifest check is no check.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from k8s_manifests import (
    AUTOSCALED,
    NOTIFIER_WORK_TOPICS,
    ROOT,
    SERVICES,
    SETUP,
    WORKLOAD_KINDS,
    Doc,
    container_env,
    containers,
    named,
    of_kind,
    pod_spec,
    validate,
)

from sceau_shared.events import ALL_EVENTS, DeadLetterV1, dead_letter_topic


def test_every_overlay_validates_against_kubernetes_and_strimzi_schemas(docs: list[Doc]) -> None:
    errors = []
    for doc in docs:
        try:
            validate(doc)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(exc.message)
    assert not errors, "\n".join(errors)
    kinds = {d["kind"] for d in docs}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "Deployment", "StatefulSet"} <= kinds


def test_schema_validation_rejects_mistakes(rendered: dict[str, list[Doc]]) -> None:
    # Guards the guard: a validation that accepts anything would make the test above vacuous.
    docs = rendered["prod"]
    deployment = copy.deepcopy(named(docs, "Deployment", "sceau-issuer"))
    pod_spec(deployment)["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/readyz"
    topic = copy.deepcopy(named(docs, "KafkaTopic", "issuer.credential-issued.v1"))
    topic["spec"]["replica"] = 3
    node_pool = copy.deepcopy(named(docs, "KafkaNodePool", "dual-role"))
    node_pool["spec"]["roles"] = ["broker", "zookeeper"]
    hpa = copy.deepcopy(named(docs, "HorizontalPodAutoscaler", "sceau-verifier"))
    hpa["spec"]["maxReplicas"] = "ten"
    for bad in (deployment, topic, node_pool, hpa):
        with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
            validate(bad)


# --- workloads -------------------------------------------------------------------------------


def test_every_container_is_non_root_read_only_and_bounded(docs: list[Doc]) -> None:
    workloads = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
    assert len(workloads) == 6  # 4 services, MongoDB, its init Job
    for doc in workloads:
        spec = pod_spec(doc)
        pod_sc = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, doc["metadata"]["name"]
        assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        for c in containers(doc):
            where = f"{doc['kind']}/{doc['metadata']['name']}/{c['name']}"
            sc = c.get("securityContext", {})
            assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, where
            assert sc.get("runAsUser", pod_sc.get("runAsUser", 0)) != 0, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("capabilities", {}).get("add"), where
            assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(bound, {})), where


def test_services_run_as_uid_10001_with_a_writable_tmp(docs: list[Doc]) -> None:
    for svc in SERVICES:
        doc = named(docs, "Deployment", f"sceau-{svc}")
        spec = pod_spec(doc)
        (container,) = spec["containers"]
        assert spec["securityContext"]["runAsUser"] == 10001
        assert container["securityContext"]["runAsUser"] == 10001
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - a mount path


def test_services_have_health_probes_on_their_port(docs: list[Doc]) -> None:
    for svc, port in SERVICES.items():
        doc = named(docs, "Deployment", f"sceau-{svc}")
        (c,) = pod_spec(doc)["containers"]
        assert c["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        service = named(docs, "Service", f"sceau-{svc}")
        assert service["spec"]["ports"][0]["port"] == port
        assert service["spec"]["selector"] == doc["spec"]["selector"]["matchLabels"]


def test_every_workload_has_a_pod_disruption_budget(docs: list[Doc]) -> None:
    budgets = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
        for p in of_kind(docs, "PodDisruptionBudget")
    }
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet"}:
            labels = tuple(sorted(doc["spec"]["selector"]["matchLabels"].items()))
            assert labels in budgets, doc["metadata"]["name"]


def test_only_verifier_and_notifier_autoscale(rendered: dict[str, list[Doc]]) -> None:
    for overlay, docs in rendered.items():
        hpas = {
            h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
        }
        assert set(hpas) == AUTOSCALED, overlay
        for name, hpa in hpas.items():
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
            # The HPA owns the count: a replicas field would reset it on every apply.
            assert "replicas" not in named(docs, "Deployment", name)["spec"], name
        partitions = {
            t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(docs, "KafkaTopic")
        }
        # Consumers beyond the partition count of a group's topic would sit idle.
        assert hpas["sceau-notifier"]["spec"]["maxReplicas"] <= min(
            partitions[t] for t in NOTIFIER_WORK_TOPICS
        )
    prod = {
        h["metadata"]["name"]: h["spec"]
        for h in of_kind(rendered["prod"], "HorizontalPodAutoscaler")
    }
    assert prod["sceau-verifier"]["minReplicas"] >= 3
    assert prod["sceau-notifier"]["minReplicas"] >= 2


def test_replica_counts_per_overlay(rendered: dict[str, list[Doc]]) -> None:
    dev, prod = rendered["dev"], rendered["prod"]
    for name in ("sceau-issuer", "sceau-registry"):
        assert named(dev, "Deployment", name)["spec"]["replicas"] == 1
        assert named(prod, "Deployment", name)["spec"]["replicas"] >= 2
    for hpa in of_kind(dev, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] == 1
    # Production memory is not overcommitted.
    for svc in SERVICES:
        (c,) = pod_spec(named(prod, "Deployment", f"sceau-{svc}"))["containers"]
        assert c["resources"]["requests"]["memory"] == c["resources"]["limits"]["memory"], svc


# --- Kafka -----------------------------------------------------------------------------------


def system_topics() -> set[str]:
    """Every topic the code produces to: event topics, their DLQs, the notifier's own DLQs."""
    from sceau_notifier.service.emails import EMAIL_CHANNEL
    from sceau_notifier.service.webhooks import WEBHOOK_CHANNEL

    topics = {e.TOPIC for e in ALL_EVENTS if e is not DeadLetterV1}
    topics |= {dead_letter_topic(t) for t in set(topics)}
    # The notifier dead-letters given-up deliveries to notifier.<channel>.v1.dlq.
    topics |= {dead_letter_topic(f"notifier.{ch}.v1") for ch in (EMAIL_CHANNEL, WEBHOOK_CHANNEL)}
    return topics


def test_every_system_topic_is_declared_with_partitions_and_replicas(
    rendered: dict[str, list[Doc]],
) -> None:
    expected = system_topics()
    assert len(expected) == 20
    wanted = {"dev": (1, 1), "prod": (3, 2)}
    for overlay, docs in rendered.items():
        (kafka,) = of_kind(docs, "Kafka")
        topics = {t["spec"]["topicName"]: t for t in of_kind(docs, "KafkaTopic")}
        assert set(topics) == expected, overlay
        replicas, min_isr = wanted[overlay]
        for name, topic in topics.items():
            spec = topic["spec"]
            assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
            assert isinstance(spec["partitions"], int), name
            assert spec["partitions"] >= 1, name
            assert spec["replicas"] == replicas, (overlay, name)
            assert spec["config"]["min.insync.replicas"] == min_isr, (overlay, name)
            assert int(spec["config"]["retention.ms"]) > 0, name
        # The learner-contact topic keeps its data no longer than the others.
        retention = {n: int(t["spec"]["config"]["retention.ms"]) for n, t in topics.items()}
        assert retention["issuer.notification-requested.v1"] == min(
            retention[t] for t in topics if not t.endswith(".dlq")
        )


def test_kafka_is_kraft_with_node_pool_sized_per_overlay(rendered: dict[str, list[Doc]]) -> None:
    for overlay, nodes in (("dev", 1), ("prod", 3)):
        docs = rendered[overlay]
        (kafka,) = of_kind(docs, "Kafka")
        (pool,) = of_kind(docs, "KafkaNodePool")
        assert "zookeeper" not in kafka["spec"]
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert set(pool["spec"]["roles"]) == {"controller", "broker"}
        assert pool["spec"]["replicas"] == nodes
        config = kafka["spec"]["kafka"]["config"]
        assert config["default.replication.factor"] == nodes
        assert config["offsets.topic.replication.factor"] == nodes
        assert config["min.insync.replicas"] == (2 if nodes == 3 else 1)
        assert config["auto.create.topics.enable"] is False
        (listener,) = kafka["spec"]["kafka"]["listeners"]
        # The services' KAFKA__BOOTSTRAP_SERVERS point at Strimzi's bootstrap Service.
        bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
        for svc in SERVICES:
            env = container_env(docs, svc)
            assert env[f"{svc.upper()}_KAFKA__BOOTSTRAP_SERVERS"] == bootstrap


# --- MongoDB ---------------------------------------------------------------------------------


def test_mongodb_is_a_replica_set_with_headless_service_and_init_job(
    rendered: dict[str, list[Doc]],
) -> None:
    for overlay, members in (("dev", 1), ("prod", 3)):
        docs = rendered[overlay]
        sts = named(docs, "StatefulSet", "sceau-mongodb")
        headless = named(docs, "Service", sts["spec"]["serviceName"])
        assert headless["spec"]["clusterIP"] == "None"
        assert sts["spec"]["replicas"] == members
        (mongod,) = pod_spec(sts)["containers"]
        args = mongod["args"]
        # Separate tokens: the image's entrypoint strips them as "--opt value" while it creates
        # the root user on a standalone mongod.
        assert args[args.index("--replSet") + 1] == "rs0"
        assert args[args.index("--keyFile") + 1].startswith("/keyfile/")
        (config,) = [c for c in of_kind(docs, "ConfigMap") if "replica-set" in c.get("data", {})]
        assert config["data"]["replica-set"] == "rs0"
        assert int(config["data"]["members"]) == members
        hosts = config["data"]["hosts"].split(",")
        assert hosts == [f"sceau-mongodb-{i}.sceau-mongodb:27017" for i in range(members)]
        job = named(docs, "Job", "sceau-mongodb-init")
        (init,) = pod_spec(job)["containers"]
        assert "initiate-replica-set.js" in init["command"][-1]
        scripts = named(docs, "ConfigMap", "sceau-mongodb-init-scripts")["data"]
        assert "rs.initiate(" in scripts["initiate-replica-set.js"]
        for svc in SERVICES:
            # One database user per service that stores data; none for the verifier.
            assert (f'"{svc}"' in scripts["create-users.js"]) == (svc != "verifier")


# --- tooling ---------------------------------------------------------------------------------


def test_setup_script_is_idempotent_and_quiet(kustomize: Path) -> None:
    proc = subprocess.run(
        [str(SETUP)], capture_output=True, text=True, timeout=120, check=True, cwd=ROOT
    )
    assert proc.stdout.strip() == str(kustomize)
    assert proc.stderr == ""
    version = subprocess.run(
        [str(kustomize), "version"], capture_output=True, text=True, timeout=30, check=True
    )
    assert version.stdout.startswith("v5."), version.stdout
