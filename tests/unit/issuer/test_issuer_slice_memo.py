"""A signing slice derives each key and builds each achievement once (issue 19).

A batch slice is one institution's credentials of one achievement version; deriving the key
(~54 µs) and building the OB ``Achievement`` model for every credential was about a tenth of a
worker's time. The memo lives for one slice and is keyed by the version object itself, so what
is shared never changes what is signed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from build_specs import build_spec

import sceau_credentials.ob3.builder as builder
import sceau_issuer.issuing.sign_jobs as sign_jobs_module
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import schema_problems
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.issuing.schemas import RecipientInput
from sceau_issuer.issuing.sign_jobs import BuildSpec, SignJob, sign_jobs


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


def test_a_slice_derives_its_key_and_builds_each_achievement_once(
    micro: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = SigningKey.generate()
    spec = build_spec(AchievementInput.model_validate(micro), key)
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
    spec = build_spec(AchievementInput.model_validate(micro), key)
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
