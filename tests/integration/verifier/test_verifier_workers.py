"""``VERIFIER_WORKERS``: worker processes share the port, are replaced when they die, stop together.

Runs the real ``python -m sceau_verifier`` against the real Kafka (the verifier has no database).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from sceau_dev.testing.processes import ServiceProcess

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """The worker processes under the supervisor (not multiprocessing's resource tracker)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    found = []
    for child in path.read_text().split() if path.exists() else []:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command:
            found.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _established(worker: int, port: int) -> int:
    """Connections to ``port`` that the process ``worker`` holds (server side, from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
                inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{worker}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


@asynccontextmanager
async def _running(
    tmp_path: Path, kafka_settings, *, workers: int
) -> AsyncIterator[tuple[ServiceProcess, list[int]]]:
    """``python -m sceau_verifier`` with ``workers`` workers, ready; its supervisor and workers."""
    port = _free_port()
    service = ServiceProcess(
        name="verifier",
        port=port,
        log_dir=tmp_path,
        env={
            "VERIFIER_WORKERS": str(workers),
            "VERIFIER_HTTP__HOST": "127.0.0.1",
            "VERIFIER_HTTP__PORT": str(port),
            "VERIFIER_KAFKA__BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
            "VERIFIER_KAFKA__TOPIC_PREFIX": kafka_settings.topic_prefix,
        },
    )
    service.start()
    try:
        await asyncio.to_thread(service.wait_ready, 90.0)
        assert service.process is not None
        found: list[int] = []
        for _ in range(100):
            found = [p for p in _children(service.process.pid) if _alive(p)]
            if len(found) >= workers:
                break
            await asyncio.sleep(0.1)
        assert len(found) >= workers, service.tail()
        yield service, found
    finally:
        service.stop()


async def _eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def test_two_workers_answer_and_stop_together(tmp_path, kafka_settings) -> None:
    async with _running(tmp_path, kafka_settings, workers=2) as (service, workers):
        assert service.process is not None
        supervisor = service.process.pid

        # Many connections at once: every one is answered, by whichever worker it was dealt to.
        async def ask() -> int:
            async with httpx.AsyncClient(base_url=service.url) as client:
                answer = await client.post(
                    "/v1/verify", content=b"{not json", headers={"Content-Type": "application/json"}
                )
                assert answer.headers["content-type"].startswith("application/problem+json")
                return answer.status_code

        codes = await asyncio.gather(*(ask() for _ in range(24)))
        assert set(codes) == {400}
        # A worker that dies is replaced; the service keeps answering meanwhile.
        os.kill(workers[0], signal.SIGKILL)

        def replaced() -> bool:
            return any(p not in workers for p in _children(supervisor) if _alive(p))

        assert await _eventually(replaced), service.tail()
        assert await ask() == 400
        workers = [p for p in _children(supervisor) if _alive(p)]
    for worker in workers:
        assert await _eventually(lambda w=worker: not _alive(w), 10), f"worker {worker} outlived"


async def test_connections_opened_together_are_split_evenly(tmp_path, kafka_settings) -> None:
    """32 keep-alive connections over 3 workers: 11, 11 and 10, not whatever a hash gives."""
    held: list[asyncio.StreamWriter] = []
    async with _running(tmp_path, kafka_settings, workers=3) as (service, workers):
        port = service.port

        async def open_and_ask() -> asyncio.StreamWriter:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            held.append(writer)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: verifier\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            return writer

        try:
            await asyncio.gather(*(open_and_ask() for _ in range(32)))
            counts = sorted(_established(worker, port) for worker in workers)
            assert counts == [10, 11, 11], counts
        finally:
            for writer in held:
                writer.close()


async def test_workers_stop_when_their_supervisor_is_killed(tmp_path, kafka_settings) -> None:
    """No orphans: a worker whose supervisor died (SIGKILL, OOM) stops instead of idling."""
    async with _running(tmp_path, kafka_settings, workers=2) as (service, workers):
        assert service.process is not None
        os.kill(service.process.pid, signal.SIGKILL)
        assert await _eventually(lambda: not any(_alive(w) for w in workers)), service.tail()
