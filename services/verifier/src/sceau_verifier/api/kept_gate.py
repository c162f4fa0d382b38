"""Kept answers (``POST /v1/verify`` and share pages) sent in front of the router.

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

Share pages (``GET /s/{token}``, kept by :mod:`sceau_verifier.share_pages`) the same way: only
when the share's answer is already held by the share client (no request to the issuer is ever
made here: an unknown token, a refusal or a share not held goes to the route, after the rate
limit), the query holds nothing but ``lang`` (``fr``/``en``, once), and ``Accept`` and
``Accept-Language`` come once within the route's bounds. A kept page is sent with the route's
headers and announced like the route's (``ShareOpenedV1`` and a new ``VerificationCompletedV1``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Final, Literal
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sceau_shared.errors import RateLimited
from sceau_verifier.api.redaction import REDACTED, SHARE_TOKEN_SCOPE_KEY
from sceau_verifier.api.shares import announce, wants_json
from sceau_verifier.graph import VerifierGraph
from sceau_verifier.i18n import negotiate
from sceau_verifier.inputs import media_type
from sceau_verifier.kept_answers import question_key
from sceau_verifier.share_pages import PageKey
from sceau_verifier.shares import Share

__all__ = ["KeptAnswerGate"]

_PATH: Final = "/v1/verify"
_QUERY_BOUNDS: Final = {"lang": 16, "challenge": 512, "domain": 512}
"""The route's own ``max_length`` of each query parameter (api/verify.py, api/deps.py)."""
_LANGS: Final = frozenset({"fr", "en"})
_ROUTE: Final = SimpleNamespace(path=_PATH)
"""What ``scope["route"]`` holds for an answer sent here (only its ``path`` is read)."""
_SHARE_PATH: Final = f"/s/{REDACTED}"
"""A share link's path once :mod:`sceau_verifier.api.redaction` took the token out."""
_SHARE_ROUTE: Final = SimpleNamespace(path="/s/{token}")
_ACCEPT_MAX: Final = 1024
_ACCEPT_LANGUAGE_MAX: Final = 512


class _Question:
    """What the route would read from the request line and headers."""

    __slots__ = ("accept", "accept_language", "challenge", "content_type", "domain", "lang")

    def __init__(self) -> None:
        self.lang: str | None = None
        self.challenge: str | None = None
        self.domain: str | None = None
        self.content_type: str | None = None
        self.accept_language: str | None = None
        self.accept: str | None = None


_HEADER_BOUNDS: Final = {
    b"content-type": ("content_type", 1024),
    b"accept-language": ("accept_language", _ACCEPT_LANGUAGE_MAX),
    b"accept": ("accept", _ACCEPT_MAX),
}


def _question(scope: Scope, allowed: frozenset[str]) -> _Question | None:
    """The question's parameters, or ``None`` when the route must validate the request.

    ``allowed`` names the query parameters the gate may read for this route.
    """
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
            if bound is None or name not in allowed or name in seen or not 0 < len(value) <= bound:
                return None
            seen.add(name)
            setattr(question, name, value)
        if question.lang is not None and question.lang not in _LANGS:
            return None
    for name, raw in scope.get("headers", ()):
        known = _HEADER_BOUNDS.get(name)
        if known is None:
            continue
        attribute, bound = known
        if getattr(question, attribute) is not None or len(raw) > bound:
            return None  # which one the route reads, or how it refuses it, is its business
        setattr(question, attribute, raw.decode("latin-1"))
    return question


class KeptAnswerGate:
    """ASGI middleware: a kept ``POST /v1/verify`` answer or share page is sent from here."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == _SHARE_PATH:
            await self._share(scope, receive, send)
            return
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != _PATH:
            await self._app(scope, receive, send)
            return
        graph = _graph(scope)
        question = (
            _question(scope, _VERIFY_QUERY)
            if graph is not None and graph.answers.keeping and len(graph.answers)
            else None
        )
        if graph is None or question is None:
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
            media_type(question.content_type),
            negotiate(question.lang, question.accept_language),
            question.challenge,
            question.domain,
        )
        kept = graph.answers.get(key) if key is not None else None
        if kept is None or not _allowed(graph, scope):
            await self._app(scope, replay, send)  # over its limit: the route answers the 429
            return
        graph.service.report_again(kept.reports)
        await _send(scope, send, _ROUTE, "application/json", kept.body, {})

    async def _share(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A share page kept for a share already held: sent here; anything else: the route."""
        graph = _graph(scope)
        token = scope.get(SHARE_TOKEN_SCOPE_KEY)
        question: _Question | None = None
        share: Share | None = None
        if (
            graph is not None
            and len(graph.share_pages)
            and isinstance(token, str)
            and len(token) <= _TOKEN_MAX
        ):
            question = _question(scope, _SHARE_QUERY)
            share = graph.shares.held(token) if question is not None else None
        if graph is None or question is None or share is None:
            await self._app(scope, receive, send)
            return
        kind: Literal["html", "json"] = "json" if wants_json(question.accept) else "html"
        key: PageKey = (share.digest, negotiate(question.lang, question.accept_language), kind)
        rendered = graph.share_pages.get(key)
        if rendered is None or not _allowed(graph, scope):
            await self._app(scope, receive, send)  # over its limit: the route answers the 429
            return
        announce(graph, share, rendered, fresh=False)
        await _send(scope, send, _SHARE_ROUTE, rendered.media_type, rendered.body, rendered.headers)


_VERIFY_QUERY: Final = frozenset({"lang", "challenge", "domain"})
_SHARE_QUERY: Final = frozenset({"lang"})
_TOKEN_MAX: Final = 256
"""The share route's own bound on a token (``_TokenPath``)."""


def _graph(scope: Scope) -> VerifierGraph | None:
    """The worker's graph from the lifespan state (``None`` before the lifespan ran)."""
    graph = (scope.get("state") or {}).get("graph")
    return graph if isinstance(graph, VerifierGraph) else None


def _allowed(graph: VerifierGraph, scope: Scope) -> bool:
    """Whether the client's rate limit lets a kept answer go (a token is taken if so)."""
    client = scope.get("client")
    try:
        graph.limiter.check(client[0] if client else "unknown")
    except RateLimited:
        return False
    return True


async def _send(
    scope: Scope,
    send: Send,
    route: SimpleNamespace,
    content_type: str,
    body: bytes,
    headers: Mapping[str, str],
) -> None:
    """Send a kept answer as a 200 with the route's headers.

    The router did not run: ``route`` names it for the SERVER span and the duration metric, as
    the router would have (``sceau_shared.http.server_spans`` reads ``scope["route"]``).
    """
    scope["route"] = route
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("ascii")),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again first, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
