"""The LMS hook's rules without I/O: Standard Webhooks verification and the event shapes."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lms_samples import brightspace_award_issued, canvas_course_completed

from sceau_issuer.errors import LmsPayloadInvalid, LmsSignatureInvalid
from sceau_issuer.lms.mappings import (
    Completion,
    Lms,
    Skipped,
    read_completion,
)
from sceau_issuer.lms.service import idempotency_key, mapping_key
from sceau_issuer.lms.signatures import verify_delivery
from sceau_shared.standard_webhooks import generate_secret, sign

NOW = 1_764_000_000


def _headers(secret: str, body: bytes, *, msg_id: str = "msg_1", at: int = NOW) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(at),
        "webhook-signature": sign(secret, msg_id, at, body),
    }


def _reason(exc: pytest.ExceptionInfo[LmsSignatureInvalid]) -> object:
    assert exc.value.status == 401
    assert {"detail_en", "detail_fr"} <= set(exc.value.extra)
    return exc.value.extra["reason"]


class TestSignatures:
    """A receiver's checks: headers, a five-minute window, any of the accepted secrets."""

    body = b'{"type":"course.completed"}'

    def test_a_delivery_signed_by_the_secret_passes(self) -> None:
        secret = generate_secret()
        assert secret.startswith("whsec_")
        headers = _headers(secret, self.body)
        assert verify_delivery(headers, self.body, [secret], now=NOW) == "msg_1"

    def test_one_matching_signature_among_several_is_enough(self) -> None:
        secret, other = generate_secret(), generate_secret()
        headers = _headers(secret, self.body)
        headers["webhook-signature"] = (
            f"v1a,ignored {sign(other, 'msg_1', NOW, self.body)} {headers['webhook-signature']}"
        )
        assert verify_delivery(headers, self.body, [secret], now=NOW) == "msg_1"

    def test_the_previous_secret_is_accepted_during_a_rotation(self) -> None:
        old, new = generate_secret(), generate_secret()
        headers = _headers(old, self.body)
        assert verify_delivery(headers, self.body, [new, old], now=NOW) == "msg_1"
        with pytest.raises(LmsSignatureInvalid):
            verify_delivery(headers, self.body, [new], now=NOW)

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"webhook-id": None}, "missing-header"),
            ({"webhook-signature": ""}, "missing-header"),
            ({"webhook-timestamp": "soon"}, "malformed-header"),
            ({"webhook-id": "a.b"}, "malformed-header"),
            ({"webhook-id": "x" * 201}, "malformed-header"),
            ({"webhook-signature": "v1,AAAA"}, "no-matching-signature"),
        ],
    )
    def test_malformed_or_missing_headers_are_refused(
        self, change: dict[str, str | None], reason: str
    ) -> None:
        secret = generate_secret()
        headers: dict[str, Any] = {**_headers(secret, self.body), **change}
        headers = {k: v for k, v in headers.items() if v is not None}
        with pytest.raises(LmsSignatureInvalid) as refused:
            verify_delivery(headers, self.body, [secret], now=NOW)
        assert _reason(refused) == reason

    @pytest.mark.parametrize("skew", [-301, 301, -3600])
    def test_a_timestamp_more_than_five_minutes_away_is_refused(self, skew: int) -> None:
        secret = generate_secret()
        headers = _headers(secret, self.body, at=NOW + skew)
        with pytest.raises(LmsSignatureInvalid) as refused:
            verify_delivery(headers, self.body, [secret], now=NOW)
        assert _reason(refused) == "timestamp-out-of-tolerance"
        assert verify_delivery(headers, self.body, [secret], now=NOW + skew) == "msg_1"

    def test_a_changed_body_or_another_secret_is_refused(self) -> None:
        secret = generate_secret()
        headers = _headers(secret, self.body)
        for body, secrets in ((self.body + b" ", [secret]), (self.body, [generate_secret()])):
            with pytest.raises(LmsSignatureInvalid) as refused:
                verify_delivery(headers, body, secrets, now=NOW)
            assert _reason(refused) == "no-matching-signature"
        with pytest.raises(LmsSignatureInvalid):
            verify_delivery(headers, self.body, [], now=NOW)  # no secret: never accepted

    @given(
        st.dictionaries(
            st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature", "other"]),
            st.text(max_size=60),
        ),
        st.binary(max_size=200),
    )
    def test_any_header_soup_is_refused_with_a_401(
        self, headers: dict[str, str], body: bytes
    ) -> None:
        with pytest.raises(LmsSignatureInvalid):
            verify_delivery(headers, body, [generate_secret()], now=NOW)


class TestMappings:
    """Each LMS's completion becomes the same thing; anything else is skipped or a 422."""

    def test_the_generic_shape_by_course_or_achievement(self) -> None:
        by_course = read_completion(
            Lms.GENERIC,
            {
                "type": "course.completed",
                "learner": {"email": "Ada@Example.org", "name": "Ada", "language": "en"},
                "course": {"id": 101},
                "completed_at": "2026-11-30T16:20:00Z",
                "results": [{"assessment": 1, "value": "A"}],
                "credits_earned": 1.5,
            },
        )
        assert isinstance(by_course, Completion)
        assert (by_course.course, by_course.achievement_id, by_course.language) == (
            "101",
            None,
            "en",
        )
        assert [r.value for r in by_course.results] == ["A"]
        assert by_course.credits_earned == 1.5
        direct = read_completion(
            Lms.GENERIC, {"learner": {"email": "ada@example.org"}, "achievement_id": "abc"}
        )
        assert isinstance(direct, Completion)
        assert direct.course_key == "achievement:abc"

    def test_the_generic_shape_refusals_name_the_fields_in_both_languages(self) -> None:
        for payload, field in (
            ({"learner": {"name": "Ada"}, "achievement_id": "a"}, "learner.email"),
            ({"learner": {"email": "not-an-address"}, "achievement_id": "a"}, "learner.email"),
            ({"learner": {"email": "a@example.org"}}, "course.id"),
            (
                {
                    "learner": {"email": "a@example.org"},
                    "achievement_id": "a",
                    "results": [{"assessment": 0}],
                },
                "results.0.assessment",
            ),
        ):
            with pytest.raises(LmsPayloadInvalid) as refused:
                read_completion(Lms.GENERIC, payload)
            assert refused.value.status == 422
            assert [e["field"] for e in refused.value.errors] == [field], payload
            assert {"detail_en", "detail_fr"} <= set(refused.value.extra)
        assert isinstance(read_completion(Lms.GENERIC, {"type": "course.enrolled"}), Skipped)
        with pytest.raises(LmsPayloadInvalid):
            read_completion(Lms.GENERIC, [1, 2])

    def test_canvas_course_completed(self) -> None:
        completion = read_completion(Lms.CANVAS, canvas_course_completed())
        assert isinstance(completion, Completion)
        assert (completion.course, completion.email, completion.name) == (
            "565",
            "ada@example.org",
            "Ada Tremblay",
        )
        assert completion.completed_at is not None
        assert completion.completed_at.isoformat().startswith("2026-11-30T16:20:00")

    def test_canvas_without_an_email_is_a_422_naming_the_user(self) -> None:
        with pytest.raises(LmsPayloadInvalid) as refused:
            read_completion(Lms.CANVAS, canvas_course_completed(email=""))
        assert refused.value.errors[0]["field"] == "body.user.email"
        assert "Canvas user 123" in refused.value.detail

    def test_other_canvas_events_are_skipped(self) -> None:
        grade = {"metadata": {"event_name": "grade_change"}, "body": {"score": 9}}
        skipped = read_completion(Lms.CANVAS, grade)
        assert isinstance(skipped, Skipped)
        assert "grade_change" in skipped.reason

    def test_brightspace_award_issued(self) -> None:
        completion = read_completion(
            Lms.BRIGHTSPACE, brightspace_award_issued(email="bo@example.org", name="Bo")
        )
        assert isinstance(completion, Completion)
        assert (completion.course, completion.email, completion.name) == (
            "80",
            "bo@example.org",
            "Bo",
        )

    def test_brightspace_names_the_user_when_the_forwarder_added_no_email(self) -> None:
        with pytest.raises(LmsPayloadInvalid) as refused:
            read_completion(Lms.BRIGHTSPACE, brightspace_award_issued())
        assert refused.value.errors[0]["field"] == "learner.email"
        assert "Brightspace user 3107" in refused.value.detail

    def test_revoked_brightspace_awards_are_skipped(self) -> None:
        revoked = brightspace_award_issued(
            verb="https://api.brightspace.com/xapi/verbs/revoked", email="bo@example.org"
        )
        assert isinstance(read_completion(Lms.BRIGHTSPACE, revoked), Skipped)

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(st.text(max_size=12), inner, max_size=4)
            ),
            max_leaves=20,
        )
    )
    def test_any_json_is_a_completion_a_skip_or_a_422(self, payload: Any) -> None:
        json.dumps(payload)
        for lms in Lms:
            with contextlib.suppress(LmsPayloadInvalid):
                read_completion(lms, payload)

    def test_keys(self) -> None:
        one = Completion(Lms.CANVAS, "565", None, "Ada@Example.org")
        same = Completion(Lms.CANVAS, "565", None, "ada@example.org", name="Ada")
        assert idempotency_key(one) == idempotency_key(same)
        assert idempotency_key(one) != idempotency_key(
            Completion(Lms.BRIGHTSPACE, "565", None, "ada@example.org")
        )
        assert "." not in mapping_key(Lms.CANVAS, "a.b$c")
