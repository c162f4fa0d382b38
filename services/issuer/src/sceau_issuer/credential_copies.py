"""Development aid: a file copy of every credential the issuer signs, for the conformance check.

Off unless ``ISSUER_CONFORMANCE_DIR`` names a folder (``scripts/test`` sets it for the whole test
session). Then, right after signing, each credential — issued singly, in a batch, or derived for a
share; never a status list — is written there as one JSON file::

    {"profile": "ob3-v2", "signedAt": "...", "keys": {"<verification method>": "<multibase>"},
     "suspension": false, "credential": <the signed credential, or the compact VC-JWT>}

``suspension`` says whether the institution had turned suspension on when the credential was
drafted (``null`` for a share's derived copy, which inherits its original's status entries): the
check allows the two-entry status array for those credentials only. ``keys`` names the public
key each verification method holds, so the checker can resolve did:web keys whose documents the
registry would serve (it may not run during a test). The file is written under a temporary name
and renamed, so a reader never sees half of one; writing happens in a thread, so the event loop
keeps serving.

``tests/conftest.py`` runs ``sceau_credentials.conformance`` over these files when the session
ends (see docs/credentials.md, "Conformance").
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3.constants import ENDORSEMENT_CREDENTIAL, OB_CREDENTIAL_TYPES
from sceau_credentials.ob3.fields import types_of

__all__ = ["Copy", "CredentialCopies", "is_credential"]

Signed = dict[str, Any] | str


@dataclass(frozen=True)
class Copy:
    """A signed credential, the key that signed it, its profile and the suspension opt-in."""

    document: Signed
    key: SigningKey | P256SigningKey
    profile: str
    suspension: bool | None


def is_credential(unsigned: dict[str, Any]) -> bool:
    """An Open Badges or endorsement credential (what is copied), not a status list."""
    return bool((OB_CREDENTIAL_TYPES | {ENDORSEMENT_CREDENTIAL}) & set(types_of(unsigned)))


class CredentialCopies:
    """Writes each signed credential into one folder (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    @classmethod
    def at(cls, folder: Path | None) -> CredentialCopies | None:
        """The copier for ``folder``, or ``None`` (the default: no copies)."""
        return cls(folder) if folder is not None else None

    async def keep(self, signed: Sequence[Copy]) -> None:
        """Write each signed credential as a file."""
        moment = datetime.now(UTC).isoformat()
        files = [
            {
                "profile": copy.profile,
                "signedAt": moment,
                "keys": {copy.key.verification_method: copy.key.public_key_multibase},
                "suspension": copy.suspension,
                "credential": copy.document,
            }
            for copy in signed
        ]
        await asyncio.to_thread(self._write, files)

    def _write(self, files: list[dict[str, Any]]) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        for content in files:
            name = uuid.uuid4().hex
            partial = self._folder / f".{name}.tmp"
            partial.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self._folder / f"{name}.json")
