"""What a conformance check reports: a named finding with where (JSON pointer) and why (FR/EN).

Codes are stable strings (scripts and the test session group and allow findings by code); the
messages are for people and may change.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict

__all__ = ["Code", "Finding", "pointer", "under"]


class Code(StrEnum):
    """The checks of 1EdTech's OB 3.0 validator (its OB30Inspector pipeline), one code each."""

    UNREADABLE = "document.unreadable"
    CONTEXT = "context.order"
    TYPE = "type.missing"
    SUBJECT = "subject.invalid"
    SCHEMA = "schema.invalid"
    PROOF_MISSING = "proof.missing"
    PROOF_TYPE = "proof.type"
    PROOF_INVALID = "proof.invalid"
    JWT_ALGORITHM = "jwt.algorithm"
    KEY_UNRESOLVABLE = "key.unresolvable"
    NOT_YET_VALID = "dates.not-yet-valid"
    EXPIRED = "dates.expired"
    STATUS_TYPE = "status.type"
    STATUS_SUSPENSION = "status.suspension"
    STATUS_LIST_SIZE = "status.list-size"
    STATUS_LIST_UNAVAILABLE = "status.list-unavailable"
    ENDORSEMENT_TYPE = "endorsement.type"


class Finding(BaseModel):
    """One way a credential departs from what 1EdTech's validator accepts.

    Attributes:
        code: which check (see :class:`Code`).
        pointer: RFC 6901 JSON pointer into the credential (``""`` is the whole document); for
            a VC-JWT, into the credential its payload carries.
        message_fr: the reason, in French.
        message_en: the reason, in English.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    pointer: str
    message_fr: str
    message_en: str

    def message(self, lang: str = "en") -> str:
        """The reason in ``lang`` (``fr`` or ``en``)."""
        return self.message_fr if lang == "fr" else self.message_en

    def __str__(self) -> str:
        return f"[{self.code}] {self.pointer or '/'}: {self.message_en}"


_PART: Final = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(path: str) -> str:
    """Turn the engine's dotted problem path (``a.b[0].c``) into a JSON pointer (``/a/b/0/c``)."""
    tokens = [name or index for name, index in _PART.findall(path)]
    return "".join("/" + _escape(token) for token in tokens)


def under(prefix: str, finding: Finding) -> Finding:
    """The same finding, located inside the node at ``prefix`` (an embedded endorsement)."""
    return finding.model_copy(update={"pointer": prefix + finding.pointer})
