"""How the worker supervisor deals connections out and paces restarts (sceau_shared.workers).

The real processes are exercised in tests/integration/verifier/test_verifier_workers.py; here
the dealing rule (Unix socket pairs stand for the workers' channels) and the restart pauses.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sceau_shared.workers import deal, restart_pause


@contextmanager
def channels(count: int) -> Iterator[tuple[list[socket.socket], list[socket.socket]]]:
    """``count`` (supervisor end, worker end) pairs, like the supervisor's."""
    with ExitStack() as stack:
        ours, theirs = [], []
        for _ in range(count):
            mine, other = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            stack.enter_context(mine)
            stack.enter_context(other)
            mine.setblocking(False)
            other.setblocking(False)
            ours.append(mine)
            theirs.append(other)
        yield ours, theirs


def received(worker_end: socket.socket) -> int:
    """Connections waiting on a worker's channel (each received descriptor is closed)."""
    count = 0
    while True:
        try:
            _, fds, _, _ = socket.recv_fds(worker_end, 16, 4)
        except BlockingIOError:
            return count
        for fd in fds:
            os.close(fd)
        count += len(fds)


def test_connections_go_to_the_workers_in_turn() -> None:
    with channels(3) as (ours, theirs), socket.socket() as connection:
        turn, positions = 0, []
        for _ in range(7):
            position = deal(connection, ours, turn)
            positions.append(position)
            turn = (position + 1) % len(ours)
        assert positions == [0, 1, 2, 0, 1, 2, 0]
        assert [received(end) for end in theirs] == [3, 2, 2]


def test_a_worker_that_is_gone_or_restarting_is_skipped() -> None:
    with channels(3) as (ours, theirs), socket.socket() as connection:
        theirs[1].close()  # worker 1 died: its end is closed
        assert deal(connection, ours, 1) == 2
        assert deal(connection, [ours[0], None, ours[2]], 1) == 2  # being restarted
        assert [received(theirs[0]), received(theirs[2])] == [0, 2]


def test_no_worker_able_to_take_it_gives_minus_one() -> None:
    with channels(2) as (ours, theirs), socket.socket() as connection:
        for end in theirs:
            end.close()
        assert deal(connection, ours, 0) == -1
        assert deal(connection, [], 0) == -1


def test_the_worker_receives_the_same_connection() -> None:
    with channels(1) as (ours, theirs):
        left, right = socket.socketpair()
        with left, right:
            assert deal(left, ours, 0) == 0
            _, fds, _, _ = socket.recv_fds(theirs[0], 16, 1)
            with socket.socket(fileno=fds[0]) as handed:
                handed.sendall(b"hello")
                assert right.recv(5) == b"hello"


def test_a_worker_that_had_been_running_is_replaced_at_once() -> None:
    assert restart_pause(lived_s=3600, quick_exits=0) == (0.0, 0)
    assert restart_pause(lived_s=60, quick_exits=4) == (0.0, 0)  # a long life ends the streak


def test_workers_failing_at_start_up_are_restarted_ever_more_slowly() -> None:
    pauses, streak = [], 0
    for _ in range(7):
        pause, streak = restart_pause(lived_s=0.5, quick_exits=streak)
        pauses.append(pause)
    assert pauses == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert streak == 7
