"""What PNG and SVG baking share: the payload forms and their parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["BakedCredential", "BakingError", "parse_payload", "serialize_payload"]

BakedCredential = dict[str, Any] | str
"""A JSON credential (embedded proof) or a compact VC-JWT."""

_COMPACT_JWS: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class BakingError(ValueError):
    """The image cannot be baked, or holds no (or a malformed) baked credential."""


def serialize_payload(credential: Mapping[str, Any] | str) -> str:
    """Return the text that goes into the image: the JWT itself or the credential as JSON.

    Raises:
        BakingError: a string that is not a compact JWS, or something else than an object.
    """
    if isinstance(credential, str):
        token = credential.strip()
        if not _COMPACT_JWS.match(token):
            raise BakingError("a credential given as text must be a compact JWS (VC-JWT)")
        return token
    if not isinstance(credential, Mapping):
        raise BakingError("a credential is a JSON object or a compact VC-JWT")
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))


def parse_payload(text: str, where: str) -> BakedCredential:
    """Turn the baked text back into a JSON credential or a compact JWS.

    Raises:
        BakingError: the text is neither.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise BakingError(f"the {where} holds malformed JSON: {exc}") from exc
        except (RecursionError, ValueError) as exc:  # absurd nesting, huge integers
            raise BakingError(f"the {where} JSON cannot be read: {type(exc).__name__}") from exc
        if not isinstance(value, dict):
            raise BakingError(f"the {where} JSON is not an object")
        return value
    if _COMPACT_JWS.match(stripped):
        return stripped
    raise BakingError(f"the {where} holds neither a JSON credential nor a compact JWS")
