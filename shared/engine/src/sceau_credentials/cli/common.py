"""Input and output helpers shared by the ``sceau credential`` and ``sceau did`` commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, TextIO

__all__ = [
    "EXIT_NOT_VERIFIED",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "UnusableInputError",
    "error",
    "load_document",
    "load_json_objects",
    "looks_like_jwt",
    "print_json",
]

EXIT_OK: Final = 0
"""Verified (``verify``), or done (``sign``, ``did create``)."""
EXIT_NOT_VERIFIED: Final = 1
EXIT_UNUSABLE: Final = 2


class UnusableInputError(Exception):
    """The input cannot be used at all (exit code 2); the message says why."""


def _read_text(name: str, stdin: TextIO) -> str:
    if name == "-":
        return stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UnusableInputError(f"cannot read {name!r}: {detail}") from exc


def looks_like_jwt(text: str) -> bool:
    """True for a compact JWS shape: three non-empty base64url segments."""
    parts = text.split(".")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return len(parts) == 3 and all(part and set(part) <= allowed for part in parts)


def load_document(name: str, stdin: TextIO = sys.stdin) -> dict[str, Any] | str:
    """Read a credential/presentation: a JSON object, or a compact JWT (VC-JWT) as a string.

    Raises:
        UnusableInputError: unreadable, empty, not JSON and not a JWT, or JSON but not an object.
    """
    text = _read_text(name, stdin).strip()
    if not text:
        raise UnusableInputError(f"{name!r} is empty")
    if looks_like_jwt(text):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnusableInputError(f"{name!r} is neither JSON nor a compact JWT: {exc}") from exc
    if isinstance(value, str) and looks_like_jwt(value.strip()):
        return value.strip()
    if not isinstance(value, dict):
        raise UnusableInputError(f"{name!r} must hold a JSON object, not {type(value).__name__}")
    return value


def load_json_objects(names: Sequence[str], what: str) -> list[dict[str, Any]]:
    """Read files that must each hold a JSON object (DID documents, status lists)."""
    documents = []
    for name in names:
        value = load_document(name)
        if not isinstance(value, dict):
            raise UnusableInputError(f"{name!r} must hold {what} (a JSON object)")
        documents.append(value)
    return documents


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def error(message: str) -> None:
    """Print an error for people on stderr."""
    sys.stderr.write(f"sceau: {message}\n")
