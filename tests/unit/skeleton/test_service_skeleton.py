"""Every service is assembled the same way (issue: one skeleton for every service).

The rules are checked on the source tree, so a newcomer who learns one service knows where to look
in the other three, and the skeleton stays that way.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("issuer", "registry", "verifier", "notifier")
STORING = ("issuer", "registry", "notifier")

#: The same file names for the same roles in all four services.
SKELETON = (
    "__main__.py",  # entry point: one call to sceau_shared.service.run_service
    "settings.py",  # the settings model
    "app.py",  # app factory: create_service_app(DEFINITION, settings)
    "graph.py",  # composition root: the typed graph, built before any consumer starts
    "consumers.py",  # Kafka consumers: one FastStream router, handlers get the graph injected
    "errors.py",  # domain errors
    "schemas.py",  # HTTP input/output models shared by the routers
    "api/__init__.py",  # HTTP routers
    "api/deps.py",  # the one dependency alias: GraphDep
)

#: Dependency-alias names of the old layouts: one name (GraphDep) replaces them.
OLD_ALIASES = {"Svc", "Deps", "Service", "StateDep", "Services", "Components"}


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / f"sceau_{service}"


def modules(service: str) -> list[Path]:
    return sorted(package(service).rglob("*.py"))


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_same_files_for_the_same_roles(service: str) -> None:
    missing = [name for name in SKELETON if not (package(service) / name).is_file()]
    assert not missing, f"{service} lacks {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_entry_point_and_app_factory_are_the_shared_ones(service: str) -> None:
    main = (package(service) / "__main__.py").read_text(encoding="utf-8")
    app = (package(service) / "app.py").read_text(encoding="utf-8")
    assert "run_service(" in main
    assert "create_service_app(" in app
    assert "ServiceDefinition(" in app


@pytest.mark.parametrize("service", SERVICES)
def test_one_dependency_alias(service: str) -> None:
    deps = (package(service) / "api" / "deps.py").read_text(encoding="utf-8")
    assert "GraphDep = Annotated[" in deps
    for path in modules(service):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        assert target.id not in OLD_ALIASES, f"{path}: old alias {target.id}"


@pytest.mark.parametrize("service", SERVICES)
def test_consumers_are_declared_one_way(service: str) -> None:
    source = (package(service) / "consumers.py").read_text(encoding="utf-8")
    assert "consume_event(" in source
    assert "KafkaRouter(" in source
    for path in modules(service):
        if path.name != "consumers.py":
            text = path.read_text(encoding="utf-8")
            assert "subscribe_event" not in text, f"{path} declares a consumer outside consumers.py"


@pytest.mark.parametrize("service", STORING)
def test_mongodb_only_in_repositories_and_the_composition_root(service: str) -> None:
    offenders = [
        str(path.relative_to(package(service)))
        for path in modules(service)
        if any(name == "pymongo" or name.startswith("pymongo.") for name in imported(path))
        and not (path.name in {"graph.py", "repository.py"} or path.name.endswith("_repository.py"))
    ]
    assert not offenders, f"{service}: pymongo imported outside repositories: {offenders}"


def test_the_verifier_stores_nothing_but_optional_openid4vp_requests() -> None:
    """Verifying needs no database; only OpenID4VP's optional request store touches MongoDB.

    pymongo appears in that store's repository alone (the graph reaches it through
    ``open_store``); the skeleton's MongoDB (readiness, ``MONGO__*`` settings) stays off.
    """
    allowed = {package("verifier") / "oid4vp" / "repository.py"}
    for path in modules("verifier"):
        if path not in allowed:
            assert not any(n.startswith("pymongo") for n in imported(path)), path
    settings = (package("verifier") / "settings.py").read_text(encoding="utf-8")
    assert "StoringServiceSettings" not in settings
    assert "MongoSettings" not in settings
    app = (package("verifier") / "app.py").read_text(encoding="utf-8")
    assert "uses_mongo=False" in app


@pytest.mark.parametrize("service", SERVICES)
def test_services_never_import_each_other(service: str) -> None:
    others = {f"sceau_{s}" for s in SERVICES if s != service}
    for path in modules(service):
        for name in imported(path):
            assert name.split(".")[0] not in others, f"{path} imports {name}"


@pytest.mark.parametrize("service", SERVICES)
def test_no_dev_tooling_in_services(service: str) -> None:
    for path in modules(service):
        for name in imported(path):
            assert not name.startswith("sceau_dev"), f"{path} imports {name}"
            assert name.split(".")[0] not in {"pytest", "testcontainers"}, path


def test_one_meaning_per_module_name() -> None:
    names: dict[str, list[str]] = {}
    for service in SERVICES:
        for path in modules(service):
            names.setdefault(path.stem, []).append(f"{service}:{path.parent.name}")
    # Status lists are spelled one way; "engine" means the credential engine only.
    assert not {"lists", "statuslists"} & set(names), names.get("lists") or names.get("statuslists")
    assert "engine" not in names, names.get("engine")
    assert "workers" not in names, names.get("workers")
    assert "signing" not in names, names.get("signing")
