"""Kept ``POST /v1/verify`` answers sent in front of the router.

A kept answer (:mod:`sceau_verifier.kept_answers`) needs nothing from FastAPI: no route
matching, no dependency solving, no parameter models. Sent from the route, a repeated
question still paid for all of that (two-thirds of its CPU once the verification itself was
kept); this ASGI middleware, the innermost one (inside the body limit and the SERVER span, so
both still apply), answers it directly and lets everything else through unchanged:

* only ``POST /v1/verify`` whose query holds nothing but ``lang``, ``challenge`` and ``domain``
  (each once, within the route's own length bounds; ``lang`` exactly ``fr`` or ``en``), with
  at most one ``Content-Type`` and one ``Accept-Language`` (within the route's bound): any
  other request, even a well-formed one, goes to the route, which validates and answers it as
  before;
* the key is built by :func:`~sceau_verifier.kept_answers.question_key` like the route's, so a
  kept answer is found exactly for a question the route answered and kept;
* a kept answer is sent only if the client's rate limit allows it; a client over its limit is
  let through, and the route answers its ``429`` problem;
* each answer sent is reported as a new verification, as from the route.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Final
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sceau_shared.errors import RateLimited
from sceau_verifier.graph import VerifierGraph
from sceau_verifier.i18n import negotiate
from sceau_verifier.kept_answers import media_of, question_key

__all__ = ["KeptAnswerGate"]

_PATH: Final = "/v1/verify"
_QUERY_BOUNDS: Final = {"lang": 16, "challenge": 512, "domain": 512}
"""The route's own ``max_length`` of each query parameter (api/verify.py, api/deps.py)."""
_LANGS: Final = frozenset({"fr", "en"})
_ROUTE: Final = SimpleNamespace(path=_PATH)
"""What ``scope["route"]`` holds for an answer sent here (only its ``path`` is read)."""
_ACCEPT_LANGUAGE_MAX: Final = 512


class _Question:
    """What the route would read from the request line and headers."""

    __slots__ = ("accept_language", "challenge", "content_type", "domain", "lang")

    def __init__(self) -> None:
        self.lang: str | None = None
        self.challenge: str | None = None
        self.domain: str | None = None
        self.content_type: str | None = None
        self.accept_language: str | None = None


def _question(scope: Scope) -> _Question | None:
    """The question's parameters, or ``None`` when the route must validate the request."""
    question = _Question()
    query = scope.get("query_string", b"")
    if query:
        try:
            pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None
        seen: set[str] = set()
        for name, value in pairs:
            bound = _QUERY_BOUNDS.get(name)
            if bound is None or name in seen or not value or len(value) > bound:
                return None
            seen.add(name)
            setattr(question, name, value)
        if question.lang is not None and question.lang not in _LANGS:
            return None
    for name, raw in scope.get("headers", ()):
        if name == b"content-type":
            if question.content_type is not None:
                return None  # which one the route reads is its business
            question.content_type = raw.decode("latin-1")
        elif name == b"accept-language":
            if question.accept_language is not None or len(raw) > _ACCEPT_LANGUAGE_MAX:
                return None
            question.accept_language = raw.decode("latin-1")
    return question


class KeptAnswerGate:
    """ASGI middleware: a ``POST /v1/verify`` whose answer is kept is answered here."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != _PATH:
            await self._app(scope, receive, send)
            return
        state = scope.get("state") or {}
        graph = state.get("graph")
        question = _question(scope)
        if (
            not isinstance(graph, VerifierGraph)
            or not graph.answers.keeping
            or not len(graph.answers)
            or question is None
        ):
            await self._app(scope, receive, send)
            return
        messages: list[Message] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replay = _replaying(messages, receive)
        if messages[-1]["type"] != "http.request":
            await self._app(scope, replay, send)
            return
        key = question_key(
            hashlib.sha256(body).hexdigest(),
            media_of(question.content_type),
            negotiate(question.lang, question.accept_language),
            question.challenge,
            question.domain,
        )
        kept = graph.answers.get(key) if key is not None else None
        if kept is None:
            await self._app(scope, replay, send)
            return
        client = scope.get("client")
        try:
            graph.limiter.check(client[0] if client else "unknown")
        except RateLimited:
            await self._app(scope, replay, send)  # the route answers the 429 problem
            return
        graph.service.report_again(kept.reports)
        # The router did not run: name the route for the SERVER span and the duration metric,
        # as the router would have (sceau_shared.http.server_spans reads ``scope["route"]``).
        scope["route"] = _ROUTE
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(kept.body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": kept.body})


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again first, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
