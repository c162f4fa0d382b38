"""A signing slice derives each key and builds each achievement once (issue 19).

A batch slice is one institution's credentials of one achievement version; deriving the key
(~54 µs) and building the OB ``Achievement`` model for every credential was about a tenth of a
worker's time. The memo lives for one slice and is keyed by the version object itself, so what
is shared never changes what is signed.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

import sceau_credentials.ob3.builder as builder
import sceau_issuer.issuing.sign_jobs as sign_jobs_module
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import IssuerProfile, schema_problems
from sceau_issuer.achievements.rules import engine_version
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.issuing.schemas import RecipientInput
from sceau_issuer.issuing.sign_jobs import BuildSpec, SignJob, sign_jobs
from sceau_issuer.status.status_lists import StatusSlot


def _job(key: SigningKey, spec: BuildSpec, n: int, language: str) -> SignJob:
    return SignJob(
        dataclasses.replace(
            spec,
            recipient=RecipientInput(email=f"learner{n}@example.org", language=language),
            credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        ),
        key.seed,
        key.controller,
        1,
    )


def _spec(micro: dict[str, Any], key: SigningKey) -> BuildSpec:
    definition = AchievementInput.model_validate(micro)
    return BuildSpec(
        issuer=IssuerProfile(id=key.controller, name={"fr": "Collège", "en": "College"}),
        achievement=engine_version(
            definition,
            achievement_uri="https://issuer.example/v1/public/achievements/a1/versions/1",
            version=1,
            languages=("fr", "en"),
        ),
        recipient=RecipientInput(email="ada@example.org"),
        profile="ob3-v2",
        credential_id="urn:uuid:4c1c7bd5-0b8f-4f4c-9d6b-2a4a1f0f3c11",
        issued_at=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=None,
        slot=StatusSlot(
            alloc_list_id="c1.x.bsl.1",
            index=7,
            list_ids={"revocation": "c1.r"},
            list_urls={"revocation": "https://registry.example/v1/status-lists/c1.r"},
        ),
    )


def test_a_slice_derives_its_key_and_builds_each_achievement_once(
    micro: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = SigningKey.generate()
    spec = _spec(micro, key)
    languages = ["en", "en", "fr", "en", "fr"]
    jobs = [_job(key, spec, n, language) for n, language in enumerate(languages)]
    alone = [sign_jobs([job])[0] for job in jobs]  # each in a slice of its own
    built: list[str] = []
    keys: list[str] = []
    real_build, real_key = builder.build_achievement, sign_jobs_module.any_signing_key

    def counting_build(version: Any, language: str | None = None) -> Any:
        built.append(str(language))
        return real_build(version, language)

    def counting_key(*args: Any) -> Any:
        keys.append(str(args[1]))
        return real_key(*args)

    monkeypatch.setattr(builder, "build_achievement", counting_build)
    monkeypatch.setattr(sign_jobs_module, "any_signing_key", counting_key)
    together = sign_jobs(jobs)
    assert sorted(built) == ["en", "fr"]  # once per language of the shared version
    assert keys == [key.controller]
    for one, shared, language in zip(alone, together, languages, strict=True):
        assert isinstance(one, dict)
        assert isinstance(shared, dict)
        assert schema_problems(shared) == []
        achievement = shared["credentialSubject"]["achievement"]
        assert achievement == one["credentialSubject"]["achievement"]
        assert achievement["inLanguage"] == language
        assert shared["name"] == one["name"]
    # Every credential got its own JSON: changing one leaves the others as they were.
    first, second = together[0], together[1]
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    first["credentialSubject"]["achievement"]["name"] = "changed"
    assert second["credentialSubject"]["achievement"]["name"] != "changed"


def test_versions_that_look_alike_are_never_taken_for_one_another(
    micro: dict[str, Any],
) -> None:
    key = SigningKey.generate()
    spec = _spec(micro, key)
    renamed = spec.achievement.model_copy(
        update={"name": {**spec.achievement.name, "en": "Another name"}}
    )
    jobs = [
        _job(key, spec, 1, "en"),
        _job(key, dataclasses.replace(spec, achievement=renamed), 2, "en"),
    ]
    first, second = sign_jobs(jobs)
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["credentialSubject"]["achievement"]["name"] != "Another name"
    assert second["credentialSubject"]["achievement"]["name"] == "Another name"
