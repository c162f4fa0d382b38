"""How the cost of Sceau's hot query shapes grows with the data, on each MongoDB-protocol store.

Each store is started fresh, on free loopback ports, under a temporary folder (nothing shared with
``sceau infra``'s servers):

* ``sqlite`` — FerretDB 1.24 on SQLite, our patched build, exactly as ``sceau infra`` runs it;
* ``postgresql`` — the same FerretDB binary with its ``postgresql`` handler, on a throwaway
  PostgreSQL cluster (``sceau_dev.infra.postgres_server``, as ``sceau infra up --store
  postgresql`` runs it);
* ``postgresql+gin`` — the same, plus a GIN index on each indexed field expression created with
  SQL behind FerretDB's back (FerretDB pushes equality down as ``_jsonb->'f' @> value``, which
  its btree expression indexes cannot serve and a GIN index can): what a FerretDB adjustment
  could give, measured before deciding to write one;
* ``mongod`` — MongoDB itself, when ``mongod`` is on the PATH (otherwise it is reported absent).

One collection grows through ``--sizes`` (documents of about ``--doc-bytes``); at each size every
query shape runs until ``--budget`` seconds are spent (at least ``--min-reps`` times, at most
``--max-reps``) against random existing documents. Then, on a small collection, 200 concurrent
conditional updates from 4 clients tell which of them are atomic on that store.

Usage::

    uv run python bench/stores.py [--sizes 1000,20000,100000,250000] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from sceau_dev.infra import mongo_server, postgres_server
from sceau_dev.infra.manager import default_cache_dir
from sceau_dev.infra.process import free_port

STORES = ("sqlite", "postgresql", "postgresql+gin", "mongod")
SHAPES = (
    "_id lookup",
    "find 2 fields",
    "update 2 fields",
    "count 1 field",
    "_id $in (10)",
    "insert",
)
TENANTS = 60
ACHIEVEMENTS = 500
DATABASE = "bench_stores"
Doc = dict[str, Any]


def require(condition: bool, what: str) -> None:
    """Stop the benchmark when a store answers wrongly (a fast wrong answer is no result)."""
    if not condition:
        raise RuntimeError(f"wrong answer: {what}")


def log(message: str) -> None:
    print(f"[stores] {message}", file=sys.stderr, flush=True)


@dataclass
class Server:
    """A running store: its URI, and psql's argv for the PostgreSQL-backed ones."""

    uri: str
    psql: list[str] | None = None


@contextmanager
def serve(store: str, folder: Path) -> Iterator[Server | None]:
    """Start ``store`` under ``folder``; yield None when it cannot run on this machine."""
    cache = default_cache_dir()
    stops: list[Callable[[], None]] = []
    try:
        if store == "mongod":
            if shutil.which("mongod") is None:
                yield None
                return
            cfg = mongo_server.MongoConfig(free_port(), folder / "mongod", folder / "mongod.log")
            pid = mongo_server.start(cfg, cache, log, timeout_s=120, server="mongod")
            stops.append(lambda: mongo_server.stop(pid))
            yield Server(cfg.uri)
            return
        psql = None
        if store == "sqlite":
            cfg = mongo_server.MongoConfig(free_port(), folder / "ferretdb", folder / "fdb.log")
        else:
            pg = postgres_server.PostgresConfig(free_port(), folder / "pg", folder / "pg.log")
            pg_pid = postgres_server.start(pg, log, timeout_s=120)
            stops.append(lambda: postgres_server.stop(pg_pid))
            bindir = postgres_server.ensure_postgres(log)
            psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(pg.port)]
            psql += ["-U", postgres_server.USER, "-d", postgres_server.DATABASE, "-qAt", "-c"]
            cfg = mongo_server.MongoConfig(
                free_port(),
                folder / "ferretdb",
                folder / "fdb.log",
                store="postgresql",
                postgresql_url=pg.url,
            )
        fdb_pid = mongo_server.start(cfg, cache, log, timeout_s=120, server="ferretdb")
        stops.append(lambda: mongo_server.stop(fdb_pid))
        yield Server(cfg.uri, psql)
    finally:
        for stop in reversed(stops):
            stop()


def document(n: int, doc_bytes: int) -> Doc:
    """A credential-like document: tenant, a per-tenant key, an achievement, a padded payload."""
    return {
        "_id": f"c{n:09d}",
        "tenant": f"t{n % TENANTS:02d}",
        "key": f"k{n:09d}",
        "achievement": f"a{n % ACHIEVEMENTS:03d}",
        "status": "active",
        "issued": n,
        "payload": "x" * max(0, doc_bytes - 160),
    }


def add_gin_indexes(server: Server, collection: str) -> None:
    """Create GIN indexes on the expressions FerretDB's filters use (``postgresql+gin`` only)."""
    query = "SELECT tablename FROM pg_tables WHERE schemaname = '%s' AND tablename LIKE '%s%%'"
    table = run_sql(server, query % (DATABASE, collection)).strip()
    for name, columns in (
        ("gin_id", "(_jsonb->'_id')"),
        ("gin_tenant_key", "(_jsonb->'tenant'), (_jsonb->'key')"),
        ("gin_achievement", "(_jsonb->'achievement')"),
    ):
        run_sql(server, f'CREATE INDEX {name} ON "{DATABASE}"."{table}" USING gin ({columns})')


def run_sql(server: Server, sql: str) -> str:
    require(server.psql is not None, "psql for a PostgreSQL store")
    proc = subprocess.run([*(server.psql or []), sql], capture_output=True, text=True, check=True)
    return proc.stdout


def load(client: MongoClient[Doc], start: int, stop: int, doc_bytes: int) -> float:
    """Insert documents ``start..stop`` in batches of 1,000; return documents per second."""
    coll = client[DATABASE]["creds"]
    began = time.perf_counter()
    for low in range(start, stop, 1000):
        coll.insert_many([document(n, doc_bytes) for n in range(low, min(stop, low + 1000))])
    elapsed = time.perf_counter() - began
    return (stop - start) / elapsed if elapsed else float("inf")


@dataclass
class Timing:
    """Samples of one shape at one size, in milliseconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(
    client: MongoClient[Doc],
    size: int,
    doc_bytes: int,
    args: argparse.Namespace,
    inserted: list[int],
) -> dict[str, Timing]:
    """Time every shape against random documents of a collection holding ``size``."""
    coll = client[DATABASE]["creds"]
    rng = random.Random(size)

    def pick() -> int:
        return rng.randrange(size)

    def id_lookup() -> None:
        require(coll.find_one({"_id": f"c{pick():09d}"}) is not None, "_id lookup")

    def find_two() -> None:
        n = pick()
        found = coll.find_one({"tenant": f"t{n % TENANTS:02d}", "key": f"k{n:09d}"})
        require(found is not None, "find by two fields")

    def update_two() -> None:
        n = pick()
        result = coll.update_one(
            {"tenant": f"t{n % TENANTS:02d}", "key": f"k{n:09d}"},
            {"$set": {"status": rng.choice(("active", "revoked", "suspended"))}},
        )
        require(result.matched_count == 1, "update by two fields")

    def count_one() -> None:
        coll.count_documents({"achievement": f"a{pick() % ACHIEVEMENTS:03d}"})

    def id_in() -> None:
        ids = [f"c{pick():09d}" for _ in range(10)]
        require(len(list(coll.find({"_id": {"$in": ids}}))) == len(set(ids)), "_id $in")

    def insert() -> None:
        inserted[0] += 1
        doc = document(10**8 + inserted[0], doc_bytes)
        coll.insert_one(doc)

    operations = (id_lookup, find_two, update_two, count_one, id_in, insert)
    shapes = dict(zip(SHAPES, operations, strict=True))
    results: dict[str, Timing] = {}
    for name, operation in shapes.items():
        timing = Timing()
        began = time.perf_counter()
        operation()  # warm-up (plans, connections, caches), kept as a sample when it is slow
        spent = time.perf_counter() - began
        if spent > 1.0:
            timing.samples.append(1000 * spent)
        while len(timing.samples) < args.max_reps and (
            spent < args.budget or len(timing.samples) < args.min_reps
        ):
            began = time.perf_counter()
            operation()
            elapsed = time.perf_counter() - began
            spent += elapsed
            timing.samples.append(1000 * elapsed)
        results[name] = timing
    return results


def atomicity(uri: str) -> dict[str, str]:
    """Run 200 concurrent conditional updates from 4 clients; say which lost or duplicated."""
    clients: list[MongoClient[Doc]] = [
        MongoClient(uri, maxPoolSize=60, socketTimeoutMS=60_000) for _ in range(4)
    ]
    colls = [c[DATABASE]["atomicity"] for c in clients]
    colls[0].drop()
    colls[0].insert_many(
        [{"_id": "inc", "n": 0}, {"_id": "fam", "n": 0}, {"_id": "cas", "owner": None}]
    )
    attempts = 200
    start = threading.Barrier(50)

    def in_parallel(task: Callable[[int], Any]) -> list[Any]:
        def run(i: int) -> Any:
            if i < 50:
                start.wait()
            return task(i)

        with ThreadPoolExecutor(max_workers=50) as pool:
            return list(pool.map(run, range(attempts)))

    def inc() -> str:
        in_parallel(lambda i: colls[i % 4].update_one({"_id": "inc"}, {"$inc": {"n": 1}}))
        lost = attempts - int((colls[0].find_one({"_id": "inc"}) or {}).get("n", 0))
        return "atomic" if lost == 0 else f"NOT atomic: {lost}/{attempts} lost"

    def find_and_inc() -> str:
        returned = in_parallel(
            lambda i: (
                colls[i % 4].find_one_and_update(
                    {"_id": "fam"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
                )
                or {}
            ).get("n")
        )
        distinct = len(set(returned))
        return "atomic" if distinct == attempts else f"NOT atomic: {distinct} values for {attempts}"

    def compare_and_set() -> str:
        winners = sum(
            in_parallel(
                lambda i: (
                    colls[i % 4]
                    .update_one({"_id": "cas", "owner": None}, {"$set": {"owner": i}})
                    .modified_count
                )
            )
        )
        return "atomic" if winners == 1 else f"NOT atomic: {winners} winners for one slot"

    def claim(i: int) -> int:
        try:
            colls[i % 4].insert_one({"_id": "claim", "by": i})
        except DuplicateKeyError:
            return 0
        return 1

    def unique_insert() -> str:
        claims = sum(in_parallel(claim))
        return "atomic" if claims == 1 else f"NOT atomic: {claims} winners"

    checks = {
        "update_one $inc": inc,
        "find_one_and_update $inc": find_and_inc,
        "compare-and-set update_one": compare_and_set,
        "unique _id insert": unique_insert,
    }
    verdicts = {}
    for name, check in checks.items():
        try:
            verdicts[name] = check()
        except PyMongoError as exc:  # a server that stalls under contention is a finding too
            verdicts[name] = f"failed: {type(exc).__name__}"
        log(f"  {name}: {verdicts[name]}")
    for client in clients:
        client.close()
    return verdicts


def run_store(store: str, args: argparse.Namespace) -> dict[str, Any] | None:
    folder = Path(tempfile.mkdtemp(prefix=f"sceau-stores-{store.replace('+', '-')}-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own account and must reach its data folder
    try:
        with serve(store, folder) as server:
            if server is None:
                log(f"{store}: not on this machine (no `mongod` on the PATH); skipped")
                return None
            client: MongoClient[Doc] = MongoClient(server.uri)
            coll = client[DATABASE]["creds"]
            coll.drop()
            coll.insert_one(document(0, args.doc_bytes))
            coll.create_index([("tenant", ASCENDING), ("key", ASCENDING)])
            coll.create_index([("achievement", ASCENDING)])
            if store == "postgresql+gin":
                add_gin_indexes(server, "creds")
            loaded, inserted = 1, [0]
            per_size: dict[int, dict[str, Timing]] = {}
            rates: dict[int, float] = {}
            for size in args.sizes:
                rates[size] = load(client, loaded, size, args.doc_bytes)
                loaded = size
                log(f"{store}: {size:,} documents loaded ({rates[size]:,.0f}/s); measuring")
                per_size[size] = measure(client, size, args.doc_bytes, args, inserted)
                row = ", ".join(f"{k} {v.median:.1f}" for k, v in per_size[size].items())
                log(f"{store} @ {size:,}: median ms: {row}")
            client.close()
            log(f"{store}: concurrent conditional updates")
            atomic = atomicity(server.uri)
            return {"timings": per_size, "load_rates": rates, "atomicity": atomic}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(results: dict[str, dict[str, Any] | None], sizes: list[int]) -> str:
    """Render the figures as Markdown tables."""
    lines = []
    head = " | ".join(f"{s:,}" for s in sizes)
    growth = f"x{sizes[-1] // sizes[0]:,} data"
    for store, result in results.items():
        if result is None:
            lines += [f"**{store}**: not installed on this machine; not measured.", ""]
            continue
        lines += [
            f"**{store}** — median / p95 ms per operation",
            "",
            f"| shape | {head} | cost growth ({growth}) |",
            "|---|" + "---:|" * (len(sizes) + 1),
        ]
        for shape in SHAPES:
            cells = []
            for size in sizes:
                t = result["timings"][size][shape]
                cells.append(f"{t.median:.1f} / {t.p95:.1f}")
            first = result["timings"][sizes[0]][shape].median
            last = result["timings"][sizes[-1]][shape].median
            cells.append(f"x{last / first:.1f}" if first else "-")
            lines.append(f"| {shape} | " + " | ".join(cells) + " |")
        rates = " | ".join(f"{result['load_rates'][s]:,.0f}" for s in sizes)
        lines += [f"| bulk load, documents/s | {rates} | |", ""]
    lines += ["Concurrent conditional updates (200 attempts from 4 clients):", ""]
    present = [s for s, r in results.items() if r is not None]
    lines += ["| update | " + " | ".join(present) + " |", "|---|" + "---|" * len(present)]
    for check in next(r for r in results.values() if r)["atomicity"]:
        cells = [results[s]["atomicity"][check] for s in present]  # type: ignore[index]
        lines.append(f"| {check} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,20000,100000,250000")
    parser.add_argument("--stores", default=",".join(STORES))
    parser.add_argument("--doc-bytes", type=int, default=1000)
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per shape and size")
    parser.add_argument("--min-reps", type=int, default=3)
    parser.add_argument("--max-reps", type=int, default=200)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    args.sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - set(STORES)
    if unknown:
        parser.error(f"unknown store(s) {sorted(unknown)}; choose from {', '.join(STORES)}")
    began = time.perf_counter()
    results = {store: run_store(store, args) for store in stores}
    print(report(results, args.sizes))
    print(f"\n(total {time.perf_counter() - began:.0f} s)")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    s: None
                    if r is None
                    else {
                        "atomicity": r["atomicity"],
                        "load_rates": r["load_rates"],
                        "timings": {
                            size: {k: v.samples for k, v in t.items()}
                            for size, t in r["timings"].items()
                        },
                    }
                    for s, r in results.items()
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
