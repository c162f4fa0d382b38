"""Several worker processes of one service on one port, connections dealt out in turn.

Why not uvicorn's own ``--workers``: it shares one listening socket between the workers, and
whichever worker wakes first accepts the connection, so keep-alive clients that open their
connections together (an applicant-tracking system's pool, bench/verify.py's 32 clients) mostly
land on one worker: with two workers the median answer took 5 ms and the 99th percentile
236 ms. Why not one ``SO_REUSEPORT`` socket per worker (our previous design): the kernel picks
the worker by a hash of the client's address and port, and 32 connections split 20/12 or 22/10
about as often as 16/16; the crowded worker's clients then waited twice as long (p99 between 34
and 58 ms from one run to the next).

So the supervisor accepts every connection itself and hands it, as a file descriptor over a
Unix socket (``SCM_RIGHTS``), to the workers in turn: N connections opened together split as
evenly as they can. A worker serves the connection exactly as if it had accepted it (uvicorn's
own protocol, graceful shutdown included); the supervisor never reads a byte of it. Accepting
and handing over costs the supervisor some tens of microseconds per connection, nothing per
request. The supervisor also restarts a worker that dies (pausing longer and longer while
workers keep failing at start-up, see :func:`restart_pause`) and stops all of them on SIGTERM or
SIGINT; a worker whose supervisor disappears stops too.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn

from sceau_shared.heap import settle_heap

__all__ = ["deal", "restart_pause", "supervise"]

_log = logging.getLogger(__name__)

_RESTART_PAUSE_S = 1.0
_QUICK_EXIT_S = 10.0
_MAX_RESTART_PAUSE_S = 30.0
_POLL_S = 0.2
_STOP_TIMEOUT_S = 30.0
_BACKLOG = 2048
_FDS_PER_READ = 64


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(_BACKLOG)
    sock.setblocking(False)
    return sock


def restart_pause(lived_s: float, quick_exits: int) -> tuple[float, int]:
    """How long to wait before replacing a worker that lived ``lived_s``; and the new streak.

    A worker that dies soon after starting most likely failed at start-up (a MongoDB or Kafka
    it cannot reach, a bad file only workers read) and its replacement would too: each such
    exit in a row doubles the pause (2, 4, 8, ... up to 30 s) instead of starting a process
    every second forever. A worker that had been running is replaced at once.
    """
    if lived_s >= _QUICK_EXIT_S:
        return 0.0, 0
    streak = quick_exits + 1
    return min(_MAX_RESTART_PAUSE_S, _RESTART_PAUSE_S * 2.0**streak), streak


def deal(connection: socket.socket, channels: Sequence[socket.socket | None], start: int) -> int:
    """Hand ``connection`` to the first worker, from ``start`` on, that takes it; return its index.

    A worker's channel refuses when it is gone (restarting) or its queue is full (it stopped
    reading): the next one is tried. Returns -1 when none took it (the caller closes it).
    """
    count = len(channels)
    for step in range(count):
        position = (start + step) % count
        channel = channels[position]
        if channel is None:
            continue
        try:
            socket.send_fds(channel, [b"c"], [connection.fileno()])
        except OSError:  # BlockingIOError (full), BrokenPipeError / ConnectionError (gone)
            continue
        return position
    return -1


class _HandedConnectionsServer(uvicorn.Server):
    """uvicorn serving the connections its supervisor hands over instead of a socket of its own."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self._channel = channel
        self._opening: set[asyncio.Task[object]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the lifespan and state, but no listening socket
        settle_heap()  # what start-up built is never walked by a full collection again
        loop = asyncio.get_running_loop()
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            # The same protocol uvicorn builds for a connection it accepted itself.
            protocol: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
            )
            return protocol

        def receive() -> None:
            while True:
                try:
                    message, fds, _flags, _address = socket.recv_fds(
                        self._channel, 16, _FDS_PER_READ
                    )
                except BlockingIOError:
                    return
                except OSError:
                    message, fds = b"", []
                if not message and not fds:  # the supervisor is gone: stop like on SIGTERM
                    loop.remove_reader(self._channel.fileno())
                    self.should_exit = True
                    return
                for fd in fds:
                    connection = socket.socket(fileno=fd)
                    connection.setblocking(False)
                    task = loop.create_task(
                        loop.connect_accepted_socket(create_protocol, connection)
                    )
                    self._opening.add(task)
                    task.add_done_callback(self._opened)

        self._channel.setblocking(False)
        loop.add_reader(self._channel.fileno(), receive)

    def _opened(self, task: asyncio.Task[object]) -> None:
        self._opening.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.warning("could not serve a handed-over connection: %s", task.exception())

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().remove_reader(self._channel.fileno())
        self._channel.close()  # the supervisor stops handing us connections
        await super().shutdown(sockets)


def _worker(
    factory: str,
    channel: socket.socket,
    host: str,
    port: int,
    proxy: dict[str, Any] | None = None,
) -> None:
    """One worker: uvicorn serving ``factory()``'s app on the connections handed over.

    ``proxy`` holds the uvicorn options for trusted proxies (``HttpSettings.proxy_options``);
    none given, forwarded headers are ignored.
    """
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        **(proxy or {"proxy_headers": False}),
    )
    _HandedConnectionsServer(config, channel).run()


@dataclass
class _Worker:
    process: BaseProcess
    channel: socket.socket  # the supervisor's end
    started_at: float
    quick_exits: int = 0  # start-up failures in a row before this process
    restart_at: float | None = None  # set once the process is found dead


def supervise(
    factory: str, *, host: str, port: int, workers: int, proxy: dict[str, Any] | None = None
) -> int:
    """Run ``workers`` processes serving ``factory`` (``"module:function"``) until stopped.

    Returns the exit code (0 after a requested stop).
    """
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start(quick_exits: int = 0) -> _Worker:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = context.Process(
            target=_worker, args=(factory, theirs, host, port, proxy), daemon=False
        )
        process.start()  # the child receives its own copy of ``theirs``
        theirs.close()
        ours.setblocking(False)
        return _Worker(process, ours, started_at=time.monotonic(), quick_exits=quick_exits)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal %s: stopping %s workers", signum, workers)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    listener = _listening_socket(host, port)
    running = [start() for _ in range(workers)]
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    turn = 0
    checked = time.monotonic()
    try:
        while not stop.is_set():
            if selector.select(timeout=_POLL_S):
                turn = _accept_all(listener, running, turn)
            if time.monotonic() - checked >= _POLL_S:
                checked = time.monotonic()
                for position, worker in enumerate(running):
                    replacement = _replace_if_dead(worker, checked, start)
                    if replacement is not None:
                        running[position] = replacement
    finally:
        selector.close()
        listener.close()
        for worker in running:
            worker.channel.close()
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn finishes requests and its lifespan
        for worker in running:
            worker.process.join(_STOP_TIMEOUT_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _replace_if_dead(
    worker: _Worker, now: float, start: Callable[[int], _Worker]
) -> _Worker | None:
    """A new worker in place of ``worker`` once it is dead and its restart pause is over."""
    if worker.process.is_alive():
        return None
    if worker.restart_at is None:
        pause, worker.quick_exits = restart_pause(now - worker.started_at, worker.quick_exits)
        worker.restart_at = now + pause
        worker.channel.close()  # and dealing skips it (restart_at is set)
        log = _log.error if worker.quick_exits >= 3 else _log.warning
        log(
            "worker %s exited with %s after %.1f s; starting another in %.0f s",
            worker.process.pid,
            worker.process.exitcode,
            now - worker.started_at,
            pause,
        )
    if now < worker.restart_at:
        return None
    return start(worker.quick_exits)


def _accept_all(listener: socket.socket, running: Sequence[_Worker], turn: int) -> int:
    """Accept every waiting connection and deal them out from ``turn``; return the next turn."""
    channels = [worker.channel if worker.restart_at is None else None for worker in running]
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return turn
        except OSError as error:  # out of file descriptors, typically: try again shortly
            _log.warning("could not accept a connection: %s", error)
            return turn
        with connection:
            position = deal(connection, channels, turn)
        if position < 0:
            _log.warning("no worker could take a connection; it was closed")
            continue
        turn = (position + 1) % len(channels)
