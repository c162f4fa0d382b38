"""Share tokens taken out of the request path before anything records it.

A share token in ``/s/{token}`` is a bearer capability: whoever reads it may open the share. The
SERVER span (``url.path``), problem answers (``instance``) and any log line that names the path
must therefore never see it. This ASGI middleware, outermost (installed by the service
definition's ``configure`` hook, after the span middleware), moves the token into the request
scope under :data:`SHARE_TOKEN_SCOPE_KEY` and rewrites the path to ``/s/redacted``; the share
routes read it back with :func:`share_token`. Spans are still named by the route template
(``GET /s/{token}``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sceau_verifier.settings import VerifierSettings

__all__ = [
    "REDACTED",
    "SHARE_TOKEN_SCOPE_KEY",
    "ShareTokenRedaction",
    "hide_share_tokens",
    "share_token",
]

SHARE_TOKEN_SCOPE_KEY = "sceau.share_token"  # noqa: S105 - a scope key, not a secret
REDACTED = "redacted"
_PREFIX = "/s/"


class ShareTokenRedaction:
    """ASGI middleware: ``/s/<token>[/rest]`` becomes ``/s/redacted[/rest]``, token kept aside."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_PREFIX):
            token, slash, rest = scope["path"][len(_PREFIX) :].partition("/")
            if token:
                path = f"{_PREFIX}{REDACTED}{slash}{rest}"
                scope = dict(scope)
                scope[SHARE_TOKEN_SCOPE_KEY] = token
                scope["path"] = path
                scope["raw_path"] = path.encode("ascii")
        await self._app(scope, receive, send)


def hide_share_tokens(app: FastAPI, settings: VerifierSettings) -> None:
    """The verifier's ``configure`` hook: install :class:`ShareTokenRedaction` outermost."""
    del settings
    app.add_middleware(ShareTokenRedaction)


def share_token(request: Request, token: str) -> str:
    """The real token of a share route (``token`` is the path's, i.e. ``redacted``, if moved)."""
    moved = request.scope.get(SHARE_TOKEN_SCOPE_KEY)
    return moved if isinstance(moved, str) else token
