"""As-of logic: status, accreditation and key validity answered for any past date."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from registry_samples import T0, at, change, institution, key, scope

from sceau_registry.institutions.models import DomainError, Role, is_did, to_ms
from sceau_registry.keys.models import find_key
from sceau_registry.trust.models import answer_for
from sceau_shared.events import InstitutionStatus as S


class TestStatusAsOf:
    def test_status_follows_the_history(self) -> None:
        inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(6)), (S.ACTIVE, at(8)))
        assert inst.status_at(T0 - timedelta(days=1)) is None
        assert inst.status_at(T0) is S.PENDING
        assert inst.status_at(at(3)) is S.ACTIVE
        assert inst.status_at(at(6)) is S.SUSPENDED
        assert inst.status_at(at(7)) is S.SUSPENDED
        assert inst.status_at(at(9)) is S.ACTIVE
        assert inst.status is S.ACTIVE

    def test_credential_before_suspension_is_accredited_after_is_not(self) -> None:
        inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(6)), scopes=(scope(),))
        assert inst.accredited_at(at(5)) is True
        assert inst.accredited_types_at(at(5)) == ["Certificate"]
        assert inst.accredited_at(at(6)) is False
        assert inst.accredited_types_at(at(7)) == []

    def test_pending_and_former_are_never_accredited(self) -> None:
        inst = institution((S.ACTIVE, at(2)), (S.FORMER, at(4)), scopes=(scope(),))
        assert inst.accredited_at(at(1, 15)) is False  # pending
        assert inst.accredited_at(at(3)) is True
        assert inst.accredited_at(at(5)) is False  # former


class TestScopes:
    def test_validity_window_is_half_open(self) -> None:
        s = scope(start=at(2), end=at(4))
        assert not s.valid_at(at(1))
        assert s.valid_at(at(2))
        assert s.valid_at(at(3, 31))
        assert not s.valid_at(at(4))

    def test_withdrawn_scope_still_counts_before_withdrawal(self) -> None:
        inst = institution((S.ACTIVE, T0), scopes=(scope(),))
        ended = inst.withdraw("s1", at=at(5), actor="bob", reason="lapsed")
        assert ended.accredited_at(at(4)) is True
        assert ended.accredited_at(at(5)) is False
        assert ended.scopes[0].withdrawn_by == "bob"
        with pytest.raises(DomainError):
            ended.withdraw("s1", at=at(6), actor="bob", reason="again")
        with pytest.raises(LookupError):
            ended.withdraw("nope", at=at(6), actor="bob", reason="x")

    def test_types_are_the_union_of_issuer_scopes_only(self) -> None:
        inst = institution(
            (S.ACTIVE, T0),
            scopes=(
                scope(("Certificate",), sid="a"),
                scope(("Badge", "Certificate"), sid="b", start=at(3)),
                scope(("Diploma",), sid="c", role=Role.ENDORSER),
            ),
        )
        assert inst.accredited_types_at(at(2)) == ["Certificate"]
        assert inst.accredited_types_at(at(4)) == ["Badge", "Certificate"]
        assert inst.roles_at(at(4)) == ["endorser", "issuer"]

    def test_endorser_alone_is_not_an_accredited_issuer(self) -> None:
        inst = institution((S.ACTIVE, T0), scopes=(scope(role=Role.ENDORSER),))
        assert inst.accredited_at(at(2)) is False

    def test_grant_checks_window_and_status(self) -> None:
        inst = institution((S.ACTIVE, T0))
        with pytest.raises(DomainError):
            inst.grant(scope(start=at(3), end=at(2)))
        former = institution((S.FORMER, T0))
        with pytest.raises(DomainError):
            former.grant(scope())


class TestTransitions:
    @pytest.mark.parametrize(
        ("steps", "target"),
        [
            ((), S.SUSPENDED),
            (((S.FORMER, at(2)),), S.ACTIVE),
            (((S.ACTIVE, at(2)),), S.ACTIVE),
            (((S.ACTIVE, at(2)),), S.PENDING),
        ],
    )
    def test_forbidden_moves(self, steps: tuple[tuple[S, datetime], ...], target: S) -> None:
        inst = institution(*steps)
        with pytest.raises(DomainError):
            inst.transition(change(target, at(9), 9))

    def test_allowed_moves_append_history(self) -> None:
        inst = institution()
        for n, status in enumerate((S.ACTIVE, S.SUSPENDED, S.ACTIVE, S.FORMER), start=1):
            before = inst.history
            inst = inst.transition(change(status, at(n + 1), n))
            assert inst.history[: len(before)] == before
        assert [c.status for c in inst.history][-1] is S.FORMER

    def test_history_cannot_be_backdated_before_the_last_step(self) -> None:
        inst = institution((S.ACTIVE, at(5)))
        with pytest.raises(DomainError, match="rewritten"):
            inst.transition(change(S.SUSPENDED, at(4), 2))


class TestKeys:
    def test_key_window(self) -> None:
        k = key("did:web:example.edu", start=at(2), rotated=at(5), fragment="k1")
        assert not k.valid_at(at(1))
        assert k.valid_at(at(4))
        assert not k.valid_at(at(5))
        revoked = key("did:web:example.edu", start=at(2), revoked=at(3), fragment="k2")
        # Revoked as compromised: the thief back-dates at will, so no date is trusted any more.
        assert not revoked.valid_at(at(2, 15))
        assert not revoked.valid_at(at(3))

    def test_2020_twin_finds_the_multikey_record(self) -> None:
        k = key("did:web:example.edu", fragment="k1")
        assert find_key([k], "did:web:example.edu#k1-2020") is k
        assert find_key([k], "did:web:example.edu#k1") is k
        assert find_key([k], "did:web:example.edu#other") is None


class TestAnswer:
    def test_unknown_did(self) -> None:
        answer = answer_for("did:key:z6Mk", None, [], at=T0, verification_method=None)
        assert answer.to_json() == {
            "did": "did:key:z6Mk",
            "registered": False,
            "institution_id": None,
            "status": None,
            "accredited": False,
            "accredited_types": [],
            "roles": [],
            "name": {},
            "qa_body": None,
            "approvals": [],
            "key": None,
            "window": {"from": None, "until": None},  # unknown at every date
        }

    def test_answer_as_of_with_key(self) -> None:
        did = "did:web:example.edu"
        inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(6)), scopes=(scope(),))
        k = key(did, start=at(2), rotated=at(4), fragment="k1")
        before = answer_for(did, inst, [k], at=at(3), verification_method=f"{did}#k1").to_json()
        assert before["status"] == "active"
        assert before["accredited"] is True
        assert before["name"] == {"fr": "Cégep A", "en": "College A"}
        assert before["key"] == {
            "verification_method": f"{did}#k1",
            "valid_at": True,
            "active_from": "2025-02-01T00:00:00Z",
            "rotated_at": "2025-04-01T00:00:00Z",
            "revoked_as_of": None,
        }
        after = answer_for(did, inst, [k], at=at(7), verification_method=f"{did}#k1").to_json()
        assert after["status"] == "suspended"
        assert after["accredited"] is False
        assert after["key"] == {**before["key"], "valid_at": False}

    def test_an_answer_names_the_window_over_which_it_holds(self) -> None:
        did = "did:web:example.edu"
        inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(6)), scopes=(scope(),))
        k = key(did, start=at(2), rotated=at(4), fragment="k1")
        method = f"{did}#k1"
        answer = answer_for(did, inst, [k], at=at(3), verification_method=method)
        window = answer.to_json()["window"]
        assert window == {"from": "2025-02-01T00:00:00.001000Z", "until": "2025-04-01T00:00:00Z"}
        # Every date inside gets the same answer (but its window); one just outside does not.
        assert answer.window_from is not None
        assert answer.window_until is not None
        for moment in (answer.window_from, at(3, 20), answer.window_until - timedelta(seconds=1)):
            inside = answer_for(did, inst, [k], at=moment, verification_method=method)
            assert {**inside.to_json(), "window": None} == {**answer.to_json(), "window": None}
        outside = answer_for(did, inst, [k], at=answer.window_until, verification_method=method)
        assert outside.to_json()["key"]["valid_at"] is False
        assert answer_for(did, inst, [k], at=at(8), verification_method=method).to_json()[
            "window"
        ] == {"from": "2025-06-01T00:00:00Z", "until": None}


def test_did_syntax() -> None:
    assert is_did("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert is_did("did:web:127.0.0.1%3A8002:institutions:abc")
    for bad in ("", "did:", "did:web", "did:web:", "DID:web:x", "did:web:a#k", "did:web:a/b", "x"):
        assert not is_did(bad), bad


def test_to_ms_truncates_and_converts() -> None:
    from datetime import datetime, timezone

    moment = datetime(2025, 1, 1, 5, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert to_ms(moment).isoformat() == "2025-01-01T10:00:00.123000+00:00"


class TestLanguages:
    """R18: an institution is registered with its languages; bilingual only when it says so."""

    def _body(self, **changes: object) -> dict[str, object]:
        return {
            "legal_name": {"en": "Example Academy"},
            "category": "private-provider",
            "jurisdiction": "US-NY",
            **changes,
        }

    def test_languages_default_to_french_and_english(self) -> None:
        from sceau_registry.schemas import RegisterInstitution

        assert RegisterInstitution.model_validate(self._body()).languages == ["fr", "en"]

    def test_a_monolingual_or_foreign_provider_is_accepted(self) -> None:
        from sceau_registry.schemas import RegisterInstitution

        for languages in (["en"], ["fr"], ["es", "en"]):
            body = RegisterInstitution.model_validate(self._body(languages=languages))
            assert body.languages == languages

    @pytest.mark.parametrize("languages", [[], ["en", "en"], ["english"], ["EN!"], ["x"] * 11])
    def test_bad_languages_are_refused(self, languages: list[str]) -> None:
        from pydantic import ValidationError

        from sceau_registry.schemas import RegisterInstitution

        with pytest.raises(ValidationError):
            RegisterInstitution.model_validate(self._body(languages=languages))

    def test_the_registration_event_carries_the_languages(self) -> None:
        from dataclasses import replace

        from sceau_registry.institutions.service import registered_event

        inst = replace(institution(), languages=("en",))
        assert registered_event(inst, producer="t").languages == ["en"]
        assert registered_event(institution(), producer="t").languages == ["fr", "en"]


class TestQualityAssuranceFacts:
    """R59: the QA body and approval facts recorded at registration reach verifiers."""

    def test_registration_takes_approval_facts(self) -> None:
        from pydantic import ValidationError

        from sceau_registry.schemas import RegisterInstitution

        base = {"legal_name": {"en": "A"}, "category": "public-college", "jurisdiction": "CA-ON"}
        body = RegisterInstitution.model_validate(
            {**base, "approvals": ["ministry-approval", "osap-eligible"]}
        )
        assert body.approvals == ["ministry-approval", "osap-eligible"]
        assert RegisterInstitution.model_validate(base).approvals == []
        with pytest.raises(ValidationError):
            RegisterInstitution.model_validate({**base, "approvals": ["self-declared"]})

    def test_the_trust_answer_carries_them(self) -> None:
        from dataclasses import replace

        inst = replace(
            institution((S.ACTIVE, at(2))),
            qa_body="Ontario College Quality Assurance Service",
            approvals=("institutional-approval", "osap-eligible"),
        )
        answer = answer_for("did:web:example.edu", inst, [], at=at(3), verification_method=None)
        body = answer.to_json()
        assert body["qa_body"] == "Ontario College Quality Assurance Service"
        assert body["approvals"] == ["institutional-approval", "osap-eligible"]
        stranger = answer_for("did:web:x.example", None, [], at=at(3), verification_method=None)
        assert stranger.to_json()["approvals"] == []
