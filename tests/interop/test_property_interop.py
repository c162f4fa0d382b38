"""Property-based interop with the Digital Bazaar stack: any content, every profile, both ways.

Hypothesis writes the text of an Open Badges credential (achievement name, description,
criteria and tags, the issuer's name, a chain of parent organisations up to eight deep, one
optional long text) from all of Unicode that I-JSON allows — control, format, combining,
private-use and astral characters included; lone surrogates are not text and are refused — and
each credential is:

* signed here and its proof verified by the Digital Bazaar stack (and by us);
* signed by the Digital Bazaar stack and its proof verified here (and by them);

for ``ob3-v2`` (eddsa-rdfc-2022) and ``ob3-v1`` (Ed25519Signature2020), issued by a did:key and
by a did:web, and for the VC-JWT profile (EdDSA, checked with ``jose``). One long-lived Node
process (``worker.mjs``) answers every call. A failing example is shrunk by Hypothesis and
printed; add it to ``test_nquads.py`` when it shows a canonicalization difference.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from interop_js import DigitalBazaarWorker

from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    KeyState,
    PublishedKey,
    StaticResolver,
    institution_did_document,
    verification_method_ids,
)
from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential

pytestmark = pytest.mark.interop

WEB_DID = "did:web:badges.example.edu:issuers:property"
SUITES = {"ob3-v2": "eddsa-rdfc-2022", "ob3-v1": "Ed25519Signature2020"}
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples in every CI run; not flaky, still broad
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ANY_CHARACTER = st.characters(exclude_categories=("Cs",))
AWKWARD_CHARACTER = st.one_of(
    st.characters(categories=("Cc", "Cf", "Mn", "Me", "Co", "Zs", "Zl", "Zp")),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFD, exclude_categories=("Cs",)),
    st.characters(min_codepoint=0x10000),
    st.sampled_from(['"', "\\", "<", ">", "\u0000", "\u007f", "\ufeff", "\u2028"]),
)
TEXT = st.text(alphabet=st.one_of(ANY_CHARACTER, AWKWARD_CHARACTER), min_size=1, max_size=30)
LONG_TEXT = st.text(alphabet=ANY_CHARACTER, min_size=1000, max_size=4000)
# Two tags whose lines sort one way by code point and the other by UTF-16 code unit, and every
# control character: pinned so each run covers them whatever Hypothesis draws.
PINNED = {
    "name": "".join(map(chr, range(0x20))) + "\x7f",
    "description": "e\u0301\u200d\ufeff",
    "criteria": '\\ " < >',
    "issuer_name": "Collège",
    "parents": ["\U0001f3eb"] * 8,
    "tags": ["\uff21", "\U0001f600"],
}


@st.composite
def contents(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "name": draw(TEXT),
        "description": draw(TEXT),
        "criteria": draw(st.one_of(TEXT, LONG_TEXT)),
        "issuer_name": draw(TEXT),
        "parents": draw(st.lists(TEXT, max_size=8)),
        # Several values of one property: their N-Quads lines differ only in the text, so the
        # line order (code points or UTF-16 code units) is what these exercise.
        "tags": draw(st.lists(TEXT, min_size=2, max_size=4, unique=True)),
    }


def credential(issuer: str, profile: str, content: dict[str, Any]) -> dict[str, Any]:
    """An OB 3.0 credential from our builder, its text then replaced by the generated content."""
    built = build_credential(
        AchievementVersion(
            id="https://badges.example.edu/achievements/property-101",
            version="1",
            default_language="fr",
            name={"fr": "Nom", "en": "Name"},
            description={"fr": "Description", "en": "Description"},
            criteria={"fr": "Critères", "en": "Criteria"},
        ),
        Recipient(email="apprenant@example.edu", name="Camille Roy"),
        IssuerProfile(id=issuer, name={"fr": "Collège", "en": "College"}),
        profile,
        credential_id=f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
        issued_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    )
    achievement = built["credentialSubject"]["achievement"]
    achievement["name"] = content["name"]
    achievement["description"] = content["description"]
    achievement["criteria"] = {"narrative": content["criteria"]}
    achievement["tag"] = content["tags"]
    built["issuer"]["name"] = content["issuer_name"]
    holder = built["issuer"]
    for depth, name in enumerate(content["parents"]):
        parent = {"id": f"https://org{depth}.example.edu", "type": ["Profile"], "name": name}
        holder["parentOrg"] = parent
        holder = parent
    return built


class Issuer:
    """A key of ours, the same seed for their libraries, and what resolves it on both sides."""

    def __init__(self, method: str, profile: str) -> None:
        self.seed = secrets.token_bytes(32)
        self.documents: list[dict[str, Any]] = []
        self.resolver: DidResolver = CompositeResolver({"key": DidKeyResolver()})
        self.key = SigningKey.from_seed(self.seed)
        self.their_key_id: str | None = None
        if method == "web":
            multikey_id, ed2020_id = verification_method_ids(WEB_DID, "key-1")
            method_id = ed2020_id if profile == "ob3-v1" else multikey_id
            self.key = SigningKey(self.key.private_key, WEB_DID, method_id)
            document = institution_did_document(
                WEB_DID, [PublishedKey("key-1", self.key.public_key_multibase, KeyState.ACTIVE)]
            )
            self.documents = [document]
            self.resolver = StaticResolver([document])
            self.their_key_id = method_id


def _shown(content: dict[str, Any]) -> str:
    return ascii(content)[:600]


@pytest.mark.parametrize("method", ["key", "web"])
@pytest.mark.parametrize("profile", list(SUITES))
@EXAMPLES
@given(content=contents())
@example(content=PINNED)
async def test_any_content_we_sign_verifies_there(
    digital_bazaar_worker: DigitalBazaarWorker, profile: str, method: str, content: dict[str, Any]
) -> None:
    issuer = Issuer(method, profile)
    signed = await sign_credential(
        credential(issuer.key.controller, profile, content), issuer.key, Profile(profile)
    )
    assert isinstance(signed, dict)
    theirs = digital_bazaar_worker.verify(signed, issuer.documents)
    assert theirs.verified, (theirs.errors, _shown(content))
    ours = await verify_proof(signed, issuer.resolver)
    assert ours.verified, (ours.reason, _shown(content))


@pytest.mark.parametrize("method", ["key", "web"])
@pytest.mark.parametrize("profile", list(SUITES))
@EXAMPLES
@given(content=contents())
@example(content=PINNED)
async def test_any_content_they_sign_verifies_here(
    digital_bazaar_worker: DigitalBazaarWorker, profile: str, method: str, content: dict[str, Any]
) -> None:
    issuer = Issuer(method, profile)
    theirs = digital_bazaar_worker.sign(
        credential(issuer.key.controller, profile, content),
        SUITES[profile],
        issuer.seed,
        key_id=issuer.their_key_id,
        did_documents=issuer.documents,
    )
    assert theirs.verification_method == issuer.key.verification_method
    assert digital_bazaar_worker.verify(theirs.credential, issuer.documents).verified
    result = await verify_proof(theirs.credential, issuer.resolver)
    assert result.verified, (result.reason, _shown(content))


@pytest.mark.parametrize("method", ["key", "web"])
@EXAMPLES
@given(content=contents())
@example(content=PINNED)
async def test_any_content_in_a_vc_jwt_verifies_with_jose(
    digital_bazaar_worker: DigitalBazaarWorker, method: str, content: dict[str, Any]
) -> None:
    issuer = Issuer(method, "jwt")
    token = await sign_credential(
        credential(issuer.key.controller, "jwt", content), issuer.key, Profile.JWT
    )
    assert isinstance(token, str)
    theirs = digital_bazaar_worker.verify_jwt(token, issuer.documents)
    assert theirs.verified, (theirs.errors, _shown(content))
    ours = await verify_proof(token, issuer.resolver)
    assert ours.verified, (ours.reason, _shown(content))
