"""Turning a request body into what is to be verified, refusing unusable input with a 4xx.

Accepted shapes for ``POST /v1/verify``:

* ``application/json`` — ``{"credential": <object or VC-JWT string>, "challenge"?, "domain"?}``
  (``"presentation"`` is accepted as a synonym of ``"credential"``), or the credential or
  presentation object itself, or a JSON string holding a VC-JWT;
* ``application/jwt``, ``application/vc+jwt``, ``application/vp+jwt``, ``text/plain`` — a VC-JWT.

Everything here is about *transport*: a well-formed body that holds a bad credential is not
refused, it is verified and gets ``verified: false`` with reasons. Bodies that cannot be read at
all (not JSON, not UTF-8, nested deeper than any credential, numbers Python will not parse) get a
400 problem, wrong shapes a 422.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sceau_shared.errors import InvalidInput
from sceau_verifier.errors import MalformedBody, UnsupportedMediaType

__all__ = [
    "JWT_MEDIA_TYPES",
    "Submission",
    "check_depth",
    "media_type",
    "parse_batch",
    "parse_json",
    "parse_submission",
    "submission_from_value",
]

JWT_MEDIA_TYPES: Final = frozenset(
    {"application/jwt", "application/vc+jwt", "application/vp+jwt", "text/plain"}
)
_JSON_MEDIA: Final = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_WRAPPER_KEYS: Final = frozenset({"credential", "presentation", "challenge", "domain"})
_MAX_TEXT: Final = 512


@dataclass(frozen=True)
class Submission:
    """One thing to verify: a credential/presentation object or a JWT, with optional VP checks."""

    document: Mapping[str, Any] | str
    challenge: str | None = None
    domain: str | None = None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    # 1e999 parses to infinity, which no credential needs and JSON cannot carry back out.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def parse_json(raw: bytes) -> Any:
    """Parse JSON strictly: UTF-8, no NaN/Infinity, no unbounded recursion or numbers."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("The request body is not UTF-8 text.") from exc
    if not text.strip():
        raise MalformedBody("The request body is empty.")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise MalformedBody("The JSON document is nested too deeply.") from exc
    except ValueError as exc:  # JSONDecodeError, and int digit limits (huge integers)
        raise MalformedBody(f"The request body is not valid JSON: {exc}") from exc


def check_depth(value: Any, max_depth: int) -> None:
    """Refuse documents nested deeper than ``max_depth`` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise MalformedBody(
                f"The document is nested deeper than {max_depth} levels; no credential is."
            )
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)


def _optional_text(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_TEXT:
        raise InvalidInput(
            f"'{field}' must be a string of at most {_MAX_TEXT} characters.",
            errors=[{"pointer": f"/{field}", "message": "must be a short string"}],
        )
    return value


def _document(value: object, pointer: str) -> Mapping[str, Any] | str:
    if isinstance(value, str):
        token = value.strip()
        if not _JWT.match(token):
            raise InvalidInput(
                "A string credential must be a VC-JWT (three base64url parts separated by dots).",
                errors=[{"pointer": pointer, "message": "not a compact JWS"}],
            )
        return token
    if isinstance(value, dict):
        return value
    raise InvalidInput(
        "The credential must be a JSON object or a VC-JWT string.",
        errors=[{"pointer": pointer, "message": f"got {type(value).__name__}"}],
    )


def submission_from_value(
    value: Any,
    *,
    pointer: str = "",
    challenge: str | None = None,
    domain: str | None = None,
) -> Submission:
    """Interpret a parsed JSON value as a wrapper, a credential/presentation object or a JWT."""
    if isinstance(value, dict) and value and set(value) <= _WRAPPER_KEYS:
        inner_key = "credential" if "credential" in value else "presentation"
        if inner_key not in value:
            raise InvalidInput(
                "The body has no 'credential'.",
                errors=[{"pointer": f"{pointer}/credential", "message": "required"}],
            )
        return Submission(
            document=_document(value[inner_key], f"{pointer}/{inner_key}"),
            challenge=_optional_text(value.get("challenge"), "challenge") or challenge,
            domain=_optional_text(value.get("domain"), "domain") or domain,
        )
    return Submission(document=_document(value, pointer), challenge=challenge, domain=domain)


def media_type(content_type: str | None) -> str:
    """The media type a body is read as: lower-case, no parameters; JSON when none is given."""
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


def parse_submission(
    raw: bytes,
    content_type: str | None,
    *,
    max_depth: int,
    challenge: str | None = None,
    domain: str | None = None,
) -> Submission:
    """Read a ``POST /v1/verify`` body."""
    media = media_type(content_type)
    challenge = _optional_text(challenge, "challenge")
    domain = _optional_text(domain, "domain")
    if media in JWT_MEDIA_TYPES:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise MalformedBody("The request body is not UTF-8 text.") from exc
        if text.startswith(("{", '"')):  # JSON sent as text/plain: be forgiving
            value = parse_json(raw)
            check_depth(value, max_depth)
            return submission_from_value(value, challenge=challenge, domain=domain)
        return Submission(document=_document(text, ""), challenge=challenge, domain=domain)
    if not _JSON_MEDIA.match(media):
        raise UnsupportedMediaType(
            f"Send application/json (a credential or a presentation), application/jwt, or a "
            f"baked badge (image/png, image/svg+xml, multipart/form-data), not {media!r}."
        )
    value = parse_json(raw)
    check_depth(value, max_depth)
    return submission_from_value(value, challenge=challenge, domain=domain)


def parse_batch(raw: bytes, content_type: str | None, *, max_depth: int, limit: int) -> list[Any]:
    """Read a ``POST /v1/verify/batch`` body: ``{"credentials": [...]}`` or a bare array."""
    media = media_type(content_type)
    if not _JSON_MEDIA.match(media):
        raise UnsupportedMediaType(f"Send application/json, not {media!r}.")
    value = parse_json(raw)
    check_depth(value, max_depth + 2)
    items = value.get("credentials") if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise InvalidInput(
            'The body must be {"credentials": [...]} (or a JSON array).',
            errors=[{"pointer": "/credentials", "message": "must be an array"}],
        )
    if not items:
        raise InvalidInput(
            "The batch is empty.",
            errors=[{"pointer": "/credentials", "message": "at least one credential"}],
        )
    if len(items) > limit:
        raise InvalidInput(
            f"A batch holds at most {limit} credentials; this one has {len(items)}.",
            errors=[{"pointer": "/credentials", "message": f"at most {limit} items"}],
        )
    return items
