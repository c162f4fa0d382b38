"""Language negotiation, texts, the proof memo, inputs and cache-invalidation handlers."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from sceau_shared.events import AccreditationChangedV1, InstitutionStatus, StatusListPublishedV1
from sceau_shared.events.credentials import StatusPurpose
from sceau_verifier.consumers import accreditation_changed, process_group, status_list_published
from sceau_verifier.errors import MalformedBody
from sceau_verifier.i18n import TEXTS, VALUE_LABELS, label, negotiate, text
from sceau_verifier.inputs import parse_submission
from sceau_verifier.kept_answers import VerifyAnswers
from sceau_verifier.proof_memo import ProofMemo
from sceau_verifier.registry import RegistryClient
from sceau_verifier.settings import StatusSettings, TrustSettings
from sceau_verifier.share_pages import SharePages
from sceau_verifier.status_lists import StatusListCache

URL = "http://127.0.0.1:8002/v1/status-lists/l1"


class TestLanguage:
    @pytest.mark.parametrize(
        ("query", "header", "expected"),
        [
            ("en", "fr", "en"),
            ("FR", None, "fr"),
            ("de", "en-US,en;q=0.9", "en"),
            (None, "de-DE,en;q=0.5,fr;q=0.7", "fr"),
            (None, "en;q=0,fr;q=0", "fr"),
            (None, "garbage;;;,q=x", "fr"),
            (None, None, "fr"),
        ],
    )
    def test_negotiate(self, query: str | None, header: str | None, expected: str) -> None:
        assert negotiate(query, header) == expected

    def test_every_text_exists_in_both_languages_with_the_same_placeholders(self) -> None:
        for key, versions in TEXTS.items():
            assert set(versions) == {"fr", "en"}, key
            fields = [
                {name for _, name, _, _ in string.Formatter().parse(v) if name}
                for v in versions.values()
            ]
            assert fields[0] == fields[1], key
        for kind, values in VALUE_LABELS.items():
            for value, names in values.items():
                assert set(names) == {"fr", "en"}, (kind, value)

    def test_text_and_label(self) -> None:
        assert text("hours_value", "fr", hours=15) == "15 h"
        assert label("courseMode", "blended", "fr") == "Hybride"
        assert label("courseMode", "underwater", "en") == "underwater"


class Outcome:
    def __init__(self, verified: bool) -> None:
        self.verified = verified


class TestProofMemo:
    async def test_reuses_verified_outcomes_of_identical_documents_only(self) -> None:
        calls: list[Any] = []

        async def verifier(document: Any, resolver: Any) -> Any:
            calls.append(document)
            return Outcome(document.get("ok", False))

        now = [0.0]
        memo = ProofMemo(verifier, ttl_s=10, clock=lambda: now[0])
        good = {"ok": True, "a": [1, 2]}
        assert (await memo({"a": [1, 2], "ok": True}, None)).verified
        assert (await memo(good, None)).verified  # same content, other key order
        assert len(calls) == 1
        assert memo.hits == 1
        assert (await memo({"ok": True, "a": [1, 3]}, None)).verified  # changed: verified again
        assert len(calls) == 2
        bad = {"ok": False}
        await memo(bad, None)
        await memo(bad, None)
        assert len(calls) == 4  # failures are never remembered
        now[0] = 11
        await memo(good, None)
        assert len(calls) == 5  # expired

    async def test_the_same_object_is_digested_once(self, monkeypatch) -> None:
        """A status list served from the cache is the same object every time."""
        from sceau_verifier import proof_memo

        digests: list[Any] = []
        real = proof_memo._digest
        monkeypatch.setattr(proof_memo, "_digest", lambda d: digests.append(d) or real(d))

        async def verifier(document: Any, resolver: Any) -> Any:
            return Outcome(True)

        memo = ProofMemo(verifier, ttl_s=10)
        status_list = {"type": ["VerifiableCredential"], "encodedList": "H4sI"}
        for _ in range(3):
            assert (await memo(status_list, None)).verified
        assert len(digests) == 1
        assert memo.hits == 2
        # An equal but distinct object is digested (and found by content).
        assert (await memo(dict(status_list), None)).verified
        assert len(digests) == 2
        assert memo.hits == 3

    async def test_a_body_digest_keys_the_parsed_document(self, monkeypatch) -> None:
        from sceau_verifier import proof_memo

        digests: list[Any] = []
        monkeypatch.setattr(proof_memo, "_digest", lambda d: digests.append(d) or "content")
        calls = 0

        async def verifier(document: Any, resolver: Any) -> Any:
            nonlocal calls
            calls += 1
            return Outcome(True)

        memo = ProofMemo(verifier, ttl_s=10)
        for _ in range(2):
            document = {"id": "urn:x"}  # parsed anew from the same body each time
            memo.hint(document, "body-sha")
            assert (await memo(document, None)).verified
        assert calls == 1
        assert digests == []  # the body digest was enough
        other = {"id": "urn:x"}
        memo.hint(other, "another-body-sha")
        await memo(other, None)
        assert calls == 2  # another body is another key, even for equal content

    async def test_disabled_with_zero_entries(self) -> None:
        calls = 0

        async def verifier(document: Any, resolver: Any) -> Any:
            nonlocal calls
            calls += 1
            return Outcome(True)

        memo = ProofMemo(verifier, ttl_s=10, max_entries=0)
        await memo({"x": 1}, None)
        await memo({"x": 1}, None)
        assert calls == 2


class TestInputs:
    def test_wrapper_and_query_challenge(self) -> None:
        body = b'{"credential": {"@context": []}, "domain": "ats.example"}'
        submission = parse_submission(body, "application/json", max_depth=8, challenge="c1")
        assert submission.challenge == "c1"
        assert submission.domain == "ats.example"
        assert submission.document == {"@context": []}

    def test_jwt_in_json_string_and_text_plain(self) -> None:
        token = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2ln"
        assert parse_submission(f'"{token}"'.encode(), None, max_depth=8).document == token
        assert parse_submission(token.encode(), "text/plain", max_depth=8).document == token

    def test_ld_json_media_types_are_json(self) -> None:
        submission = parse_submission(b"{}", "application/vc+ld+json; charset=utf-8", max_depth=8)
        assert submission.document == {}

    def test_depth_limit(self) -> None:
        with pytest.raises(MalformedBody, match="nested"):
            parse_submission(b'{"a": {"b": {"c": {}}}}', "application/json", max_depth=3)


class TestCacheInvalidation:
    async def test_events_update_the_caches(self) -> None:
        def registry_answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(
                200, json={"did": "did:key:z1", "registered": True, "institution_id": "i1"}
            )

        registry = RegistryClient(
            httpx.AsyncClient(transport=httpx.MockTransport(registry_answer)),
            TrustSettings(registry_url="http://reg"),
        )
        status_lists = StatusListCache(
            httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))),
            StatusSettings(allowed_hosts=["127.0.0.1:8002"], allow_private_hosts=True),
        )
        pages = SharePages(ttl_s=60, max_entries=8)
        answers = VerifyAnswers(ttl_s=60, max_entries=8)

        def forget_answers() -> None:
            pages.invalidate()
            answers.invalidate()

        graph: Any = SimpleNamespace(
            status_lists=status_lists,
            registry=registry,
            share_pages=pages,
            answers=answers,
            forget_answers=forget_answers,
        )
        now = datetime.now(UTC)
        await registry.issuer("did:key:z1", at=now, verification_method=None)
        listed = {"id": URL, "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {}}
        await status_list_published(
            StatusListPublishedV1(
                producer="sceau-issuer",
                list_id="l1",
                institution_id="i1",
                issuer_did="did:key:z1",
                purpose=StatusPurpose.REVOCATION,
                list_url=URL,
                version=2,
                format="BitstringStatusList",
                credential=listed,
            ),
            graph,
        )
        assert await status_lists.fetch(URL) == listed
        # kept answers (share pages and POST /v1/verify) dropped with the old list
        assert pages.generation == answers.generation == (1, 0)
        await accreditation_changed(
            AccreditationChangedV1(
                producer="sceau-registry",
                institution_id="i1",
                status=InstitutionStatus.SUSPENDED,
                effective_at=now,
            ),
            graph,
        )
        assert registry.requests == 1
        await registry.issuer("did:key:z1", at=now, verification_method=None)
        assert registry.requests == 2  # dropped by institution id although no DID was listed
        assert pages.generation == answers.generation == (2, 0)

    def test_each_process_gets_its_own_group(self) -> None:
        first, second = (
            process_group("verifier.status-cache"),
            process_group("verifier.status-cache"),
        )
        assert first != second
        assert first.startswith("verifier.status-cache.")


class TestSummary:
    def test_language_value_objects_and_fallback(self) -> None:
        from sceau_verifier.summary import build_summary, localized

        names = [{"@value": "Soudage", "@language": "fr"}, {"@value": "Welding", "@language": "en"}]
        assert localized(names, "en") == "Welding"
        assert localized(names, "fr") == "Soudage"
        assert localized({"fr": "Oui", "en": "Yes"}, "en") == "Yes"
        credential = {
            "issuer": {"id": "did:key:z1", "name": "Collège X"},
            "validFrom": "2026-01-02T03:04:05Z",
            "credentialSubject": {
                "achievement": {
                    "id": "urn:a",
                    "name": names,
                    "inLanguage": "fr",
                    "timeRequired": "PT7H30M",
                    "alignment": [
                        {"targetName": "Niveau 3", "targetType": "ext:Level", "targetUrl": "x:y"},
                        {"targetName": "Souder", "targetFramework": "CNP", "targetCode": "7237"},
                    ],
                }
            },
        }
        summary = build_summary(credential, lang="en", record=None, fmt="ob3-v2")
        assert summary.language_fallback is True  # no English variant: original shown
        assert summary.hours == 7.5
        assert summary.level is not None
        assert summary.level.name == "Niveau 3"
        assert [c.code for c in summary.competencies] == ["7237"]
        assert summary.issuer.name == "Collège X"
        assert summary.issuer.name_source == "credential"
        assert summary.issued_on is not None


class TestSummaryResultsInEachLanguage:
    """A grade is shown whichever of the credential's languages the page is read in."""

    def _credential(self) -> dict[str, Any]:
        from sceau_credentials.ob3 import (
            AchievementVersion,
            Assessment,
            IssuerProfile,
            Recipient,
            build_credential,
        )
        from sceau_credentials.ob3.models import Result

        version = AchievementVersion(
            id="https://college.example/achievements/weld/versions/1",
            version="1",
            default_language="fr",
            name={"fr": "Soudage", "en": "Welding"},
            description={"fr": "Souder.", "en": "Weld."},
            criteria={"fr": "Réussir.", "en": "Pass."},
            assessments=[
                Assessment(
                    method="exam",
                    name={"fr": "Examen", "en": "Exam"},
                    result_type="LetterGrade",
                )
            ],
        )
        return build_credential(
            version,
            Recipient(email="a@b.example"),
            IssuerProfile(id="did:key:z1", name={"fr": "Collège", "en": "College"}),
            "ob3-v2",
            credential_id="urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d",
            issued_at=datetime(2026, 1, 2, tzinfo=UTC),
            results=[
                Result(
                    result_description="https://college.example/achievements/weld/versions/1#assessment-1",
                    value="A",
                )
            ],
        )

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_grade_shown_in_both_languages(self, lang: str) -> None:
        from sceau_verifier.summary import build_summary

        summary = build_summary(self._credential(), lang=lang, record=None, fmt="ob3-v2")  # type: ignore[arg-type]
        assert summary.language_fallback is False
        assert [(a.name, a.result) for a in summary.assessments] == [
            ("Examen" if lang == "fr" else "Exam", "A")
        ]


def _render_result(summary: Any, lang: str) -> str:
    from sceau_verifier.api.rendering import render_page
    from sceau_verifier.graph import page_templates

    result = SimpleNamespace(outcome="verified", summary=summary, warnings=[], checks=[])
    response = render_page(page_templates(), "result.html", lang, switch_href="/", r=result)  # type: ignore[arg-type]
    return bytes(response.body).decode()


def _non_credit_credential(credits: float | None = None) -> dict[str, Any]:
    status = "credit" if credits else "non-credit"
    achievement: dict[str, Any] = {
        "id": "urn:a",
        "name": "Secourisme",
        "inLanguage": "fr",
        "otherIdentifier": [
            {"type": "IdentifierEntry", "identifier": status, "identifierType": "ext:creditStatus"},
            {"type": "IdentifierEntry", "identifier": "3", "identifierType": "ext:modules"},
        ],
    }
    if credits:
        achievement["creditsAvailable"] = credits
    return {
        "issuer": {"id": "did:key:z1", "name": "Collège X"},
        "credentialSubject": {"achievement": achievement},
    }


class TestCreditStatus:
    """R13: the verifier says "non-credit" when the achievement is."""

    @pytest.mark.parametrize(("lang", "words"), [("fr", "Sans crédit"), ("en", "Non-credit")])
    def test_non_credit_is_shown(self, lang: str, words: str) -> None:
        from sceau_verifier.summary import build_summary

        summary = build_summary(_non_credit_credential(), lang=lang, record=None, fmt="ob3-v2")  # type: ignore[arg-type]
        assert summary.credit_status == "non-credit"
        assert summary.credits is None
        assert words in _render_result(summary, lang)

    def test_credit_bearing_shows_its_value(self) -> None:
        from sceau_verifier.summary import build_summary

        summary = build_summary(_non_credit_credential(3), lang="en", record=None, fmt="ob3-v2")
        assert summary.credit_status == "credit"
        html = _render_result(summary, "en")
        assert "Non-credit" not in html
        assert "<dd>3" in html


class TestRegistryQualityFacts:
    """R59: the registry's QA body and approvals are shown to the verifier (FR/EN)."""

    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("fr", ["Approbation du ministère", "Admissible au RAFEO", "Organisme d'AQ"]),
            ("en", ["Ministry approval", "OSAP-eligible", "Quality assurance body"]),
        ],
    )
    def test_qa_body_and_approvals_are_shown(self, lang: str, words: list[str]) -> None:
        from sceau_verifier.registry import IssuerRecord
        from sceau_verifier.summary import build_summary

        record = IssuerRecord.model_validate(
            {
                "did": "did:key:z1",
                "registered": True,
                "status": "active",
                "accredited": True,
                "name": {"fr": "Collège X", "en": "College X"},
                "qa_body": "OCQAS",
                "approvals": ["ministry-approval", "osap-eligible", "something-new"],
            }
        )
        summary = build_summary(_non_credit_credential(), lang=lang, record=record, fmt="ob3-v2")  # type: ignore[arg-type]
        assert summary.issuer.qa_body == "OCQAS"
        assert summary.issuer.approvals == ["ministry-approval", "osap-eligible"]
        html = _render_result(summary, lang)
        for word in [*words, "OCQAS"]:
            assert word.replace("'", "&#39;") in html, word
