"""Several worker processes of one service on one port, each with its own listening socket.

uvicorn's own ``--workers`` shares one listening socket between the workers, and whichever
worker wakes first accepts the connection: with keep-alive clients that opened their
connections together (an applicant-tracking system's pool, the benchmark's 32 clients) one
worker ends up with most of them. bench/verify.py showed it: with two workers, the median
answer took 5 ms and the 99th percentile 236 ms, the slow requests being those on the crowded
worker. Here every worker binds its own socket with ``SO_REUSEPORT``, so the kernel spreads
new connections over the workers evenly (by a hash of the client's address and port).

The supervisor restarts a worker that dies and stops all of them on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

__all__ = ["supervise"]

_log = logging.getLogger(__name__)

_RESTART_PAUSE_S = 1.0
_STOP_TIMEOUT_S = 30.0


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    return sock


def _worker(factory: str, host: str, port: int) -> None:
    """One worker: its own socket on the shared port, uvicorn serving ``factory()``'s app."""
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port)])


def supervise(factory: str, *, host: str, port: int, workers: int) -> int:
    """Run ``workers`` processes serving ``factory`` (``"module:function"``) until stopped.

    Returns the exit code (0 after a requested stop).
    """
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(factory, host, port), daemon=False)
        process.start()
        return process

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal %s: stopping %s workers", signum, workers)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(_RESTART_PAUSE_S):
            for position, process in enumerate(processes):
                if not process.is_alive():
                    _log.warning(
                        "worker %s exited with %s; starting another", process.pid, process.exitcode
                    )
                    processes[position] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes requests and its lifespan
        for process in processes:
            process.join(_STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
