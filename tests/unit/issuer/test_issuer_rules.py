from __future__ import annotations

from datetime import UTC, datetime

from sceau_issuer.issuing.dates import add_months
from sceau_issuer.issuing.schemas import RecipientInput
from sceau_issuer.issuing.service import dedupe_key, fingerprint
from sceau_issuer.series.schemas import SeriesInput, complete
from sceau_issuer.status.status_lists import BITSTRING, STATUS_LIST_2021, family, list_format
from sceau_issuer.tenants.dids import hosted_did, own_domain_did


def test_add_months_clamps() -> None:
    start = datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert add_months(start, 1) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert add_months(start, 24) == datetime(2027, 1, 31, 12, tzinfo=UTC)


def test_hosted_and_own_domain_dids() -> None:
    assert hosted_did("http://127.0.0.1:8002", "abc") == "did:web:127.0.0.1%3A8002:institutions:abc"
    assert own_domain_did("college.example") == "did:web:college.example"


def test_dedupe_key_ignores_email_case_but_not_version() -> None:
    a = RecipientInput(email="Ada@Example.org")
    b = RecipientInput(email="ada@example.org ")
    assert dedupe_key("i", "a", 1, a) == dedupe_key("i", "a", 1, b)
    assert dedupe_key("i", "a", 1, a) != dedupe_key("i", "a", 2, a)
    assert dedupe_key("i", "a", 1, a) != dedupe_key("i", "a", 1, a, supersedes="old")
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})


def test_series_completion_rules() -> None:
    modular = SeriesInput.model_validate(
        {
            "name": {"fr": "P", "en": "P"},
            "components": [{"achievement_id": m} for m in ("m1", "m2", "m3")],
            "overall_achievement_id": "all",
        }
    )
    assert not complete(modular, {"m1", "m2"})
    assert complete(modular, {"m1", "m2", "m3", "other"})
    hybrid = SeriesInput.model_validate(
        {
            "name": {"fr": "H", "en": "H"},
            "structure": "hybrid",
            "components": [
                {"achievement_id": "core"},
                {"achievement_id": "e1", "required": False},
                {"achievement_id": "e2", "required": False},
            ],
            "electives_required": 1,
            "overall_achievement_id": "all",
        }
    )
    assert not complete(hybrid, {"core"})
    assert complete(hybrid, {"core", "e2"})


def test_status_list_families_split_by_did_and_format() -> None:
    assert list_format("ob3-v2") == BITSTRING
    assert list_format("jwt") == BITSTRING  # VC-JOSE-COSE since 2026-12 (VCDM 2.0)
    assert list_format("ob3-v1") == STATUS_LIST_2021
    one = family("inst", "did:key:a", BITSTRING)
    assert "/" not in one
    assert one != family("inst", "did:key:b", BITSTRING)
    assert one != family("inst", "did:key:a", STATUS_LIST_2021)
    assert "/" not in family("weird/id with spaces", "did:key:a", BITSTRING)


class TestBatchRecipients:
    """Per-recipient results and credits are checked against the achievement, by index."""

    def _pinned(self, **changes: object) -> object:
        from types import SimpleNamespace

        from achievement_samples import micro_credential

        from sceau_issuer.achievements.schemas import AchievementInput

        return SimpleNamespace(definition=AchievementInput(**micro_credential(**changes)))

    def _request(self, *recipients: dict[str, object]) -> object:
        from sceau_issuer.issuing.schemas import BatchRequest

        return BatchRequest.model_validate({"achievement_id": "a", "recipients": list(recipients)})

    def test_problems_name_the_recipient(self) -> None:
        from sceau_issuer.issuing.batches import recipient_problems

        request = self._request(
            {"email": "a@example.org", "results": [{"assessment": 1, "value": "A"}]},
            {"email": "b@example.org", "results": [{"assessment": 1}, {"assessment": 3}]},
            {"email": "c@example.org", "credits_earned": 9},
        )
        credit = self._pinned(credit_status="credit", credits=3)
        problems = recipient_problems(credit, request.recipients)  # type: ignore[arg-type,attr-defined]
        assert [p["field"] for p in problems] == [
            "recipients.1.results.1.assessment",
            "recipients.2.credits_earned",
        ]
        non_credit = self._pinned(credit_status="non-credit")
        [problem] = recipient_problems(non_credit, request.recipients[2:])  # type: ignore[arg-type,attr-defined]
        assert "non-credit" in str(problem["message"])

    def test_a_single_issue_is_checked_by_the_same_rule(self) -> None:
        import pytest

        from sceau_issuer.issuing.policy import check_fits
        from sceau_issuer.issuing.schemas import ResultInput
        from sceau_shared.errors import InvalidInput

        credit = self._pinned(credit_status="credit", credits=3)
        check_fits(credit, [ResultInput(assessment=1, value="A")], 3)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput) as refused:
            check_fits(credit, [ResultInput(assessment=2)], 3.5)  # type: ignore[arg-type]
        assert [e["field"] for e in refused.value.errors] == [
            "results.0.assessment",
            "credits_earned",
        ]
        assert {"detail_en", "detail_fr"} <= set(refused.value.extra)

    def test_a_batch_without_grades_keeps_its_fingerprint(self) -> None:
        request = self._request({"email": "a@example.org"})
        assert request.stored() == {  # type: ignore[attr-defined]
            "achievement_id": "a",
            "achievement_version": None,
            "profile": None,
            "recipients": [{"email": "a@example.org", "name": None, "did": None, "language": "fr"}],
        }
