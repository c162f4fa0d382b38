"""Check the credentials an issuer copied into ``ISSUER_CONFORMANCE_DIR`` against 1EdTech's rules.

The issuer (``sceau_issuer.credential_copies``) writes one JSON file per credential it signs:
the credential, its profile, when it was signed and the public key of the verification method.
:func:`check_copies` runs :func:`sceau_credentials.conformance.inspect_credential` over each:

* at the moment it was signed (a credential valid for one minute was valid when issued; that is
  what conformance means here, not whether it still is when the test session ends);
* did:key keys resolved offline, did:web keys from the keys the issuer recorded (the registry that
  would serve the DID documents need not run; its documents are tested on their own);
* signatures verified; status list sizes not fetched (the lists are tested on their own: the
  allocator never makes one shorter than 131,072 entries).

:class:`CopiesReport` then applies the policy: every credential of the OB 3.0.3 profiles
(``ob3-v2``, the default, and ``jwt``, VC-JOSE-COSE since 2026-12) must conform, except that an
institution may have turned suspension on (the issuer records it beside the credential), which
costs exactly the :attr:`~sceau_credentials.conformance.Code.STATUS_SUSPENSION` finding, and a
``jwt`` credential signed EdDSA (a did:key institution, which has no P-256 key, or a did:web one
that chose ``jwt_algorithm`` EdDSA) costs exactly
:attr:`~sceau_credentials.conformance.Code.JWT_ALGORITHM`. The VC Data Model 1.1 profile
(``ob3-v1``), which an institution must choose explicitly, is outside OB 3.0.3 certification by
construction; its findings are counted, not enforced.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sceau_credentials.conformance import Code, Finding, inspect_credential, offline_resolver
from sceau_credentials.dids import PublishedKey, StaticResolver, institution_did_document
from sceau_credentials.dids.documents import ED25519_2020_SUFFIX

__all__ = [
    "ALLOWED_BY_OPT_IN",
    "ALLOWED_FOR_EDDSA_JWT",
    "ENFORCED_PROFILE",
    "ENFORCED_PROFILES",
    "CheckedCopy",
    "CopiesReport",
    "check_copies",
]

ENFORCED_PROFILE: Final = "ob3-v2"
"""The default profile: its credentials must conform."""
ENFORCED_PROFILES: Final = frozenset({ENFORCED_PROFILE, "jwt"})
"""The OB 3.0.3 (VC Data Model 2.0) profiles: their credentials must conform."""
ALLOWED_BY_OPT_IN: Final = frozenset({Code.STATUS_SUSPENSION})
"""What an institution's own choice (suspension) may cost a default credential, and no more."""
ALLOWED_FOR_EDDSA_JWT: Final = frozenset({Code.JWT_ALGORITHM})
"""What an EdDSA ``jwt`` credential costs (did:key institution, or EdDSA chosen)."""


@dataclass(frozen=True)
class CheckedCopy:
    """One copied credential and what the conformance check found."""

    file: Path
    profile: str
    findings: tuple[Finding, ...]
    suspension: bool | None = False
    """The institution had turned suspension on (``None``: a share's derived copy, which
    inherits the status entries its original was checked with)."""

    @property
    def violations(self) -> tuple[Finding, ...]:
        """Findings the policy does not allow (only the OB 3.0.3 profiles are enforced)."""
        if self.profile not in ENFORCED_PROFILES:
            return ()
        allowed = ALLOWED_BY_OPT_IN if self.suspension is not False else frozenset()
        if self.profile == "jwt":
            allowed = allowed | ALLOWED_FOR_EDDSA_JWT
        return tuple(f for f in self.findings if f.code not in allowed)


@dataclass
class CopiesReport:
    """Every copied credential, checked; the policy's verdict and a readable summary."""

    checked: list[CheckedCopy] = field(default_factory=list)

    @property
    def failing(self) -> list[CheckedCopy]:
        """Default-profile credentials with a finding beyond the suspension opt-in."""
        return [copy for copy in self.checked if copy.violations]

    def summary(self, *, examples: int = 3) -> list[str]:
        """Lines for people: counts per profile, then failing credentials grouped by finding."""
        by_profile = Counter(copy.profile for copy in self.checked)
        conformant = Counter(copy.profile for copy in self.checked if not copy.findings)
        suspension = sum(
            1
            for copy in self.checked
            if copy.findings and not copy.violations and copy.profile in ENFORCED_PROFILES
        )
        lines = [
            f"{len(self.checked)} credential(s) signed during the session; "
            + ", ".join(
                f"{profile}: {conformant[profile]}/{count} conform"
                for profile, count in sorted(by_profile.items())
            ),
        ]
        if suspension:
            lines.append(
                f"{suspension} carry only the finding their institution's suspension opt-in "
                f"costs ({Code.STATUS_SUSPENSION}; shares' derived copies included) or an EdDSA "
                f"jwt costs ({Code.JWT_ALGORITHM})"
            )
        lines += _grouped("not conformant (enforced)", self.failing, examples)
        informative = [c for c in self.checked if c.profile not in ENFORCED_PROFILES and c.findings]
        lines += _grouped("VC Data Model 1.1 profile (not enforced)", informative, examples)
        return lines


def _grouped(title: str, copies: list[CheckedCopy], examples: int) -> list[str]:
    if not copies:
        return []
    groups: dict[tuple[Code, str], list[CheckedCopy]] = defaultdict(list)
    for copy in copies:
        for finding in copy.violations or copy.findings:
            groups[(finding.code, finding.pointer)].append(copy)
    lines = [f"{title}: {len(copies)} credential(s)"]
    for (code, where), members in sorted(groups.items(), key=lambda item: -len(item[1])):
        sample = next(f for f in members[0].findings if (f.code, f.pointer) == (code, where))
        files = ", ".join(m.file.name for m in members[:examples])
        lines.append(f"  [{code}] {where or '/'} x{len(members)}: {sample.message_en}")
        lines.append(f"      e.g. {files}")
    return lines


def _resolver_documents(copies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """did:web DID documents rebuilt from the keys the issuer recorded."""
    keys: dict[str, dict[str, str]] = defaultdict(dict)
    for copy in copies:
        for method, multibase in dict(copy.get("keys") or {}).items():
            did, _, fragment = str(method).partition("#")
            if did.startswith("did:web:") and fragment:
                keys[did][fragment.removesuffix(ED25519_2020_SUFFIX)] = str(multibase)
    return [
        institution_did_document(did, [PublishedKey(f, m) for f, m in sorted(found.items())])
        for did, found in keys.items()
    ]


def _read(folder: Path, since: datetime | None) -> list[tuple[Path, dict[str, Any]]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(content, dict) or "credential" not in content:
            continue
        if since is not None and _signed_at(content) < since:
            continue  # left by an earlier session in the same folder
        found.append((path, content))
    return found


def _signed_at(content: dict[str, Any]) -> datetime:
    try:
        moment = datetime.fromisoformat(str(content.get("signedAt")))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def check_copies(folder: Path, *, since: datetime | None = None) -> CopiesReport:
    """Inspect every credential copied into ``folder`` (signed at or after ``since``)."""
    report = CopiesReport()
    copies = _read(folder, since)
    resolver = offline_resolver(StaticResolver(_resolver_documents(c for _, c in copies)))
    for path, content in copies:
        findings = await inspect_credential(
            content["credential"], resolver=resolver, now=_signed_at(content)
        )
        suspension = content.get("suspension", False)
        report.checked.append(
            CheckedCopy(
                path,
                str(content.get("profile")),
                tuple(findings),
                suspension if isinstance(suspension, bool) else None,
            )
        )
    return report
