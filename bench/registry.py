"""Registry benchmark: status-list and trust lookups per second, p50/p99, against the ceiling.

Run (needs the dev Kafka and MongoDB-protocol server, see docs/benchmarks.md)::

    uv run python bench/registry.py

What it does, in one run so that the ratios compare like with like on the same machine:

1. Starts the real registry (``python -m sceau_registry``, one uvicorn worker, its own database and
   topic prefix) as a separate process pinned to one core, registers and accredits an institution
   through the operator API, and publishes — over Kafka, as the issuer would — the institution's
   key (``IssuerKeyPublishedV1``) and a signed 131,072-entry Bitstring status list
   (``StatusListPublishedV1``). It waits until the registry serves both.
2. Fetches the exact response bytes of the two lookups and starts the **ceiling**: a minimal ASGI
   application (no framework, one ``if`` on the path) returning those same bytes with the same
   headers, under the same uvicorn configuration, as a separate process pinned to the same core.
3. Drives both with 50 concurrent clients (closed loop, one keep-alive HTTP/1.1 connection each,
   a small asyncio client — httpx would saturate before the servers do) from the other core, in
   many short interleaved rounds (the machine is shared: load swings between rounds would swamp
   long sequential runs). Reports the median and best requests/s over the rounds, p50/p99 over all
   requests, and the median over rounds of the ratio to the ceiling measured in the same round.
   A third line per lookup measures the framework's own cost: a minimal FastAPI route returning
   the same bytes.

4. Runs step 3 twice: on the registry holding that one institution (**empty**), then after
   ``--institutions`` more (59 by default: the field's 60) were registered, accredited and given a
   key and a status list the same way (**seeded**), and prints seeded ÷ empty for the registry's
   ratio to the ceiling (issue 19: cost must not grow with the data).

Trust lookups ask ``GET /v1/issuers/{did}?at=…&verification_method=…`` (as of a date, with the key
window); status lists ask ``GET /v1/status-lists/{id}`` (full 200 answers, no If-None-Match).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI, Request, Response

from sceau_dev.infra.process import free_port
from sceau_dev.testing.polling import eventually_sync
from sceau_dev.testing.stack import Stack, StackConfig, free_ports

TOKEN = "bench-operator-token-" + "x" * 24
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
MONGO = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/")


def pin(core: int) -> None:
    """Pin this process (used as a subprocess pre-exec hook) to one core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


# --- ceiling servers ------------------------------------------------------------------------------


def ceiling_app(routes: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]]) -> Any:
    """A minimal ASGI app returning fixed bytes per path (the framework-free ceiling)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body, headers = routes.get(scope["path"], (b"not found", []))
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def fastapi_ceiling(routes: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]]) -> Any:
    """The same bytes from a bare FastAPI route (what the framework alone costs)."""
    app = FastAPI()

    @app.get("/{rest:path}")
    async def serve(request: Request) -> Response:
        body, headers = routes[request.scope["path"]]
        return Response(body, headers={k.decode(): v.decode() for k, v in headers})

    return app


def run_ceiling(spec_path: str, port: int, kind: str) -> None:
    import uvicorn

    spec = json.loads(Path(spec_path).read_text())
    routes = {
        path: (
            base64.b64decode(item["body"]),
            [(k.encode(), v.encode()) for k, v in item["headers"]],
        )
        for path, item in spec.items()
    }
    app = ceiling_app(routes) if kind == "asgi" else fastapi_ceiling(routes)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- load generator -------------------------------------------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive connection sending the same GET again as soon as the answer is complete."""

    def __init__(self, request: bytes, latencies: list[float], state: dict[str, Any]) -> None:
        self.request = request
        self.latencies = latencies
        self.state = state
        self.buffer = b""
        self.started = 0.0
        self.expected = -1
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.send()

    def send(self) -> None:
        transport = cast(asyncio.Transport, self.transport)
        if self.state["stop"]:
            transport.close()
            return
        self.buffer = b""
        self.expected = -1
        self.started = time.perf_counter()
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            status = int(head[9:12])
            if status != 200:
                self.state["errors"] += 1
            start = head.find(b"content-length:")
            length = int(head[start + 15 : head.find(b"\r\n", start)]) if start >= 0 else 0
            self.expected = end + 4 + length
        if len(self.buffer) >= self.expected:
            if self.state["measure"]:
                self.latencies.append(time.perf_counter() - self.started)
            self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class Result:
    rps: float
    latencies: list[float]
    errors: int


async def drive(port: int, path: str, *, clients: int, warmup_s: float, seconds: float) -> Result:
    loop = asyncio.get_running_loop()
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()
    latencies: list[float] = []
    state: dict[str, Any] = {"stop": False, "measure": False, "errors": 0}
    conns = []
    for _ in range(clients):
        _, proto = await loop.create_connection(
            lambda: _Conn(request, latencies, state), "127.0.0.1", port
        )
        conns.append(proto)
    await asyncio.sleep(warmup_s)
    state["measure"] = True
    begin = time.perf_counter()
    await asyncio.sleep(seconds)
    state["measure"] = False
    elapsed = time.perf_counter() - begin
    state["stop"] = True
    await asyncio.wait([c.closed for c in conns], timeout=5)
    return Result(rps=len(latencies) / elapsed, latencies=latencies, errors=state["errors"])


# --- setup of the real registry -------------------------------------------------------------------


def status_list_credential(list_url: str, issuer: str) -> dict[str, Any]:
    """A realistic signed-looking Bitstring list: 131,072 entries, ~1 % revoked."""
    from sceau_credentials.status.bitstring import (
        Bitstring,
        encode_bitstring_status_list,
    )

    bits = Bitstring()
    rng = random.Random(7)
    for _ in range(1300):
        bits.set_bit(rng.randrange(len(bits)), True)
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring_status_list(bits),
            "ttl": 300000,
        },
        "proof": [
            {
                "type": "DataIntegrityProof",
                "cryptosuite": "eddsa-rdfc-2022",
                "created": "2025-01-01T00:00:00Z",
                "verificationMethod": f"{issuer}#key-1",
                "proofPurpose": "assertionMethod",
                "proofValue": "z" + "3" * 86,
            }
        ],
    }


async def seed(
    base: str, prefix: str, did_host: str, institution_id: str = "bench-college", key_byte: int = 5
) -> tuple[str, str]:
    """Register, activate and accredit an institution; publish its key and a status list."""
    from sceau_credentials.keys import SigningKey
    from sceau_shared.events import IssuerKeyPublishedV1, KeyAction, StatusListPublishedV1
    from sceau_shared.events.credentials import StatusPurpose
    from sceau_shared.kafka import EventPublisher, create_broker
    from sceau_shared.settings import KafkaSettings

    headers = {"Authorization": f"Bearer {TOKEN}", "X-Sceau-Actor": "bench"}
    did = f"did:web:{did_host}:institutions:{institution_id}"
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        steps = [
            ("", {"institution_id": institution_id,
                  "legal_name": {"fr": f"Collège d'essai {institution_id}",
                                 "en": f"Bench College {institution_id}"},
                  "category": "public-college", "jurisdiction": "CA-QC",
                  "did_method": "hosted-web", "effective_at": "2024-01-01T00:00:00Z"}),
            (f"/{institution_id}/status", {"status": "active", "reason": "bench",
                                       "effective_at": "2024-01-02T00:00:00Z"}),
            (f"/{institution_id}/scopes", {"achievement_types": ["MicroCredential", "Certificate"],
                                       "valid_from": "2024-01-01T00:00:00Z", "reason": "bench"}),
        ]  # fmt: skip
        for path, body in steps:
            response = await http.post(f"/v1/admin/institutions{path}", json=body)
            response.raise_for_status()
        kafka = KafkaSettings(bootstrap_servers=KAFKA, topic_prefix=prefix)
        broker = create_broker(kafka, client_id="bench-issuer")
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="sceau-issuer")
        key = SigningKey.from_seed(bytes([key_byte]) * 32, did, "key-1")
        list_id = f"{institution_id}-rev-1"
        list_url = f"{base}/v1/status-lists/{list_id}"
        await publisher.publish(
            IssuerKeyPublishedV1(
                producer="sceau-issuer",
                institution_id=institution_id,
                did=did,
                verification_method=key.verification_method,
                public_key_multibase=key.public_key_multibase,
                action=KeyAction.ADDED,
                active_from=datetime(2024, 1, 2, tzinfo=UTC),
            )
        )
        await publisher.publish(
            StatusListPublishedV1(
                producer="sceau-issuer",
                list_id=list_id,
                institution_id=institution_id,
                issuer_did=did,
                purpose=StatusPurpose.REVOCATION,
                list_url=list_url,
                version=1,
                format="BitstringStatusList",
                ttl_ms=300_000,
                credential=status_list_credential(list_url, did),
            )
        )
        await broker.stop()
        at = urllib.parse.quote((datetime.now(UTC) - timedelta(days=30)).isoformat())
        method = urllib.parse.quote(key.verification_method, safe="")
        trust_path = (
            f"/v1/issuers/{urllib.parse.quote(did, safe=':')}?at={at}&verification_method={method}"
        )
        status_path = f"/v1/status-lists/{list_id}"
        deadline = time.monotonic() + 90
        while True:
            status = await http.get(status_path)
            trust = await http.get(trust_path)
            key_seen = trust.status_code == 200 and trust.json().get("key") is not None
            if status.status_code == 200 and key_seen:
                break
            if time.monotonic() > deadline:
                raise SystemExit("the registry did not consume the seeded events in time")
            await asyncio.sleep(0.3)
    return status_path, trust_path


async def seed_field(base: str, prefix: str, did_host: str, count: int) -> float:
    """Register ``count`` more institutions with keys and lists, as the field's scale has (60)."""
    start = time.monotonic()
    for n in range(count):
        await seed(base, prefix, did_host, f"field-{n:03d}", key_byte=16 + n % 200)
        if (n + 1) % 10 == 0:
            print(f"  seeded {n + 1}/{count} institutions", file=sys.stderr, flush=True)
    return time.monotonic() - start


async def capture(base: str, paths: tuple[str, ...], spec_file: Path) -> None:
    """Record the registry's exact answers for the ceiling servers to return."""
    spec: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base) as http:
        for path in paths:
            response = await http.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            kept = [
                (k, v)
                for k, v in response.headers.items()
                if k in ("content-type", "etag", "cache-control")
            ]
            spec[urllib.parse.unquote(urllib.parse.urlsplit(path).path)] = {
                "body": base64.b64encode(response.content).decode(),
                "headers": kept,
            }
            print(f"# {urllib.parse.urlsplit(path).path}: {len(response.content)} bytes")
    write_spec(spec_file, spec)


def write_spec(spec_file: Path, spec: dict[str, Any]) -> None:
    spec_file.write_text(json.dumps(spec))


def cleanup(spec_file: Path, database: str) -> None:
    from pymongo import MongoClient

    spec_file.unlink(missing_ok=True)
    client: MongoClient[dict[str, Any]] = MongoClient(MONGO)
    with client:
        client.drop_database(database)


def wait_http(url: str, timeout: float = 90) -> None:
    """Wait until a ceiling server answers (they are this script, not services)."""

    def up() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    eventually_sync(up, timeout_s=timeout, message=f"{url} up", error=SystemExit)


def start(argv: list[str], env: dict[str, str], core: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        env=env,
        preexec_fn=lambda: pin(core),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


async def main_async(args: argparse.Namespace) -> int:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    server_core = cores[0]
    client_core = cores[-1]
    uid = uuid.uuid4().hex[:10]
    prefix = f"bench{uid}."
    config = StackConfig(
        kafka_bootstrap=KAFKA,
        mongo_uri=MONGO,
        log_dir=Path(tempfile.mkdtemp(prefix="sceau-bench-registry-")),
        topic_prefix=prefix,
        database_prefix=f"bench_registry_{uid}_",
        ports=free_ports(),
        operator_token=TOKEN,
        services=("registry",),
        rate_limit_per_minute=100_000_000,
        cpus={"registry": frozenset({server_core})},
        extra_env={"registry": {"REGISTRY_TELEMETRY__LOG_LEVEL": "WARNING"}},
    )
    port = config.ports["registry"]
    base = config.url("registry")
    database = f"{config.database_prefix}registry"
    env = dict(os.environ)
    registry = Stack(config)["registry"]
    registry.start()
    ceilings: list[subprocess.Popen[bytes]] = []
    spec_file = Path(f"/tmp/sceau-bench-registry-{uid}.json")  # noqa: S108 - throwaway spec
    try:
        registry.wait_ready(90)
        status_path, trust_path = await seed(base, prefix, f"127.0.0.1%3A{port}")
        await capture(base, (status_path, trust_path), spec_file)
        ports = {"asgi": free_port(), "fastapi": free_port()}
        for kind, ceiling_port in ports.items():
            ceilings.append(
                start(
                    [sys.executable, __file__, "--ceiling", kind, str(spec_file),
                     str(ceiling_port)],
                    env,
                    server_core,
                )
            )  # fmt: skip
            wait_http(f"http://127.0.0.1:{ceiling_port}{urllib.parse.urlsplit(status_path).path}")
        pin(client_core)
        targets = {"ceiling (raw ASGI)": ports["asgi"], "FastAPI route": ports["fastapi"],
                   "registry": port}  # fmt: skip
        print(
            f"\n{args.clients} clients; {args.rounds} interleaved rounds of {args.seconds:g} s per "
            f"server; servers on core {server_core}, clients on core {client_core}\n"
        )
        print(
            "| lookup | server | requests/s (median) | requests/s (best) | p50 ms | p99 ms "
            "| ratio to ceiling (median of rounds) | errors |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        ceiling_name = "ceiling (raw ASGI)"
        medians: dict[tuple[str, str], float] = {}
        p99s: dict[tuple[str, str], float] = {}
        for phase in ("empty", "seeded"):
            if phase == "seeded":
                took = await seed_field(base, prefix, f"127.0.0.1%3A{port}", args.institutions)
                print(
                    f"| seeded: {args.institutions} more institutions, each with its key and a "
                    f"131,072-entry status list, in {took:.0f} s | | | | | | | |"
                )
            for label, path in (("status list", status_path), ("trust lookup", trust_path)):
                runs: dict[str, list[Result]] = {name: [] for name in targets}
                for _ in range(args.rounds):
                    for name, target in targets.items():
                        runs[name].append(
                            await drive(
                                target,
                                path,
                                clients=args.clients,
                                warmup_s=args.warmup,
                                seconds=args.seconds,
                            )
                        )
                for name, results in runs.items():
                    ratios = [
                        r.rps / c.rps for r, c in zip(results, runs[ceiling_name], strict=True)
                    ]
                    pooled = sorted(x for r in results for x in r.latencies)
                    p50 = statistics.median(pooled) * 1000
                    p99 = pooled[min(len(pooled) - 1, int(len(pooled) * 0.99))] * 1000
                    medians[(phase, f"{label}|{name}")] = statistics.median(ratios)
                    p99s[(phase, f"{label}|{name}")] = p99
                    print(
                        f"| {label} ({phase}) | {name} | "
                        f"{statistics.median(r.rps for r in results):,.0f} | "
                        f"{max(r.rps for r in results):,.0f} | {p50:.2f} | {p99:.2f} | "
                        f"{statistics.median(ratios):.2f} | {sum(r.errors for r in results)} |"
                    )
        print("\nseeded ÷ empty, registry's ratio to the ceiling measured in the same rounds:")
        for label in ("status list", "trust lookup"):
            key = f"{label}|registry"
            print(
                f"  {label}: {medians[('seeded', key)] / medians[('empty', key)]:.2f} "
                f"(p99 {p99s[('empty', key)]:.1f} -> {p99s[('seeded', key)]:.1f} ms)"
            )
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
        return 0
    finally:
        for process in ceilings:
            stop(process)
        registry.stop()
        cleanup(spec_file, database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--institutions",
        type=int,
        default=59,
        help="institutions added before the seeded pass (the field has 60 with the first)",
    )
    parser.add_argument(
        "--ceiling", nargs=3, metavar=("KIND", "SPEC", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.ceiling:
        kind, spec, port = args.ceiling
        run_ceiling(spec, int(port), kind)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
