"""Where signing runs: in-process for single credentials, in a process pool for batches.

RDFC canonicalization is pure-Python CPU work; a pool of worker processes lets a batch use every
core while the event loop keeps serving requests and relaying events.

A worker receives what it signs with in each job (the one institution's decrypted key) and
nothing else: it is spawned with a scrubbed environment (:func:`worker_environment`), so the
master key, the database URI and every other secret of the service's environment never reach
it (nor ``/proc/<pid>/environ``, nor anything it would start).

A worker that dies (killed, out of memory) breaks a ``ProcessPoolExecutor`` for good: every
later submission fails at once. The signer then replaces the pool and runs the slice again once
(signing has no side effect), so one lost process does not turn every later issue into a 500.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, TypeVar, cast

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_issuer.credential_copies import Copy, CredentialCopies, is_credential
from sceau_issuer.issuing.sign_jobs import (
    Signed,
    SignJob,
    in_fresh_loop,
    sign_jobs,
    sign_one,
    warm_up,
)
from sceau_issuer.tenants.dids import any_signing_key

INLINE_MAX = 4

#: What a signing process keeps of the environment: enough to run Python, no secrets.
_KEPT = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV"}
    | {"SSL_CERT_FILE", "SSL_CERT_DIR", "SYSTEMROOT"}
)
_KEPT_PREFIXES = ("LC_", "PYTHON", "COVERAGE_", "COV_CORE_")


T = TypeVar("T")
R = TypeVar("R")

_log = logging.getLogger(__name__)


def worker_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The part of ``environment`` a signing process inherits (an allow-list)."""
    return {
        name: value
        for name, value in environment.items()
        if name in _KEPT or name.startswith(_KEPT_PREFIXES)
    }


@contextmanager
def _environment_only(kept: Mapping[str, str]) -> Iterator[None]:
    """Run the block with ``os.environ`` reduced to ``kept``, then restore it.

    A spawned process inherits the environment of the moment it is started, and
    multiprocessing offers no other way to choose it. The block is a process start on the
    event loop's thread: nothing else in the service reads the environment meanwhile.
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(kept)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _ScrubbedProcess(SpawnProcess):
    """A spawned process that starts with :func:`worker_environment` only."""

    def start(self) -> None:
        with _environment_only(worker_environment(os.environ)):
            super().start()


class _ScrubbedSpawn(SpawnContext):
    """The spawn start method, every process scrubbed (also one the pool starts later)."""

    Process = _ScrubbedProcess


def _noop() -> None:
    """A task whose only purpose is to make the pool start (and warm up) its processes."""


def _key_of(job: SignJob) -> SigningKey | P256SigningKey:
    return any_signing_key(job.seed, job.did, job.key_version, job.spec.profile, job.key_type)


def _sign_documents(ready: list[tuple[dict[str, Any], bytes, str, str, str]]) -> list[object]:
    """Sign ready documents, each with its key rebuilt from its seed (in a worker process).

    Per document its signature or its error (as a ``RuntimeError`` naming it: any exception must
    cross back to the service, and not every one can be pickled).
    """

    async def each() -> list[object]:
        signed: list[object] = []
        for document, seed, controller, fragment, profile in ready:
            key = SigningKey.from_seed(seed, controller, fragment)
            try:
                signed.append(await sign_credential(document, key, Profile(profile)))
            except Exception as exc:  # noqa: BLE001 - handed back for this document only
                signed.append(RuntimeError(f"{type(exc).__name__}: {exc}"))
        return signed

    return in_fresh_loop(each())


def _ready_job(
    document: dict[str, Any], key: SigningKey, profile: str
) -> tuple[dict[str, Any], bytes, str, str, str]:
    """What a worker process needs to sign a ready document (the key as its seed)."""
    return document, key.seed, key.controller, key.verification_method.partition("#")[2], profile


def _slices(items: list[T], workers: int) -> list[list[T]]:
    """``items`` cut into at most ``workers`` consecutive slices of near-equal size, in order."""
    size = -(-len(items) // max(workers, 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _suspension(job: SignJob) -> bool:
    """Whether the institution had turned suspension on (``BuildSpec.suspension``)."""
    return job.spec.suspension


class Signer:
    """Signs credentials, spreading large lists over worker processes.

    Every signature goes through here, so this is where ``copies`` (a development aid, off by
    default: ``ISSUER_CONFORMANCE_DIR``) receives each signed credential for the conformance check.
    """

    def __init__(self, workers: int, copies: CredentialCopies | None = None) -> None:
        self._workers = workers
        self._pool: Executor | None = None
        self._copies = copies
        #: Pools replaced after a worker died (for tests and the logs).
        self.renewals = 0

    def start(self) -> None:
        """Start the worker processes (spawned: forking a threaded process is unsafe).

        They are spawned without the service's secrets (:func:`worker_environment`).
        """
        if self._workers > 0 and self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=_ScrubbedSpawn(),
                initializer=warm_up,
            )
            # Processes start lazily: ask for them now, so the first batch finds them warm.
            for _ in range(self._workers):
                self._pool.submit(_noop)

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def sign_many(self, jobs: list[SignJob]) -> list[Signed]:
        """Sign in order; big lists go to the pool in one slice per worker."""
        return await self._kept(jobs, await self._sign_many(jobs))

    async def _kept(self, jobs: list[SignJob], signed: list[Signed]) -> list[Signed]:
        """Hand every signed credential to ``copies`` (when set), whichever way it was signed."""
        if self._copies is not None:
            await self._copies.keep(
                [
                    Copy(document, _key_of(job), job.spec.profile, _suspension(job))
                    for document, job in zip(signed, jobs, strict=True)
                ]
            )
        return signed

    async def _sign_many(self, jobs: list[SignJob]) -> list[Signed]:
        if not jobs:
            return []
        loop = asyncio.get_running_loop()
        if len(jobs) <= INLINE_MAX:
            return [await sign_one(job) for job in jobs]
        if self._pool is None:
            return await loop.run_in_executor(None, sign_jobs, jobs)
        return await self._pooled(self._pool, jobs)

    async def sign_apart(self, jobs: list[SignJob]) -> list[Signed]:
        """Sign in order in the worker processes, however few the jobs (grouped single issues).

        Single issues are signed together by the group collector
        (``issuing/group_commit.py``): keeping that off the event loop leaves the loop to the
        requests and the database round trips of the next group. Without a pool, on the loop.
        """
        if not jobs:
            return []
        if self._pool is None:
            return await self._kept(jobs, [await sign_one(job) for job in jobs])
        return await self._kept(jobs, await self._pooled(self._pool, jobs))

    async def _pooled(self, pool: Executor, jobs: list[SignJob]) -> list[Signed]:
        """One slice of ``jobs`` per worker process, results in order."""
        slices = _slices(jobs, self._workers)
        parts = await asyncio.gather(*(self._in_pool(pool, sign_jobs, part) for part in slices))
        return [signed for part in parts for signed in part]

    async def _in_pool(self, pool: Executor, work: Callable[[list[T]], R], part: list[T]) -> R:
        """``work(part)`` in a worker; once more in a new pool if a dead worker broke ``pool``."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, work, part)
            # Hand the GIL over once: the pool's manager and feeder threads need it to pickle
            # the slice and write it to a process, and the event loop would otherwise keep it
            # for up to the switch interval (5 ms) while it runs other callbacks. Single issues:
            # the first slice left 3.7 -> 2.6 ms after the group's signing began (p50), 1.04
            # and 1.07x in two runs of 6 rounds (docs/benchmarks.md, issue 19).
            time.sleep(0)  # noqa: ASYNC251 - zero: releases the GIL, never waits
            return await future
        except BrokenProcessPool:
            fresh = self._renew(pool)
            return await loop.run_in_executor(fresh, work, part)

    def _renew(self, broken: Executor) -> Executor:
        """The pool to use instead of ``broken`` (replaced once, whoever asks first)."""
        if self._pool is broken:
            _log.warning("a signing process died; starting a new pool of %d", self._workers)
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self.start()
            self.renewals += 1
        assert self._pool is not None  # noqa: S101 - start() made it (workers > 0)
        return self._pool

    async def sign(
        self, credential: dict[str, Any], key: SigningKey | P256SigningKey, profile: str
    ) -> Signed:
        """Sign one document (a status list, a share's derived credential) on the loop."""
        signed: Signed = await sign_credential(credential, key, Profile(profile))
        return await self._kept_one(credential, signed, key, profile)

    async def sign_ready_apart(
        self, ready: Sequence[tuple[dict[str, Any], SigningKey | P256SigningKey, str]]
    ) -> list[Signed | BaseException]:
        """Sign ready documents ``(document, key, profile)`` (grouped wallet copies).

        Ed25519 ones go to the worker processes, one slice per worker (as grouped single issues
        do); the rest (P-256 keys), or all of them without a pool, are signed on the loop. Per
        document its signature or its own error.
        """
        answers: list[Signed | BaseException | None] = [None] * len(ready)
        pooled: list[int] = []
        jobs: dict[int, tuple[dict[str, Any], bytes, str, str, str]] = {}
        for n, (document, key, profile) in enumerate(ready):
            if self._pool is not None and isinstance(key, SigningKey):
                pooled.append(n)
                jobs[n] = _ready_job(document, key, profile)
                continue
            try:
                answers[n] = await self.sign(document, key, profile)
            except Exception as exc:  # noqa: BLE001 - this document's error only
                answers[n] = exc
        if pooled and self._pool is not None:
            pool = self._pool
            slices = _slices(pooled, self._workers)
            parts = await asyncio.gather(
                *(self._in_pool(pool, _sign_documents, [jobs[n] for n in part]) for part in slices),
                return_exceptions=True,
            )
            for part, signed in zip(slices, parts, strict=True):
                for position, n in enumerate(part):
                    answer = signed if isinstance(signed, BaseException) else signed[position]
                    if isinstance(answer, BaseException):
                        answers[n] = answer
                        continue
                    document, key, profile = ready[n]
                    answers[n] = await self._kept_one(document, cast(Signed, answer), key, profile)
        return [cast(Signed | BaseException, answer) for answer in answers]

    async def _kept_one(
        self,
        credential: dict[str, Any],
        signed: Signed,
        key: SigningKey | P256SigningKey,
        profile: str,
    ) -> Signed:
        if self._copies is not None and is_credential(credential):
            # A share's derived copy inherits its original's status entries (checked when issued).
            await self._copies.keep([Copy(signed, key, profile, None)])
        return signed
