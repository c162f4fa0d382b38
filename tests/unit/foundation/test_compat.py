"""The third-party internals in ``sceau_shared.compat`` still work with the installed libraries.

Each test drives one compat accessor against the real library (no network); after an upgrade
that moves an internal, it fails naming the library, its version and the module to update.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import httpcore
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from packaging.requirements import Requirement

from sceau_dev.testing.compat import library_internals
from sceau_shared.compat import UnsupportedLibraryError, reaching_into
from sceau_shared.compat.faststream import (
    connected_producer,
    connection_kwargs,
    replace_producer,
)
from sceau_shared.compat.httpx import set_connection_pool
from sceau_shared.compat.otel_pymongo import swap_command_tracer
from sceau_shared.kafka import PRODUCER_BATCH_BYTES, create_broker
from sceau_shared.settings import KafkaSettings

CORE_PYPROJECT = Path(__file__).resolve().parents[3] / "shared" / "core" / "pyproject.toml"
ENGINE_PYPROJECT = Path(__file__).resolve().parents[3] / "shared" / "engine" / "pyproject.toml"


def test_a_missing_internal_names_the_library_its_version_and_the_module() -> None:
    with (
        pytest.raises(UnsupportedLibraryError) as caught,
        reaching_into("httpx", "Client._gone", "sceau_shared.compat.httpx"),
    ):
        _ = httpx.Client()._gone  # type: ignore[attr-defined]
    message = str(caught.value)
    assert f"httpx {httpx.__version__}" in message
    assert "Client._gone" in message
    assert "sceau_shared.compat.httpx" in message


def _requirements(pyproject: Path) -> dict[str, Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    listed = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        listed.extend(extra)
    return {(req := Requirement(line)).name.lower(): req for line in listed}


@pytest.mark.parametrize(
    ("pyproject", "distribution"),
    [
        (CORE_PYPROJECT, "faststream"),
        (CORE_PYPROJECT, "aiokafka"),
        (CORE_PYPROJECT, "httpx"),
        (CORE_PYPROJECT, "httpcore"),
        (CORE_PYPROJECT, "opentelemetry-instrumentation-pymongo"),
        (ENGINE_PYPROJECT, "pyld"),
    ],
)
def test_libraries_whose_internals_we_use_have_an_upper_bound(
    pyproject: Path, distribution: str
) -> None:
    requirement = _requirements(pyproject)[distribution]
    assert any(spec.operator in {"<", "<=", "~=", "=="} for spec in requirement.specifier), (
        f"{distribution} in {pyproject.parent.name}/pyproject.toml needs an upper version bound: "
        "a compat module reaches into its internals"
    )


def _broker() -> object:
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:9", client_id="compat-test")
    return create_broker(settings, client_id="compat-test")


async def test_faststream_connection_kwargs_carry_the_producer_settings() -> None:
    broker = _broker()
    with library_internals("faststream", "sceau_shared.compat.faststream"):
        kwargs = connection_kwargs(broker)  # type: ignore[arg-type]
        assert kwargs["client_id"] == "compat-test"
        assert kwargs["acks"] == "all"
        assert kwargs["enable_idempotence"] is True
        # Batches of hundreds of events, not a dozen (sceau_shared.kafka.PRODUCER_BATCH_BYTES).
        assert kwargs["max_batch_size"] == PRODUCER_BATCH_BYTES
        # A copy: changing it cannot change the broker.
        kwargs["client_id"] = "changed"
        assert connection_kwargs(broker)["client_id"] == "compat-test"  # type: ignore[arg-type]


async def test_faststream_producer_is_reached_and_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[AIOKafkaProducer] = []

    async def start(producer: AIOKafkaProducer) -> None:
        started.append(producer)

    # No Kafka here: starting an aiokafka producer is the only network step (stopping one that
    # never connected is local).
    monkeypatch.setattr(AIOKafkaProducer, "start", start)
    broker = _broker()
    with library_internals("faststream", "sceau_shared.compat.faststream"):
        assert connected_producer(broker) is None  # type: ignore[arg-type]
        first = await replace_producer(broker)  # type: ignore[arg-type]
        assert connected_producer(broker) is first  # type: ignore[arg-type]
        second = await replace_producer(broker)  # type: ignore[arg-type]
        assert second is not first
        assert connected_producer(broker) is second  # type: ignore[arg-type]
        assert started == [first, second]
        await broker.stop()  # type: ignore[attr-defined]


async def test_httpx_transport_sends_through_the_installed_pool() -> None:
    answer = [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 9\r\n", b"\r\n", b"via mock!"]
    transport = httpx.AsyncHTTPTransport()
    pool = httpcore.AsyncConnectionPool(network_backend=httpcore.AsyncMockBackend(answer))
    with library_internals("httpx", "sceau_shared.compat.httpx"):
        set_connection_pool(transport, pool)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get("http://compat.invalid/")
        assert response.text == "via mock!"


def test_otel_pymongo_tracer_can_be_swapped_and_put_back() -> None:
    instrumentor = PymongoInstrumentor()
    was_instrumented = instrumentor.is_instrumented_by_opentelemetry
    if not was_instrumented:
        instrumentor.instrument(tracer_provider=TracerProvider())
    mine = TracerProvider().get_tracer("compat-test")
    try:
        with library_internals(
            "opentelemetry-instrumentation-pymongo", "sceau_shared.compat.otel_pymongo"
        ):
            previous = swap_command_tracer(instrumentor, mine)
            assert swap_command_tracer(instrumentor, previous) is mine
    finally:
        if not was_instrumented:
            instrumentor.uninstrument()
