"""Context URLs, type names and profile names used when building credentials and status lists.

The profile names are the values of ``sceau_credentials.engine.Profile`` (a
``StrEnum``), so either that enum or the plain strings can be passed wherever a profile is asked
for.
"""

from __future__ import annotations

from typing import Any, Final

# --- Profiles (same values as engine.Profile) -------------------------------------------
PROFILE_OB3_V2: Final = "ob3-v2"
PROFILE_OB3_V1: Final = "ob3-v1"
PROFILE_JWT: Final = "jwt"
PROFILES: Final = frozenset({PROFILE_OB3_V2, PROFILE_OB3_V1, PROFILE_JWT})
#: Profiles whose content is VC Data Model 2.0 + OB 3.0.3 (``validFrom``, Bitstring Status List):
#: ``ob3-v2`` (Data Integrity proof) and ``jwt`` (VC-JOSE-COSE; VCDM 1.1 before 2026-12).
VCDM_2_0_PROFILES: Final = frozenset({PROFILE_OB3_V2, PROFILE_JWT})
#: Profiles that use the VC Data Model 1.1 (``issuanceDate``, StatusList2021).
VCDM_1_1_PROFILES: Final = frozenset({PROFILE_OB3_V1})

# --- Context URLs (all bundled in credentials/contexts/, never fetched) ------------------------
VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT: Final = "https://www.w3.org/2018/credentials/v1"
#: Open Badges 3.0.3 context, used with VCDM 2.0 (the OB JSON Schema requires it second).
OB_V3P0_3_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: The original OB 3.0 ``context.json``, used with VCDM 1.1 (what LCW-era verifiers expect).
OB_V3P0_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
ED25519_2020_CONTEXT: Final = "https://w3id.org/security/suites/ed25519-2020/v1"
STATUS_LIST_2021_CONTEXT: Final = "https://w3id.org/vc/status-list/2021/v1"

#: schema.org IRI of ``inLanguage``, the term OB 3.0.3 defines but the OB 3.0.0 ``context.json``
#: lacks. VCDM 1.1 credentials add this one inline term definition so that ``inLanguage`` keeps
#: the same meaning in both profiles (see docs/credentials.md, "Both languages").
SCHEMA_IN_LANGUAGE: Final = "https://schema.org/inLanguage"

#: Sceau's inline extension context: micro-credential metadata that Open Badges 3.0 has no field
#: for (see docs/credentials.md, "Micro-credential metadata"). Inline, so no verifier ever needs
#: to fetch it; schema.org terms where schema.org has one, Sceau's vocabulary otherwise.
SCEAU_VOCAB: Final = "https://sceau.dev/vocab#"
EXTENSION_CONTEXT: Final[dict[str, Any]] = {
    "timeRequired": {"@id": "https://schema.org/timeRequired"},
    "courseMode": {"@id": "https://schema.org/courseMode"},
    "recognizedBy": {"@id": "https://schema.org/recognizedBy"},
    "assessmentMethod": {"@id": SCEAU_VOCAB + "assessmentMethod"},
    "pacing": {"@id": SCEAU_VOCAB + "pacing"},
    "appliedLearning": {"@id": SCEAU_VOCAB + "appliedLearning"},
    "instructionLanguage": {"@id": SCEAU_VOCAB + "instructionLanguage"},
}
# --- Types --------------------------------------------------------------------------------------
VERIFIABLE_CREDENTIAL: Final = "VerifiableCredential"
VERIFIABLE_PRESENTATION: Final = "VerifiablePresentation"
OPEN_BADGE_CREDENTIAL: Final = "OpenBadgeCredential"
ACHIEVEMENT_CREDENTIAL: Final = "AchievementCredential"
ENDORSEMENT_CREDENTIAL: Final = "EndorsementCredential"
OB_CREDENTIAL_TYPES: Final = frozenset({OPEN_BADGE_CREDENTIAL, ACHIEVEMENT_CREDENTIAL})

BITSTRING_STATUS_LIST_ENTRY: Final = "BitstringStatusListEntry"
BITSTRING_STATUS_LIST_CREDENTIAL: Final = "BitstringStatusListCredential"
BITSTRING_STATUS_LIST: Final = "BitstringStatusList"
STATUS_LIST_2021_ENTRY: Final = "StatusList2021Entry"
STATUS_LIST_2021_CREDENTIAL: Final = "StatusList2021Credential"
STATUS_LIST_2021: Final = "StatusList2021"

#: ``credentialSchema`` entry pointing at 1EdTech's AchievementCredential JSON Schema.
OB_SCHEMA_ID: Final = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
OB_SCHEMA_TYPE: Final = "1EdTechJsonSchemaValidator2019"


def contexts_for(
    profile: str, *, with_status: bool, with_extensions: bool
) -> list[str | dict[str, Any]]:
    """Return the ``@context`` array a credential of ``profile`` carries.

    Args:
        profile: ``ob3-v2``, ``ob3-v1`` or ``jwt``.
        with_status: whether the credential has a StatusList2021 entry (VCDM 1.1 profiles need
            the StatusList2021 context for it; VCDM 2.0 defines BitstringStatusListEntry itself).
        with_extensions: whether the credential uses a term of :data:`EXTENSION_CONTEXT`.
    """
    if profile in VCDM_2_0_PROFILES:
        v2: list[str | dict[str, Any]] = [VC_V2_CONTEXT, OB_V3P0_3_CONTEXT]
        if with_extensions:
            v2.append(dict(EXTENSION_CONTEXT))
        return v2
    if profile not in VCDM_1_1_PROFILES:
        raise ValueError(
            f"unknown credential profile {profile!r}; expected one of {sorted(PROFILES)}"
        )
    contexts: list[str | dict[str, Any]] = [VC_V1_CONTEXT, OB_V3P0_CONTEXT]
    contexts.append(ED25519_2020_CONTEXT)
    if with_status:
        contexts.append(STATUS_LIST_2021_CONTEXT)
    inline: dict[str, Any] = {"inLanguage": {"@id": SCHEMA_IN_LANGUAGE}}
    if with_extensions:
        inline.update(EXTENSION_CONTEXT)
    contexts.append(inline)
    return contexts
