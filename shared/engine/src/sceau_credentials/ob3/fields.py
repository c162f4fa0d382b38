"""Tolerant readers for credential fields, shared by validation, status checking and verification.

Verification reads documents from anyone, so these helpers never raise on odd shapes: they return
``None`` or an empty tuple, and the caller decides whether that is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "as_list",
    "did_of",
    "first_mapping",
    "id_of",
    "parse_datetime",
    "types_of",
]

# xsd:dateTime / RFC 3339 with an optional fraction; the zone is optional in xsd, and a date
# without a zone is read as UTC (VCDM 2.0 says dateTimeStamp, i.e. zone required, but 1.1
# credentials in the wild omit it).
_DATETIME: Final = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?P<frac>\.\d+)?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})?$"
)


def parse_datetime(value: object) -> datetime | None:
    """Parse an xsd:dateTime string into an aware UTC datetime, or ``None`` if malformed."""
    if not isinstance(value, str):
        return None
    match = _DATETIME.match(value.strip())
    if match is None:
        return None
    fraction = (match["frac"] or "")[:7]  # microseconds at most
    zone = match["zone"] or "Z"
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def as_list(value: object) -> list[Any]:
    """Return ``value`` as a list (JSON-LD lets single values stand for one-element arrays)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def types_of(node: object) -> tuple[str, ...]:
    """Return the string ``type`` values of a node (empty if absent or malformed)."""
    if not isinstance(node, Mapping):
        return ()
    return tuple(t for t in as_list(node.get("type")) if isinstance(t, str))


def id_of(value: object) -> str | None:
    """Return the id of a node given either as a string or as an object with ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def did_of(did_url: str | None) -> str | None:
    """Strip the fragment from a DID URL (``did:key:z6M…#z6M…`` -> ``did:key:z6M…``)."""
    if did_url is None:
        return None
    return did_url.split("#", 1)[0]


def first_mapping(value: object) -> Mapping[str, Any] | None:
    """Return ``value`` if it is an object, or the first object of an array, else ``None``."""
    for item in as_list(value):
        if isinstance(item, Mapping):
            return item
    return None
