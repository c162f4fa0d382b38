"""Concurrent calls of one step share one run: group commit for small, independent requests.

On FerretDB every command costs the server a couple of milliseconds of CPU whatever it carries,
and pymongo about half a millisecond on our side; sixteen wallets taking their credentials at
once send sixteen single-document inserts where one ``insert_many`` would do. A
:class:`GroupedCalls` lets callers of one step (``run``) hand it an item each and get their own
answer back, while the step itself runs once per *group*: the calls that arrived while the
previous group was being written. Nothing waits for a timer: a call arriving at an idle step
runs at once (a group of one), so a quiet issuer answers as fast as without grouping and a busy
one sends fewer, larger commands (``sceau_issuer.issuing.group_commit`` does the same for
single issues, with the rules that step needs).

``run`` answers each item with its result or its own exception, in order; an exception raised by
``run`` itself goes to every caller of the group. A caller that gives up (a client disconnect)
does not stop its group: the work it started is finished and stored (its retry then finds it).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: A step run over a whole group: one answer (a result or an exception) per item, in order.
GroupRun = Callable[[list[T]], Awaitable[Sequence[R | BaseException]]]


class GroupedCalls(Generic[T, R]):
    """Runs ``run`` once per group of concurrent calls; each caller gets its own answer.

    Args:
        run: the step over a group (one answer per item, in order).
        name: the name of the task writing the groups (seen in task dumps and profiles).
        max_group: items per run at most (the rest form the next group).
    """

    def __init__(self, run: GroupRun[T, R], *, name: str, max_group: int = 64) -> None:
        self._run = run
        self._name = name
        self._max_group = max_group
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0
        """Groups run so far (tests and benchmarks read it)."""

    async def __call__(self, item: T) -> R:
        """This item's answer, from the run of the group it joined."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            # A context of its own: created from the first caller's, the writer would carry that
            # request's trace and database deadline into every later group.
            self._writer = loop.create_task(
                self._write(), name=self._name, context=contextvars.Context()
            )
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Let the group being written finish; refuse what has not started."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        for _, future in self._queue:
            if not future.done():
                future.set_exception(RuntimeError("the issuer is stopping"))
        self._queue = []

    async def _write(self) -> None:
        while self._queue:
            group = self._queue[: self._max_group]
            self._queue = self._queue[self._max_group :]
            self.groups += 1
            try:
                answers = await self._run([item for item, _ in group])
                if len(answers) != len(group):
                    raise RuntimeError(f"{self._name}: {len(answers)} answers for {len(group)}")
            except asyncio.CancelledError:
                for _, future in group:
                    if not future.done():
                        future.set_exception(RuntimeError("the issuer is stopping"))
                raise
            except Exception as exc:  # noqa: BLE001 - every caller of the group gets it
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(group, answers, strict=True):
                if future.done():
                    continue
                if isinstance(answer, BaseException):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)
