"""Structure checks for credentials: the gate before signing, and the verifier's structure step.

:func:`validate_for_signing` refuses a credential with **every** problem listed (path + message),
so an issuer fixing an achievement sees all that is wrong at once, and nothing invalid is ever
signed. It runs two layers:

1. :func:`structure_problems` — Sceau's reading of the VC Data Model and of OB 3.0's required
   fields (for both data models), plus the Bitstring/StatusList2021 entry shape;
2. :func:`schema_problems` — for VCDM 2.0 credentials, 1EdTech's official JSON Schema (copied
   into ``ob3/schema/``), with ``date-time`` formats checked strictly.

The JSON Schema runs twice as often as anything else in Sceau (before every signature, on every
verification), and the pure-Python validator costs about 0.7 ms per credential, more than a
third of an Ed25519 signature. Valid documents — nearly all of them — are therefore accepted by
``jsonschema-rs`` (compiled, ~100 times faster) with the same schema and the same format rules;
only a document it rejects goes through the Python validator, whose messages and paths are the
ones Sceau reports. A test checks that both agree on valid and invalid documents.

The verifier uses layer 1 as its structure check and reports layer 2 as warnings: a third-party
credential that is cryptographically sound but strays from the schema is shown, not discarded.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft201909Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from pydantic import BaseModel, ConfigDict

from sceau_credentials.ob3.constants import (
    ENDORSEMENT_CREDENTIAL,
    OB_CREDENTIAL_TYPES,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
    VERIFIABLE_CREDENTIAL,
    VERIFIABLE_PRESENTATION,
)
from sceau_credentials.ob3.fields import as_list, id_of, parse_datetime, types_of
from sceau_credentials.ob3.models import (
    ACHIEVEMENT_TYPES,
    ALIGNMENT_TARGET_TYPES,
    LANGUAGE_PATTERN,
    is_uri,
)
from sceau_credentials.status.entries import parse_status_entries
from sceau_credentials.status.errors import StatusMalformedError

__all__ = [
    "CredentialValidationError",
    "Problem",
    "data_model",
    "presentation_problems",
    "schema_problems",
    "structure_problems",
    "validate_for_signing",
]

_OB_CONTEXT: Final = re.compile(
    r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$"
)
_LANG: Final = re.compile(LANGUAGE_PATTERN)
_EXT: Final = re.compile(r"^ext:[A-Za-z0-9.\-_]+$")
_HASH: Final = re.compile(r"^(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})$")
_STRICT_DATETIME: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_MAX_MESSAGE: Final = 240


class Problem(BaseModel):
    """One thing wrong with a credential: where (dotted path) and what."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(document)'}: {self.message}"


class CredentialValidationError(ValueError):
    """The credential must not be signed; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(
            f"credential is not valid for signing ({len(self.problems)} problem(s)): {listed}"
        )


class _Collector:
    """Accumulates problems while walking a document."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path=path, message=message))

    def text(self, node: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
        value = node.get(key)
        if value is None:
            if required:
                self.add(_join(path, key), "is required")
        elif not isinstance(value, str) or not value.strip():
            self.add(_join(path, key), "must be a non-empty string")

    def uri(self, node: Mapping[str, Any], key: str, path: str, *, required: bool) -> None:
        value = node.get(key)
        if value is None:
            if required:
                self.add(_join(path, key), "is required")
        elif not isinstance(value, str) or not is_uri(value):
            self.add(_join(path, key), "must be an absolute URI")

    def has_type(self, node: Mapping[str, Any], wanted: str, path: str) -> None:
        if wanted not in types_of(node):
            self.add(_join(path, "type"), f"must include {wanted!r}")

    def mapping(self, node: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
        value = node.get(key)
        if value is None:
            self.add(_join(path, key), "is required")
            return None
        if not isinstance(value, Mapping):
            self.add(_join(path, key), "must be an object")
            return None
        return value


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _objects(
    col: _Collector, node: Mapping[str, Any], key: str, path: str
) -> list[tuple[str, Mapping[str, Any]]]:
    value = node.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        col.add(_join(path, key), "must be an array")
        return []
    found = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            found.append((_join(_join(path, key), i), item))
        else:
            col.add(_join(_join(path, key), i), "must be an object")
    return found


def data_model(document: Mapping[str, Any]) -> str | None:
    """``"2.0"`` or ``"1.1"`` from the first ``@context`` entry, else ``None``."""
    first = next(iter(as_list(document.get("@context"))), None)
    return (
        {VC_V2_CONTEXT: "2.0", VC_V1_CONTEXT: "1.1"}.get(first) if isinstance(first, str) else None
    )


def structure_problems(document: object, *, require_ob: bool = False) -> list[Problem]:
    """Check a credential's envelope and, for Open Badges credentials, OB 3.0's required fields.

    Args:
        document: the credential.
        require_ob: apply the Open Badges checks whatever the ``type`` says (signing does);
            otherwise non-OB credentials (status lists, the W3C test vectors) get the VC Data
            Model checks only.

    Never raises.
    """
    col = _Collector()
    if not isinstance(document, Mapping):
        col.add("", "a credential must be a JSON object")
        return col.problems
    model = _check_envelope(col, document)
    types = types_of(document)
    if require_ob or OB_CREDENTIAL_TYPES & set(types):
        _check_ob_credential(col, document, model)
    elif ENDORSEMENT_CREDENTIAL in types:
        subject = col.mapping(document, "credentialSubject", "")
        if subject is not None:
            col.has_type(subject, "EndorsementSubject", "credentialSubject")
            col.uri(subject, "id", "credentialSubject", required=True)
    return col.problems


def presentation_problems(document: object) -> list[Problem]:
    """Check a VerifiablePresentation's envelope (its credentials are checked one by one)."""
    col = _Collector()
    if not isinstance(document, Mapping):
        col.add("", "a presentation must be a JSON object")
        return col.problems
    if document.get("@context") is None:
        col.add("@context", "is required")
    elif data_model(document) is None:
        col.add("@context[0]", f"must be {VC_V2_CONTEXT!r} or {VC_V1_CONTEXT!r}")
    if VERIFIABLE_PRESENTATION not in types_of(document):
        col.add("type", "must include 'VerifiablePresentation'")
    if "id" in document:
        col.uri(document, "id", "", required=False)
    if "holder" in document and (
        id_of(document["holder"]) is None or not is_uri(str(id_of(document["holder"])))
    ):
        col.add("holder", "must be an absolute URI")
    for i, item in enumerate(as_list(document.get("verifiableCredential"))):
        if not isinstance(item, Mapping | str):
            col.add(f"verifiableCredential[{i}]", "must be a credential object or a VC-JWT")
    proof = document.get("proof")
    if proof is not None and not all(isinstance(p, Mapping) for p in as_list(proof)):
        col.add("proof", "must be an object or an array of objects")
    return col.problems


def _check_envelope(col: _Collector, document: Mapping[str, Any]) -> str | None:
    contexts = document.get("@context")
    model = data_model(document)
    if contexts is None:
        col.add("@context", "is required")
    elif model is None:
        col.add(
            "@context[0]", f"must be {VC_V2_CONTEXT!r} (VCDM 2.0) or {VC_V1_CONTEXT!r} (VCDM 1.1)"
        )
    for i, context in enumerate(as_list(contexts)):
        if not isinstance(context, str | Mapping):
            col.add(f"@context[{i}]", "must be a URL or an object")
    if VERIFIABLE_CREDENTIAL not in types_of(document):
        col.add("type", "must include 'VerifiableCredential'")
    if "id" in document:
        col.uri(document, "id", "", required=False)
    issuer = document.get("issuer")
    if issuer is None:
        col.add("issuer", "is required")
    elif id_of(issuer) is None or not is_uri(str(id_of(issuer))):
        col.add("issuer" if isinstance(issuer, str) else "issuer.id", "must be an absolute URI")
    start_key, end_key = (
        ("validFrom", "validUntil") if model != "1.1" else ("issuanceDate", "expirationDate")
    )
    if model == "1.1" and document.get("issuanceDate") is None:
        col.add("issuanceDate", "is required by the VC Data Model 1.1")
    for key in (start_key, end_key):
        if document.get(key) is not None and parse_datetime(document.get(key)) is None:
            col.add(key, "must be an xsd:dateTime such as 2025-01-31T12:00:00Z")
    start, end = parse_datetime(document.get(start_key)), parse_datetime(document.get(end_key))
    if start is not None and end is not None and end <= start:
        col.add(end_key, f"must be later than {start_key}")
    subjects = as_list(document.get("credentialSubject"))
    if not subjects:
        col.add("credentialSubject", "is required")
    elif not all(isinstance(s, Mapping) for s in subjects):
        col.add("credentialSubject", "must be an object (or an array of objects)")
    if "credentialStatus" in document:
        try:
            parse_status_entries(document["credentialStatus"])
        except StatusMalformedError as exc:
            col.add("credentialStatus", exc.message)
    proof = document.get("proof")
    if proof is not None and not all(isinstance(p, Mapping) for p in as_list(proof)):
        col.add("proof", "must be an object or an array of objects")
    return model


def _check_ob_credential(col: _Collector, document: Mapping[str, Any], model: str | None) -> None:
    contexts = as_list(document.get("@context"))
    ob_contexts = [c for c in contexts if isinstance(c, str) and _OB_CONTEXT.match(c)]
    if model == "2.0" and (
        len(contexts) < 2 or not isinstance(contexts[1], str) or not _OB_CONTEXT.match(contexts[1])
    ):
        col.add("@context[1]", "must be the Open Badges 3.0 context (…/ob/v3p0/context-3.x.y.json)")
    elif not ob_contexts:
        col.add("@context", "must include the Open Badges 3.0 context")
    col.uri(document, "id", "", required=True)
    if model == "2.0" and document.get("validFrom") is None:
        col.add("validFrom", "is required by Open Badges 3.0")
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        col.has_type(issuer, "Profile", "issuer")
        if issuer.get("name") is not None:
            col.text(issuer, "name", "issuer", required=False)
    if "name" in document:
        col.text(document, "name", "", required=False)
    subject = col.mapping(document, "credentialSubject", "")
    if subject is None:
        return
    path = "credentialSubject"
    col.has_type(subject, "AchievementSubject", path)
    identifiers = _objects(col, subject, "identifier", path)
    if subject.get("id") is None and not identifiers:
        col.add(path, "needs an 'id' or at least one 'identifier'")
    if subject.get("id") is not None:
        col.uri(subject, "id", path, required=True)
    for ipath, identity in identifiers:
        _check_identity(col, identity, ipath)
    for rpath, result in _objects(col, subject, "result", path):
        col.has_type(result, "Result", rpath)
    achievement = col.mapping(subject, "achievement", path)
    if achievement is not None:
        _check_achievement(col, achievement, f"{path}.achievement")
    for epath, evidence in _objects(col, document, "evidence", ""):
        col.has_type(evidence, "Evidence", epath)


def _check_identity(col: _Collector, identity: Mapping[str, Any], path: str) -> None:
    if identity.get("type") != "IdentityObject":
        col.add(_join(path, "type"), "must be 'IdentityObject'")
    if not isinstance(identity.get("hashed"), bool):
        col.add(_join(path, "hashed"), "must be true or false")
    col.text(identity, "identityHash", path, required=True)
    col.text(identity, "identityType", path, required=True)
    if identity.get("hashed") is True:
        digest = identity.get("identityHash")
        if isinstance(digest, str) and not _HASH.match(digest):
            col.add(
                _join(path, "identityHash"), "a hashed identity must look like 'sha256$<64 hex>'"
            )
        if not isinstance(identity.get("salt"), str):
            col.add(_join(path, "salt"), "is required when the identity is hashed")


def _check_alignment(col: _Collector, alignment: Mapping[str, Any], path: str) -> None:
    col.has_type(alignment, "Alignment", path)
    col.text(alignment, "targetName", path, required=True)
    col.uri(alignment, "targetUrl", path, required=True)
    target_type = alignment.get("targetType")
    if target_type is not None and (
        not isinstance(target_type, str)
        or (target_type not in ALIGNMENT_TARGET_TYPES and not _EXT.match(target_type))
    ):
        col.add(_join(path, "targetType"), "must be an OB 3.0 alignment target type or 'ext:…'")


def _check_achievement(col: _Collector, achievement: Mapping[str, Any], path: str) -> None:
    col.uri(achievement, "id", path, required=True)
    col.has_type(achievement, "Achievement", path)
    col.text(achievement, "name", path, required=True)
    col.text(achievement, "description", path, required=True)
    criteria = col.mapping(achievement, "criteria", path)
    if criteria is not None and criteria.get("id") is None and criteria.get("narrative") is None:
        col.add(_join(path, "criteria"), "needs a 'narrative' or an 'id' (a page describing them)")
    kind = achievement.get("achievementType")
    if kind is not None and (
        not isinstance(kind, str) or (kind not in ACHIEVEMENT_TYPES and not _EXT.match(kind))
    ):
        col.add(_join(path, "achievementType"), "must be an OB 3.0 achievement type or 'ext:…'")
    language = achievement.get("inLanguage")
    if language is not None and (not isinstance(language, str) or not _LANG.match(language)):
        col.add(_join(path, "inLanguage"), "must be a language tag such as 'fr' or 'en-CA'")
    for apath, alignment in _objects(col, achievement, "alignment", path):
        _check_alignment(col, alignment, apath)
    image = achievement.get("image")
    if image is not None:
        if not isinstance(image, Mapping) or image.get("type") != "Image":
            col.add(_join(path, "image"), "must be an Image object ({'id': ..., 'type': 'Image'})")
        else:
            col.uri(image, "id", _join(path, "image"), required=True)
    for dpath, description in _objects(col, achievement, "resultDescription", path):
        col.has_type(description, "ResultDescription", dpath)
        col.uri(description, "id", dpath, required=True)
        col.text(description, "name", dpath, required=True)
        col.text(description, "resultType", dpath, required=True)
    for rpath, related in _objects(col, achievement, "related", path):
        col.has_type(related, "Related", rpath)
        col.uri(related, "id", rpath, required=True)
        rel_language = related.get("inLanguage")
        if rel_language is not None and (
            not isinstance(rel_language, str) or not _LANG.match(rel_language)
        ):
            col.add(_join(rpath, "inLanguage"), "must be a language tag such as 'fr' or 'en-CA'")
        for apath, alignment in _objects(col, related, "alignment", rpath):
            _check_alignment(col, alignment, apath)


@functools.cache
def _schema() -> dict[str, Any]:
    text = (
        resources.files("sceau_credentials.ob3")
        .joinpath("schema/ob_v3p0_achievementcredential_schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time")
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or (
            bool(_STRICT_DATETIME.match(value)) and parse_datetime(value) is not None
        )

    return checker


@functools.cache
def _validator() -> Draft201909Validator:
    return Draft201909Validator(_schema(), format_checker=_format_checker())


@functools.cache
def _status_validator() -> Draft201909Validator:
    return Draft201909Validator(_schema()["$defs"]["CredentialStatus"])


def _fast(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """Compile ``schema`` with the same format rules as the Python validator."""
    checker = _format_checker()
    formats: dict[str, Callable[..., bool]] = {
        name: functools.partial(checker.conforms, format=name) for name in ("date", "date-time")
    }
    return jsonschema_rs.Draft201909Validator(schema, validate_formats=True, formats=formats)


@functools.cache
def _fast_validator() -> jsonschema_rs.Validator:
    return _fast(_schema())


@functools.cache
def _fast_status_validator() -> jsonschema_rs.Validator:
    return _fast(_schema()["$defs"]["CredentialStatus"])


def _schema_path(error: ValidationError) -> str:
    path = ""
    for part in error.absolute_path:
        path = _join(path, part)
    return path


def _message(error: ValidationError) -> str:
    if error.context:
        error = best_match(error.context) or error
    message = error.message
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def schema_problems(document: object, *, allow_status_array: bool = False) -> list[Problem]:
    """Validate against 1EdTech's OB 3.0 AchievementCredential JSON Schema (VCDM 2.0).

    Args:
        document: the credential.
        allow_status_array: validate each ``credentialStatus`` entry against the schema's
            CredentialStatus definition instead of rejecting an array (the schema, like OB 3.0,
            allows only one entry; see docs/credentials.md, "Status entries").
    """
    if not isinstance(document, Mapping):
        return [Problem(path="", message="a credential must be a JSON object")]
    candidate = dict(document)
    extra: list[Problem] = []
    status = candidate.get("credentialStatus")
    if isinstance(status, list):
        del candidate["credentialStatus"]
        if not allow_status_array:
            extra.append(
                Problem(
                    path="credentialStatus",
                    message="Open Badges 3.0 allows a single status entry (an object), not an "
                    "array (1EdTech openbadges-specification#623)",
                )
            )
        for i, entry in enumerate(status if allow_status_array else []):
            if _fast_status_validator().is_valid(entry):
                continue
            for error in _status_validator().iter_errors(entry):
                sub = _schema_path(error)
                extra.append(
                    Problem(
                        path=f"credentialStatus[{i}]" + (f".{sub}" if sub else ""),
                        message=_message(error),
                    )
                )
    problems = (
        []
        if _fast_validator().is_valid(candidate)
        else [
            Problem(path=_schema_path(error), message=_message(error))
            for error in _validator().iter_errors(candidate)
        ]
    )
    return sorted(problems + extra, key=lambda p: p.path)


_REQUIRED: Final = re.compile(r"^'(?P<name>[^']+)' is a required property$")


def _required_path(problem: Problem) -> str | None:
    """For a schema "'x' is a required property" problem, the path of ``x`` (to deduplicate)."""
    match = _REQUIRED.match(problem.message)
    return _join(problem.path, match["name"]) if match else None


def validate_for_signing(
    credential: Mapping[str, Any], *, allow_status_array: bool = False
) -> None:
    """Refuse to sign a credential that is not a valid Open Badges 3.0 credential.

    Checks the OB 3.0 required fields and structure for either data model and, for VCDM 2.0
    (``ob3-v2``), 1EdTech's JSON Schema. Several ``credentialStatus`` entries are refused: OB 3.0
    allows one, and didkit cannot sign an array in VCDM 1.1.

    Args:
        credential: the unsigned credential.
        allow_status_array: the one named relaxation, for VCDM 2.0 only: accept a
            ``credentialStatus`` array (each entry still checked against the schema's
            CredentialStatus). Callers pass it only for a credential that must carry several
            entries by choice (an institution that turned suspension on); the signed credential
            then fails 1EdTech's schema, as docs/credentials.md ("Status entries") says. Never
            on by default.

    Raises:
        CredentialValidationError: listing every problem found, each with its path.
    """
    problems = structure_problems(credential, require_ob=True)
    if isinstance(credential, Mapping):
        types = set(types_of(credential))
        if not OB_CREDENTIAL_TYPES & types:
            problems.append(
                Problem(
                    path="type",
                    message="must include 'OpenBadgeCredential' or 'AchievementCredential'",
                )
            )
        if data_model(credential) == "1.1" and isinstance(credential.get("credentialStatus"), list):
            problems.append(
                Problem(
                    path="credentialStatus",
                    message="VC Data Model 1.1 profiles carry a single status entry (didkit, "
                    "which signs them, refuses an array)",
                )
            )
        if data_model(credential) == "2.0":
            seen = {p.path for p in problems}
            problems += [
                p
                for p in schema_problems(credential, allow_status_array=allow_status_array)
                if p.path not in seen and _required_path(p) not in seen
            ]
    if problems:
        raise CredentialValidationError(problems)
