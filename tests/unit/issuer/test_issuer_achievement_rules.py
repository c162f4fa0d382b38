from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sceau_issuer.achievements.rules import publication_problems
from sceau_issuer.achievements.schemas import AchievementInput

URI = "https://issuer.example/v1/public/achievements/a/versions/1"


def problems(data: dict[str, Any], *, bilingual: bool = True) -> list[str]:
    found = publication_problems(
        AchievementInput.model_validate(data), bilingual=bilingual, achievement_uri=URI, version=1
    )
    return [str(p["field"]) for p in found]


def test_complete_micro_credential_publishes(micro: dict[str, Any]) -> None:
    assert problems(micro) == []


def test_bilingual_institution_needs_both_languages(micro: dict[str, Any]) -> None:
    del micro["name"]["en"]
    del micro["competencies"][0]["framework"]["fr"]
    assert problems(micro) == ["name.en", "competencies.0.framework.fr"]


def test_unilingual_institution_may_publish_one_language(micro: dict[str, Any]) -> None:
    data: dict[str, Any] = {
        "achievement_type": "Badge",
        "default_language": "en",
        "name": {"en": "Volunteer"},
        "description": {"en": "Helped"},
        "criteria": {"en": "Attend"},
        "assessments": [{"method": "participation", "name": {"en": "Attendance"}}],
    }
    assert problems(data, bilingual=False) == []


def test_micro_credential_required_fields(micro: dict[str, Any]) -> None:
    for field in ("hours", "delivery_mode"):
        micro.pop(field)
    micro["competencies"] = []
    micro["quality_assurance"] = []
    assert sorted(problems(micro)) == sorted(
        ["competencies", "hours", "delivery_mode", "quality_assurance"]
    )


def test_participation_only_refused_for_micro_credential_not_badge(
    micro: dict[str, Any],
) -> None:
    micro["assessments"] = [
        {"method": "participation", "name": {"fr": "Présence", "en": "Attendance"}}
    ]
    assert problems(micro) == ["assessments"]
    micro["achievement_type"] = "Badge"
    assert problems(micro) == []


def test_competency_needs_framework_and_skill_type(micro: dict[str, Any]) -> None:
    del micro["competencies"][0]["framework"]
    del micro["competencies"][0]["skill_type"]
    assert problems(micro) == ["competencies.0.framework", "competencies.0.skill_type"]


@pytest.mark.parametrize("hours", [0, -1, "many"])
def test_hours_must_be_positive_number(micro: dict[str, Any], hours: object) -> None:
    micro["hours"] = hours
    with pytest.raises(ValidationError) as info:
        AchievementInput.model_validate(micro)
    assert info.value.errors()[0]["loc"] == ("hours",)


def test_level_needs_definition_link(micro: dict[str, Any]) -> None:
    micro["level"] = {"name": {"fr": "Niveau 3", "en": "Level 3"}}
    with pytest.raises(ValidationError) as info:
        AchievementInput.model_validate(micro)
    assert info.value.errors()[0]["loc"] == ("level", "definition_url")


def test_unknown_achievement_type_refused(micro: dict[str, Any]) -> None:
    micro["achievement_type"] = "Trophy"
    with pytest.raises(ValidationError):
        AchievementInput.model_validate(micro)


def test_an_image_needs_its_alt_text_in_each_language(micro: dict[str, Any]) -> None:
    micro["image_url"] = "https://college.example/badges/blue.png"
    assert problems(micro) == ["image_caption.fr", "image_caption.en"]
    micro["image_caption"] = {"fr": "Badge bleu"}
    assert problems(micro) == ["image_caption.en"]
    micro["image_caption"]["en"] = "Blue badge"
    assert problems(micro) == []
