"""Fuzzing: schemathesis against the ASGI app, hypothesis against the input readers.

The property everywhere is the same: whatever arrives, the answer is a result or a 4xx problem,
never a 5xx, an unexpected exception or a hang.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import httpx
import schemathesis
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from verifier_support import Issuer, RegistryStandIn, build_app, free_port, serve, settings_for

from sceau_shared.errors import ServiceError
from sceau_shared.settings import HttpSettings
from sceau_verifier.documents import credential_id_hash, jwt_credential
from sceau_verifier.i18n import text
from sceau_verifier.inputs import parse_batch, parse_submission
from sceau_verifier.summary import build_summary

# The registry is a closed loopback port: every outbound call fails fast (inconclusive answers).
_APP = build_app(
    settings_for(f"http://127.0.0.1:{free_port()}", http=HttpSettings(rate_limit_per_minute=0))
).app
# Probes answer 503 by design without Kafka/MongoDB; they are not input-handling endpoints.
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP).exclude(
    path_regex="^/(healthz|readyz|s/.*|oid4vp.*|v1/oid4vp.*)$"
)
# OpenID4VP without its optional store: every route answers the documented 503
# ``oid4vp-not-configured`` (problem or page) or a 4xx; with the store, the routes are fuzzed on
# the real MongoDB-protocol server (tests/integration/verifier/test_verifier_oid4vp.py).
oid4vp_schema = schemathesis.openapi.from_asgi("/openapi.json", _APP).include(
    path_regex="^/(oid4vp|v1/oid4vp)"
)
# Share links: the issuer is unreachable too, so a well-formed token answers the documented
# 503 ``shares-unavailable`` (the issuer keeps shares); every other 5xx is a failure.
shares_schema = schemathesis.openapi.from_asgi("/openapi.json", _APP).include(path_regex="^/s/")


@schemathesis.check
def no_server_error_but_issuer_down(ctx: Any, response: Any, case: Any) -> bool | None:
    """Like ``not_a_server_error``, except the documented "issuer unreachable" answer.

    That answer is a problem for JSON clients and the FR/EN page for everyone else (a fuzzed
    ``Accept`` header is mostly not JSON).
    """
    del ctx, case
    if response.status_code < 500:
        return None
    assert response.status_code == 503, response.text
    content_type = response.headers.get("content-type") or [""]  # schemathesis: value lists
    if str(content_type[0] if isinstance(content_type, list) else content_type).startswith(
        "text/html"
    ):
        titles = [str(escape(text("unavailable_title", lang))) for lang in ("fr", "en")]
        assert any(title in response.text for title in titles), response.text
        return None
    assert str(response.json().get("type", "")).endswith("/shares-unavailable"), response.text
    return None


@schemathesis.check
def no_server_error_but_not_configured(ctx: Any, response: Any, case: Any) -> bool | None:
    """Like ``not_a_server_error``, except the documented "OpenID4VP not configured" answer."""
    del ctx, case
    if response.status_code < 500:
        return None
    assert response.status_code == 503, response.text
    content_type = response.headers.get("content-type") or [""]
    if str(content_type[0] if isinstance(content_type, list) else content_type).startswith(
        "text/html"
    ):
        assert "OpenID4VP" in response.text, response.text
        return None
    assert str(response.json().get("type", "")).endswith("/oid4vp-not-configured"), response.text
    return None


@oid4vp_schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_openid4vp_without_its_store_answers_only_the_documented_503(
    case: schemathesis.Case,
) -> None:
    case.call_and_validate(
        checks=[
            no_server_error_but_not_configured,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )


@shares_schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_share_links_never_answer_an_unexpected_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate(
        checks=[
            no_server_error_but_issuer_down,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
        excluded_checks=[not_a_server_error],
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "@context",
                    "type",
                    "issuer",
                    "credential",
                    "credentialSubject",
                    "achievement",
                    "proof",
                    "name",
                    "alignment",
                    "related",
                    "timeRequired",
                    "validFrom",
                    "inLanguage",
                    "challenge",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


class TestReaders:
    @given(st.binary(max_size=300))
    @settings(max_examples=300)
    def test_any_bytes_parse_or_4xx(self, raw: bytes) -> None:
        for content_type in ("application/json", "application/jwt", "text/plain"):
            try:
                parse_submission(raw, content_type, max_depth=16)
            except ServiceError as exc:
                status = exc.status
                assert 400 <= status < 500

    @given(json_values)
    @settings(max_examples=300)
    def test_any_json_value_parses_or_4xx(self, value: Any) -> None:
        raw = json.dumps(value).encode()
        statuses = []
        for reader in (
            lambda: parse_submission(raw, "application/json", max_depth=16),
            lambda: parse_batch(raw, "application/json", max_depth=16, limit=100),
        ):
            try:
                reader()
            except ServiceError as exc:
                statuses.append(exc.status)
        assert set(statuses) <= {400, 422}

    @given(json_values, st.sampled_from(["fr", "en"]))
    @settings(max_examples=300)
    def test_summary_never_raises(self, value: Any, lang: str) -> None:
        document = value if isinstance(value, dict) else {"credentialSubject": value}
        summary = build_summary(document, lang=lang, record=None, fmt=None)  # type: ignore[arg-type]
        assert summary.lang == lang
        credential_id_hash(document)

    @given(st.text(max_size=200))
    @settings(max_examples=300)
    def test_jwt_reader_never_raises(self, token: str) -> None:
        result = jwt_credential(token)
        assert result is None or isinstance(result, dict)


def test_jwt_reader_unwraps_vc_claims() -> None:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    token = ".".join(
        [part({"alg": "EdDSA"}), part({"vc": {"type": ["X"]}, "jti": "urn:x", "nbf": 0}), "sig"]
    )
    document = jwt_credential(token)
    assert document == {
        "type": ["X"],
        "id": "urn:x",
        "issuanceDate": datetime(1970, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z"),
    }


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def _mutate(document: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    copy = json.loads(json.dumps(document))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


def test_mutated_signed_credentials_get_an_answer_never_a_5xx() -> None:
    """Hypothesis mutates a real signed credential; the verifier must answer every variant."""
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()

    async def setup() -> tuple[httpx.AsyncClient, dict[str, Any]]:
        registry = RegistryStandIn()
        base = await stack.enter_async_context(serve(registry.app()))
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        credential, _ = await issuer.issue(lists=[revocation])
        built = build_app(settings_for(base, http=HttpSettings(rate_limit_per_minute=0)))
        manager = await stack.enter_async_context(LifespanManager(built.app))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://v")
        )
        assert isinstance(credential, dict)
        return client, credential

    try:
        client, credential = loop.run_until_complete(setup())
        paths = _paths(credential)

        @given(
            st.lists(
                st.tuples(st.sampled_from(paths), json_values, st.booleans()),
                min_size=1,
                max_size=3,
            )
        )
        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        def check(mutations: list[tuple[tuple[Any, ...], Any, bool]]) -> None:
            document: Any = credential
            for path, value, delete in mutations:
                try:
                    document = _mutate(document, path, value, delete)
                except (KeyError, IndexError, TypeError):
                    continue  # an earlier mutation removed the path
            response = loop.run_until_complete(client.post("/v1/verify", json=document))
            assert response.status_code in (200, 400, 422), response.text
            if response.status_code == 200 and document != credential:
                # Any change to a signed credential must make it fail (tamper evidence).
                assert response.json()["verified"] is False, mutations

        check()
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
