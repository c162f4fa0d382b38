"""A deadline on the MongoDB calls of each HTTP request, so an outage answers 503 quickly.

PyMongo waits on a connected server with no socket timeout by default: with the database paused,
a request hung until pymongo's monitor gave up on the server (~30 s) and then answered 500. Under
this middleware every MongoDB call a request makes shares one deadline (pymongo's client-side
operation timeout, ``pymongo.timeout``, carried by a context variable into the request's tasks);
when it passes, pymongo raises a timeout error that the problem handlers turn into ``503`` with
``Retry-After`` (:mod:`sceau_shared.http.problems`). Background loops and consumers are not
affected: they retry on their own schedule.
"""

from __future__ import annotations

import pymongo
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["MongoDeadlineMiddleware"]


class MongoDeadlineMiddleware:
    """Run each HTTP request's MongoDB calls under a shared deadline of ``seconds``."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with pymongo.timeout(self.seconds):
            await self.app(scope, receive, send)
