"""Share-link benchmark: opening ``GET /s/{token}`` beside ``POST /v1/verify``, warm caches.

Run (needs the dev Kafka, see docs/benchmarks.md)::

    uv run python bench/share.py [--workers 2] [--seconds 8] [--rounds 2]

The verifier runs alone as a process tree (``sceau_dev.testing.stack``, like bench/verify.py),
with two loopback stand-ins: the registry (status list, trust answers) in a thread of this
process, and the issuer's share contract (``GET /v1/shares/{token}``, SHARING.md) in a process of
its own, serving a pool of shares of signed OB 3.0 credentials. Every worker's caches are
warmed (status list, trust, proof memo, share answers; the share answers again, for 1 s,
before each share round, since the verify round outlasts their TTL). Then 32 concurrent
HTTP/1.1 keep-alive clients (closed loop, pre-encoded requests, bench/verify.py's raw client)
alternate, round after round, between:

* *verify* — ``POST /v1/verify`` with the pool's credentials (the repeat case of
  bench/verify.py: the proof memo answers);
* *share* — ``GET /s/{token}`` of the same credentials' shares, as a browser opens it (the HTML
  page; ``--json`` asks for ``application/json`` instead): share answer from the 2 s cache (the
  issuer stand-in is asked again when an entry expires), the rendered answer kept as long
  (``sceau_verifier.share_pages``: verified and rendered again when it expires),
  ``ShareOpenedV1`` and ``VerificationCompletedV1``.

The ratio share/verify of each round compares like with like on a loaded machine; the best
round of each is reported too. Target (issue 14): share >= 90 % of verify's throughput, share
p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from verify import Load, RawClient, RegistryThread, encoded, issue_many, measured, pct

from sceau_dev.infra.process import free_port
from sceau_dev.testing.credentials import Issuer
from sceau_dev.testing.polling import eventually_sync
from sceau_dev.testing.registry_stand_in import RegistryStandIn
from sceau_dev.testing.shares_stand_in import SharesStandIn, StandInShare
from sceau_dev.testing.stack import Stack, StackConfig, free_ports
from sceau_shared.settings import KafkaSettings

Accept = Callable[[int, bytes], bool]


def _serve_shares(port: int, shares: dict[str, StandInShare]) -> None:
    uvicorn.run(
        SharesStandIn(shares=shares).app(),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


class SharesProcess:
    """The issuer's share contract in its own process: the load generator's GIL must not delay
    the verifier's refresh requests (a stand-in thread here did, past the 3 s timeout)."""

    def __init__(self, shares: SharesStandIn) -> None:
        self.port = free_port()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve_shares, args=(self.port, shares.shares), daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SharesProcess:
        self.process.start()

        def answers() -> bool:
            try:
                return httpx.get(f"{self.base}/v1/shares/none", timeout=1).status_code == 404
            except httpx.HTTPError:
                return False

        eventually_sync(
            answers,
            timeout_s=30,
            interval_s=0.1,
            message="issuer stand-in started",
            error=RuntimeError,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


def share_requests(base: str, tokens: Sequence[str], *, json_answer: bool) -> list[bytes]:
    host = base.removeprefix("http://")
    accept = "application/json" if json_answer else "text/html,application/xhtml+xml;q=0.9"
    return [
        (
            f"GET /s/{token} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
            "Accept-Language: fr-CA,fr;q=0.9,en;q=0.8\r\n\r\n"
        ).encode()
        for token in tokens
    ]


def verified_json(status: int, body: bytes) -> bool:
    return status == 200 and b'"verified":true' in body


def verified_page(status: int, body: bytes) -> bool:
    return status == 200 and b"outcome-verified" in body


async def closed_loop(
    base: str, requests: Sequence[bytes], *, clients: int, seconds: float, accept: Accept
) -> Load:
    """``clients`` tasks, one keep-alive connection each, cycling through ``requests``.

    A 503 (the issuer stand-in did not answer within the verifier's timeout) is counted, not
    fatal: the report gives how many; any other unexpected answer stops the benchmark.
    """
    latencies: list[float] = []
    unavailable = 0
    position = 0
    deadline = time.perf_counter() + seconds

    async def client_loop() -> None:
        nonlocal position, unavailable
        client = RawClient(base)
        try:
            while time.perf_counter() < deadline:
                raw = requests[position % len(requests)]
                position += 1
                started = time.perf_counter()
                status, body = await client.send(raw)
                latencies.append((time.perf_counter() - started) * 1000)
                if status == 503:
                    unavailable += 1
                elif not accept(status, body):
                    raise RuntimeError(f"unexpected answer {status}: {body[:300]!r}")
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    UNAVAILABLE[id(requests)] = UNAVAILABLE.get(id(requests), 0) + unavailable
    return Load(len(latencies), time.perf_counter() - started, latencies)


UNAVAILABLE: dict[int, int] = {}
"""503 answers per request list (by identity), over the whole run."""


def share_stack(
    registry_base: str, issuer_base: str, kafka: KafkaSettings, *, workers: int
) -> Stack:
    """The verifier alone; its registry and its issuer are the loopback stand-ins."""
    ports = free_ports() | {
        "registry": int(httpx.URL(registry_base).port or 80),
        "issuer": int(httpx.URL(issuer_base).port or 80),
    }
    return Stack(
        StackConfig(
            kafka_bootstrap=kafka.bootstrap_servers,
            mongo_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/"),
            log_dir=Path(tempfile.mkdtemp(prefix="sceau-bench-share-")),
            topic_prefix=kafka.topic_prefix,
            database_prefix=f"bench_share_{uuid.uuid4().hex[:8]}_",
            ports=ports,
            services=("verifier",),
            rate_limit_per_minute=0,
            extra_env={
                "verifier": {
                    "VERIFIER_WORKERS": str(workers),
                    "VERIFIER_STATUS__DEFAULT_TTL_S": "3600",
                    "VERIFIER_TELEMETRY__LOG_LEVEL": "WARNING",
                }
            },
        )
    )


def summary(name: str, run: Load) -> str:
    return (
        f"{name:6s} {run.throughput:6.0f}/s  p50 {statistics.median(run.latencies_ms):5.1f} ms  "
        f"p99 {pct(run.latencies_ms, 99):5.1f} ms  ({run.requests} requests, verifier CPU "
        f"{run.server_cpu_ms:.2f} ms/request)"
    )


async def main(args: argparse.Namespace) -> None:
    registry, shares = RegistryStandIn(), SharesStandIn()
    kafka = KafkaSettings(
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        topic_prefix=f"benchshare{uuid.uuid4().hex[:8]}.",
    )
    with RegistryThread(registry) as registry_site:
        issuer = Issuer()
        status_list = issuer.add_list(registry_site.base, "revocation")
        status_list.ttl_ms = 3_600_000
        await issuer.sign_list(status_list)
        registry.register(issuer)
        cohort = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        print(f"issuing and sharing {args.pool} credentials ...")
        pool = [c for c, _ in await issue_many(issuer, status_list, args.pool, cohort)]
        tokens = [shares.add(c, institution_id="bench")[0] for c in pool]
        with SharesProcess(shares) as issuer_site:
            rounds = await measure(args, kafka, registry_site.base, issuer_site.base, pool, tokens)
    report(args, rounds)


async def measure(
    args: argparse.Namespace,
    kafka: KafkaSettings,
    registry_base: str,
    issuer_base: str,
    pool: Sequence[dict[str, object]],
    tokens: Sequence[str],
) -> list[tuple[Load, Load]]:
    """Start the verifier, warm it, then alternate verify and share rounds."""
    stack = share_stack(registry_base, issuer_base, kafka, workers=args.workers)
    verifier = stack["verifier"]
    base = verifier.url
    verifier.start()
    rounds: list[tuple[Load, Load]] = []
    share_raw: list[bytes] = []
    try:
        await asyncio.to_thread(verifier.wait_ready, 60)
        assert verifier.process is not None  # noqa: S101 - set by start()
        pid = verifier.process.pid
        if args.workers > 1:
            await asyncio.sleep(5)  # the other workers finish starting (see bench/verify.py)
        verify_raw = encoded(base, pool)
        share_raw = share_requests(base, tokens, json_answer=args.json)
        accept_share = verified_json if args.json else verified_page
        connections = 4 * args.workers
        print("warming every worker's caches ...")
        await closed_loop(base, verify_raw, clients=connections, seconds=3, accept=verified_json)
        await closed_loop(base, share_raw, clients=connections, seconds=3, accept=accept_share)
        for number in range(1, args.rounds + 1):
            print(f"round {number}: verify, then share, {args.clients} clients ...")
            verify_run = await measured(
                pid,
                closed_loop(
                    base,
                    verify_raw,
                    clients=args.clients,
                    seconds=args.seconds,
                    accept=verified_json,
                ),
            )
            # The verify round outlasts the share answers' 2 s TTL: warm them again (unmeasured),
            # so the round measures openings with warm caches, as the issue asks.
            await closed_loop(base, share_raw, clients=connections, seconds=1, accept=accept_share)
            share_run = await measured(
                pid,
                closed_loop(
                    base,
                    share_raw,
                    clients=args.clients,
                    seconds=args.seconds,
                    accept=accept_share,
                ),
            )
            rounds.append((verify_run, share_run))
    finally:
        stack.stop()
    slow = UNAVAILABLE.get(id(share_raw), 0)
    print(f"503 answers to share openings (issuer stand-in too slow): {slow}")
    return rounds


def report(args: argparse.Namespace, rounds: Sequence[tuple[Load, Load]]) -> None:
    kind = "JSON" if args.json else "HTML page"
    lines = [
        f"verifier: {args.workers} worker process(es) on {os.cpu_count()} cores; "
        f"{args.clients} clients; share = GET /s/{{token}} ({kind}, 2 s share cache)",
    ]
    for number, (verify_run, share_run) in enumerate(rounds, 1):
        lines.append(f"round {number}: " + summary("verify", verify_run))
        lines.append(f"round {number}: " + summary("share", share_run))
        ratio = share_run.throughput / verify_run.throughput
        cpu_ratio = verify_run.server_cpu_ms / share_run.server_cpu_ms
        lines.append(
            f"round {number}: share/verify throughput {ratio:.0%}, per verifier CPU-second "
            f"{cpu_ratio:.0%}"
        )
    best_verify = max(r[0].throughput for r in rounds)
    best_share = max(r[1].throughput for r in rounds)
    lines.append(
        f"best rounds: verify {best_verify:.0f}/s, share {best_share:.0f}/s "
        f"({best_share / best_verify:.0%}); share p99 over all rounds "
        f"{pct([x for r in rounds for x in r[1].latencies_ms], 99):.1f} ms"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=64, help="shared credentials cycled through")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="ask the share for application/json")
    asyncio.run(main(parser.parse_args()))
