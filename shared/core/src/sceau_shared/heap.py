"""The garbage collector of a serving process: what start-up built is set aside, once.

CPython's full (generation 2) collection walks every container object the process holds and
stops the event loop while it does: every request in flight waits. A service's start-up builds
hundreds of thousands of long-lived objects (imported modules, JSON-LD contexts, pydantic
schemas, routers, caches), so on this project's two-core host a single issuer's full collections
took up to 180 ms each (seven during 960 issues at 16 clients, gc callbacks around
``bench/single_profile.py``), and they were the long tail of its latency.

:func:`settle_heap` runs once, when the server has finished starting: a last full collection,
then ``gc.freeze()`` moves every surviving object to the permanent generation, which later
collections do not walk. Objects made while serving are collected as before, but the youngest
generation is collected after 10,000 new containers instead of 700: a request makes and drops
thousands of short-lived dicts and coroutines, and most are gone (by reference counting) before
a collection would look at them. Cyclic garbage still goes within that many allocations.

Measured in one process (the issuer in-process, 960 single issues at 16 clients, gc callbacks):
garbage collection took 1,165 ms in all, full collections up to 180 ms each; after the freeze
225 ms, none over 7 ms; with the larger first threshold too, 23 ms. bench/single_http.py
(subprocess issuer, 3 alternating rounds of 1,000): p99 283 → 225 ms with the freeze alone.

It is called by the process entry points (:func:`sceau_shared.runner.serve` and the worker
processes of :mod:`sceau_shared.workers`) and by the issuer's signing processes once they are
warm (``sceau_issuer.issuing.sign_jobs.warm_up``), never by an app built in a test process.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]


#: New container objects between two collections of the youngest generation (CPython: 700).
YOUNG_THRESHOLD = 10_000


def settle_heap() -> int:
    """Collect once, freeze the survivors, space young collections; return how many froze."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()
