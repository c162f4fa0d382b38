"""Wallet delivery benchmark: OpenID4VCI (token, nonce, credential) beside single issues.

Run (needs the dev Kafka and MongoDB-protocol server, see docs/benchmarks.md)::

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092 MONGODB_URI=mongodb://127.0.0.1:27018/ \\
        uv run python bench/wallet.py [--clients 16] [--count 160] [--rounds 2]

The registry and the issuer run as processes (``sceau_dev.testing.stack``); a college is
onboarded (``sceau_dev.testing.journeys.onboard``). Each round, with ``--clients`` concurrent
HTTP/1.1 keep-alive clients (bench/verify.py's raw client, so the load generator leaves the CPU
to the issuer):

* *issue* — ``--count`` single issues, ``POST /v1/credentials`` (timed per credential);
* then, untimed, one wallet offer per credential just issued (the learner page's button) and
  its pre-authorized code (the offer URI a wallet fetches);
* *wallet* — the delivery of each, as a wallet does it once it has the offer (warm: the
  issuer has served wallet requests before): ``POST token``, ``POST nonce``, a proof JWT signed
  by the client's did:key, ``POST credential`` (timed per delivery, the three requests).

Each round reports both rates and their ratio (like with like on a loaded machine), p50 and p99
latencies, and the CPU the issuer process tree and FerretDB spent per operation (``/proc``):
on a machine shared with other work the issuer's CPU ratio is the steadier figure (the
FerretDB server may serve others too; on a dedicated machine, throughput follows CPU).
Target (issue 16): wallet deliveries >= 70 % of single issues per second.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
from issue import Step, cpu_snapshot
from pydantic import SecretStr
from verify import RawClient

from sceau_credentials.keys import SigningKey
from sceau_dev.testing.journeys import College, onboard
from sceau_dev.testing.stack import StackConfig, free_ports, running_stack
from sceau_issuer.vault import Vault
from sceau_issuer.wallets.schemas import PRE_AUTHORIZED_GRANT
from sceau_shared.settings import decode_master_key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_post(path: str, body: bytes, host: str, content_type: str, token: str | None) -> bytes:
    """A pre-encoded HTTP/1.1 POST (the raw client sends bytes)."""
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Round:
    """The issuer under load: one college, its API key, the raw clients."""

    def __init__(self, base: str, college: College, vault: Vault, clients: int, pid: int) -> None:
        self.pid = pid
        self.base = base
        self.host = base.removeprefix("http://")
        self.college = college
        self.vault = vault
        self.clients = clients

    async def timed(self, name: str, jobs: list[Any], one: Any) -> Step:
        """Run ``one(client, job)`` for every job with ``clients`` raw clients in flight."""
        queue = list(reversed(jobs))
        latencies: list[float] = []

        async def client() -> None:
            raw = RawClient(self.base)
            try:
                while queue:
                    job = queue.pop()
                    started = time.perf_counter()
                    await one(raw, job)
                    latencies.append(time.perf_counter() - started)
            finally:
                await raw.close()

        before = cpu_snapshot(self.pid)
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(self.clients)))
        wall = time.perf_counter() - started
        after = cpu_snapshot(self.pid)
        issuer = after["issuer"] - before["issuer"]
        ferret = after["ferretdb"] - before["ferretdb"]
        return Step(name, len(jobs), wall, latencies, issuer, ferret)

    async def issue(self, tag: str, count: int) -> tuple[Step, list[str]]:
        """``count`` single issues; return the step and the credential ids."""
        ids: list[str] = []
        auth = self.college.api_key

        async def one(raw: RawClient, n: int) -> None:
            body = json.dumps(
                {
                    "achievement_id": self.college.achievement_id,
                    "recipient": {"email": f"{tag}-{n}@example.org", "name": f"Learner {n}"},
                }
            ).encode()
            request = raw_post("/v1/credentials", body, self.host, "application/json", auth)
            request = request.replace(
                b"\r\nContent-Length", f"\r\nIdempotency-Key: {tag}-{n}\r\nContent-Length".encode()
            )
            status, answer = await raw.send(request)
            if status != 201:
                raise RuntimeError(f"issue: {status} {answer[:300]!r}")
            ids.append(json.loads(answer)["credential_id"])

        return await self.timed("issue", list(range(count)), one), ids

    async def offers(self, http: httpx.AsyncClient, ids: list[str]) -> list[tuple[str, str]]:
        """One wallet offer per credential (the page's button); its issuer id and code."""
        gate = asyncio.Semaphore(self.clients)

        async def one(credential_id: str) -> tuple[str, str]:
            token = self.vault.learner_token(
                credential_id=credential_id,
                institution_id=self.college.institution_id,
                ttl_s=3600,
            )
            async with gate:
                made = await http.post(f"{self.base}/learn/{token}/wallet-offer")
                if made.status_code != 303:
                    raise RuntimeError(f"offer: {made.status_code} {made.text[:300]}")
                page = (await http.get(f"{self.base}/learn/{token}")).text
                [link] = re.findall(r'href="(openid-credential-offer://[^"]+)"', page)
                query = parse_qs(urlsplit(html.unescape(link)).query)
                offer = (await http.get(unquote(query["credential_offer_uri"][0]))).json()
            code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
            return str(offer["credential_issuer"]), str(code)

        return list(await asyncio.gather(*(one(i) for i in ids)))

    async def deliver(self, offers: list[tuple[str, str]]) -> Step:
        """Token, nonce and credential for each offer, as a wallet with a did:key does."""
        holders = [SigningKey.generate() for _ in range(self.clients)]
        turn = iter(range(len(offers)))

        async def one(raw: RawClient, offer: tuple[str, str]) -> None:
            issuer, code = offer
            path = urlsplit(issuer).path
            form = urlencode({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})
            status, answer = await raw.send(
                raw_post(
                    f"{path}/token",
                    form.encode(),
                    self.host,
                    "application/x-www-form-urlencoded",
                    None,
                )
            )
            if status != 200:
                raise RuntimeError(f"token: {status} {answer[:300]!r}")
            access = json.loads(answer)["access_token"]
            status, answer = await raw.send(
                raw_post(f"{path}/nonce", b"", self.host, "application/json", None)
            )
            nonce = json.loads(answer)["c_nonce"]
            holder = holders[next(turn) % len(holders)]
            header = {
                "typ": "openid4vci-proof+jwt",
                "alg": "EdDSA",
                "kid": holder.verification_method,
            }
            claims = {"aud": issuer, "iat": int(time.time()), "nonce": nonce}
            signing_input = (
                f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
            )
            jwt = f"{signing_input}.{_b64(holder.sign(signing_input.encode()))}"
            body = json.dumps(
                {
                    "credential_configuration_id": "OpenBadgeCredential_ldp_vc",
                    "proofs": {"jwt": [jwt]},
                }
            ).encode()
            status, answer = await raw.send(
                raw_post(f"{path}/credential", body, self.host, "application/json", access)
            )
            if status != 200:
                raise RuntimeError(f"credential: {status} {answer[:300]!r}")

        return await self.timed("wallet", offers, one)


async def run(args: argparse.Namespace) -> list[tuple[Step, Step]]:
    run_id = uuid.uuid4().hex[:8]
    config = StackConfig(
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        mongo_uri=os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27018/"),
        log_dir=Path(tempfile.mkdtemp(prefix="sceau-bench-wallet-")),
        topic_prefix=f"bench{run_id}.",
        database_prefix=f"bench_wallet_{run_id}_",
        ports=free_ports(),
        services=("registry", "issuer"),
        rate_limit_per_minute=0,
        status_debounce_s=None,
        extra_env={
            "issuer": {
                "ISSUER_SIGN_WORKERS": str(args.sign_workers),
                "ISSUER_TELEMETRY__LOG_LEVEL": "WARNING",
            }
        },
    )
    vault = Vault(decode_master_key(SecretStr(config.issuer_master_key)))
    rounds: list[tuple[Step, Step]] = []
    with running_stack(config) as stack:
        async with httpx.AsyncClient(timeout=60) as http:
            college = await onboard(http, stack, "Wallet")
            process = stack["issuer"].process
            assert process is not None  # noqa: S101 - the stack started it
            bench = Round(stack.url("issuer"), college, vault, args.clients, process.pid)
            # Warm-up: both paths once, unmeasured.
            _, ids = await bench.issue("warm", args.clients * 2)
            await bench.deliver(await bench.offers(http, ids))
            for n in range(args.rounds):
                print(f"round {n + 1}: issue {args.count} ...", flush=True)
                issued, ids = await bench.issue(f"r{n}", args.count)
                offers = await bench.offers(http, ids)
                print(f"round {n + 1}: wallet deliveries {len(offers)} ...", flush=True)
                delivered = await bench.deliver(offers)
                rounds.append((issued, delivered))
    return rounds


def report(rounds: list[tuple[Step, Step]], clients: int) -> None:
    print()
    print(
        "| round | issue /s | p50 / p99 ms | issuer / FerretDB CPU ms | wallet /s | p50 / p99 ms "
        "| issuer / FerretDB CPU ms | rate ratio | issuer CPU ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, (issued, delivered) in enumerate(rounds, 1):
        cells = [
            f"{issued.rate:.1f}",
            f"{1000 * issued.percentile(0.5):.0f} / {1000 * issued.percentile(0.99):.0f}",
            f"{issued.issuer_ms:.1f} / {issued.ferret_ms:.1f}",
            f"{delivered.rate:.1f}",
            f"{1000 * delivered.percentile(0.5):.0f} / {1000 * delivered.percentile(0.99):.0f}",
            f"{delivered.issuer_ms:.1f} / {delivered.ferret_ms:.1f}",
            f"{delivered.rate / issued.rate:.2f}",
            f"{issued.issuer_ms / delivered.issuer_ms:.2f}",
        ]
        print(f"| {n} | " + " | ".join(cells) + " |")
    rate_ratios = sorted(d.rate / i.rate for i, d in rounds)
    cpu_ratios = sorted(i.issuer_ms / d.issuer_ms for i, d in rounds)
    print(
        f"\n{clients} clients; median ratios wallet / issue: throughput "
        f"{rate_ratios[len(rate_ratios) // 2]:.2f}, issuer CPU per operation (issue / "
        f"wallet) {cpu_ratios[len(cpu_ratios) // 2]:.2f}; target >= 0.70"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--count", type=int, default=96, help="credentials per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sign-workers", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rounds = asyncio.run(run(args))
    report(rounds, args.clients)
    print(f"load average: {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
