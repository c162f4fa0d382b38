"""Proof verification off the event loop: canonicalization and didkit run on worker threads.

RDFC canonicalization takes milliseconds of CPU per document (and a hostile document up to the
canonicalizer's work budget); run on the event loop it stalls every other request of the
process, health checks included. :class:`ThreadedProofs` runs the engine's ``verify_proof`` on a
small pool of threads (``workers``), each with its own event loop. did:key DIDs are resolved on
the worker thread (offline, pure computation); other DIDs on the process's loop — the resolver's
HTTP client, cache and single-flight belong to it — through a bridge that schedules each
``resolve`` there and waits for it, in the caller's context (so reachability.py sees the calling
verification's notes). Each crossing between threads costs a wake-up, which an overloaded
machine makes slow, so only the network goes back to the loop.

The pool bounds the work running at once; callers beyond it wait in the pool's queue under their
own verification deadline. pyld and the canonicalizers lock their shared caches (canonical.py),
and didkit's single child process is reached under a lock from whichever thread calls it.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.results import ProofOutcome, ProofVerifier

__all__ = ["ThreadedProofs"]

_OFFLINE = "did:key:"


class _LoopResolver:
    """Resolve on ``loop`` (the process's) from a worker thread, in ``context``."""

    def __init__(
        self,
        resolver: Any,
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context,
        offline: DidKeyResolver,
    ) -> None:
        self._resolver = resolver
        self._loop = loop
        self._context = context
        self._offline = offline

    async def resolve(self, did: str) -> dict[str, Any]:
        if did.startswith(_OFFLINE):
            return await self._offline.resolve(did)
        done: Future[dict[str, Any]] = Future()

        def start() -> None:
            task = asyncio.ensure_future(self._resolver.resolve(did))

            def settle(finished: asyncio.Future[dict[str, Any]]) -> None:
                if finished.cancelled():
                    done.cancel()
                elif (error := finished.exception()) is not None:
                    done.set_exception(error)
                else:
                    done.set_result(finished.result())

            task.add_done_callback(settle)

        self._loop.call_soon_threadsafe(start, context=self._context)
        return await asyncio.wrap_future(done)


class ThreadedProofs:
    """A ``ProofVerifier`` that runs ``verifier`` on ``workers`` threads (see module docstring).

    Args:
        verifier: the engine's ``verify_proof(document, resolver)``.
        workers: threads verifying at once.
    """

    def __init__(self, verifier: ProofVerifier, *, workers: int) -> None:
        self._verifier = verifier
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sceau-proof")
        self._local = threading.local()
        self._offline = DidKeyResolver()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._loops_lock = threading.Lock()

    async def __call__(self, document: Any, resolver: Any) -> ProofOutcome:
        """Verify ``document`` on a worker thread; ``resolver`` is used on this loop."""
        loop = asyncio.get_running_loop()
        bridge = _LoopResolver(resolver, loop, contextvars.copy_context(), self._offline)
        return await loop.run_in_executor(self._pool, self._run, document, bridge)

    def _run(self, document: Any, resolver: _LoopResolver) -> ProofOutcome:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            with self._loops_lock:
                self._loops.append(loop)
        return loop.run_until_complete(self._verifier(document, resolver))

    async def close(self) -> None:
        """Let the threads finish their current work, then close their event loops."""
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
        with self._loops_lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            loop.close()
