"""The compiled JSON Schema fast path must agree with the Python validator it short-cuts.

``schema_problems`` accepts a document when ``jsonschema-rs`` finds it valid and only asks the
Python ``jsonschema`` validator (whose messages Sceau reports) otherwise. If the two disagreed
on a document the compiled one accepts, an invalid credential would pass silently: these tests
mutate a valid credential in many ways and check both give the same verdict.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ob3_samples import credential

from sceau_credentials.ob3 import validation

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "2025-01-15T12:00:00Z",
            "2025-01-15T12:00:00",
            "2025-01-15",
            "2025-02-30T12:00:00Z",
            "15/01/2025",
            "https://example.org/x",
            "urn:uuid:8f0c7a9e-8c7e-4e2e-9a43-3c4f1d0a1b2c",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "AchievementCredential",
            "Achievement",
        ]
    ),
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["id", "type", "name", "x"]), _SCALARS, max_size=3),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _python_valid(document: dict[str, Any]) -> bool:
    return not any(True for _ in validation._validator().iter_errors(document))


def _sample() -> dict[str, Any]:
    document = credential()
    document.pop("credentialStatus", None)
    return document


SAMPLE = _sample()
PATHS = _paths(SAMPLE)


def test_both_accept_the_sample() -> None:
    assert validation._fast_validator().is_valid(SAMPLE)
    assert _python_valid(SAMPLE)
    assert validation.schema_problems(SAMPLE) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete"]), _VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_verdicts_agree_on_mutated_credentials(
    edits: list[tuple[tuple[Any, ...], str, Any]],
) -> None:
    document = copy.deepcopy(SAMPLE)
    for path, action, value in edits:
        parent: Any = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if action == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    fast = validation._fast_validator().is_valid(document)
    assert fast == _python_valid(document), document
    # The public function reports exactly the Python validator's problems either way.
    assert (validation.schema_problems(document) == []) == fast


def test_bad_dates_are_refused_by_both() -> None:
    for value in ("2025-01-15", "2025-01-15T12:00:00", "2025-13-01T00:00:00Z", "yesterday"):
        document = copy.deepcopy(SAMPLE)
        document["validFrom"] = value
        assert not validation._fast_validator().is_valid(document)
        assert [p.path for p in validation.schema_problems(document)] == ["validFrom"]


def test_status_entries_use_the_same_fast_path() -> None:
    full = credential()
    entries = full["credentialStatus"]
    listed = entries if isinstance(entries, list) else [entries]
    for entry in listed:
        assert validation._fast_status_validator().is_valid(entry)
    broken = {**listed[0], "type": 5}
    assert not validation._fast_status_validator().is_valid(broken)
    assert validation.schema_problems(
        {**full, "credentialStatus": [broken]}, allow_status_array=True
    )
