"""1EdTech's own Open Badges 3.0 examples, read by our checks (issue 15: "the 1EdTech spec
examples that carry proofs").

The specification's complete example (copied with the official schema into
``sceau_credentials/ob3/schema``, see its README) is unsigned, but its embedded
EndorsementCredential carries a proof: cryptosuite ``eddsa-rdf-2022`` (sic) and a verification
method that is an HTTPS URL, not a DID. Our conformance inspector must read the example whole,
accept what is valid in it (the official schema, the context order), and name what 1EdTech's
validator would refuse — never raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest

from sceau_credentials.conformance import Code
from sceau_credentials.conformance.inspector import inspect_credential, offline_resolver
from sceau_credentials.ob3.validation import schema_problems

EXAMPLES = ("example-complete-openbadgecredential.json", "example-minimal-openbadgecredential.json")
JUDGED_AT = datetime(2015, 6, 1, tzinfo=UTC)  # inside the complete example's validity


def example(name: str) -> dict[str, Any]:
    text = resources.files("sceau_credentials.ob3").joinpath(f"schema/{name}").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_pass_the_official_schema(name: str) -> None:
    assert schema_problems(example(name)) == []


@pytest.mark.parametrize("name", EXAMPLES)
async def test_the_inspector_reads_each_example_and_names_only_what_is_missing(name: str) -> None:
    findings = await inspect_credential(example(name), resolver=offline_resolver(), now=JUDGED_AT)
    top = {f.code for f in findings if not f.pointer.startswith("/endorsement")}
    # The examples are unsigned: that is what 1EdTech's validator would refuse at the top.
    assert Code.PROOF_MISSING in top
    assert Code.CONTEXT not in top
    assert Code.SCHEMA not in top
    assert Code.UNREADABLE not in top


async def test_the_complete_examples_endorsement_proof_is_inspected_and_refused() -> None:
    findings = await inspect_credential(
        example("example-complete-openbadgecredential.json"),
        resolver=offline_resolver(),
        now=JUDGED_AT,
    )
    inner = [f for f in findings if f.pointer.startswith("/endorsement/0")]
    codes = {f.code for f in inner}
    # "eddsa-rdf-2022" is not on the accepted list, and its key is not a resolvable DID.
    assert Code.PROOF_TYPE in codes or Code.KEY_UNRESOLVABLE in codes, inner
    assert all(f.message_fr and f.message_en for f in inner)
