"""Publication rules: completeness, both languages, and the micro-credential quality rules.

Pure functions, so the rules are unit-tested without a database. Each problem names the field
path (``competencies/0/framework``) so an institution's tooling can point at the exact field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from sceau_credentials.ob3.authoring import AchievementVersion, AssessmentMethod, LangMap
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.errors import field_problem as _problem

BILINGUAL = ("fr", "en")
MICRO_CREDENTIAL = "MicroCredential"


def _lang_maps(definition: AchievementInput) -> Iterator[tuple[str, LangMap | None]]:
    yield "name", definition.name
    yield "description", definition.description
    yield "criteria", definition.criteria
    yield "image_caption", definition.image_caption
    yield "field_of_study", definition.field_of_study
    if definition.level is not None:
        yield "level.name", definition.level.name
        yield "level.scheme", definition.level.scheme
    for i, competency in enumerate(definition.competencies):
        yield f"competencies.{i}.name", competency.name
        yield f"competencies.{i}.description", competency.description
        yield f"competencies.{i}.framework", competency.framework
    for i, assessment in enumerate(definition.assessments):
        yield f"assessments.{i}.name", assessment.name
    for i, body in enumerate(definition.quality_assurance):
        yield f"quality_assurance.{i}.name", body.name


def missing_languages(
    definition: AchievementInput, languages: tuple[str, ...]
) -> list[dict[str, object]]:
    """Name every text that lacks one of ``languages`` (e.g. ``name.en``)."""
    problems = []
    for path, value in _lang_maps(definition):
        if value is None:
            continue
        for lang in languages:
            if not value.get(lang, "").strip():
                problems.append(
                    _problem(f"{path}.{lang}", f"the {lang!r} text is required", "missing_language")
                )
    return problems


def missing_alt_text(
    definition: AchievementInput, languages: tuple[str, ...]
) -> list[dict[str, object]]:
    """An image needs its alt text (``image_caption``) in every language the version carries.

    The image is what a baked badge (PNG/SVG) shows and what pages render: without alt text a
    screen-reader user learns nothing from it (WCAG 1.1.1). A caption given in only some
    languages is already caught by :func:`missing_languages`.
    """
    if definition.image_url is None or definition.image_caption is not None:
        return []
    return [
        _problem(
            f"image_caption.{lang}",
            f"the image needs its alt text in {lang!r}",
            "missing_alt_text",
        )
        for lang in languages
    ]


def micro_credential_problems(definition: AchievementInput) -> list[dict[str, object]]:
    """Apply the micro-credential rules (field requirements A.1, A.3, A.5, A.6, A.7, A.9)."""
    if definition.achievement_type != MICRO_CREDENTIAL:
        return []
    problems = []
    required: dict[str, object] = {
        "description": definition.description,
        "criteria": definition.criteria,
        "competencies": definition.competencies,
        "hours": definition.hours,
        "assessments": definition.assessments,
        "delivery_mode": definition.delivery_mode,
        "quality_assurance": definition.quality_assurance,
    }
    for path, value in required.items():
        if value is None or value == []:
            problems.append(_problem(path, "required for a MicroCredential", "missing"))
    for i, competency in enumerate(definition.competencies):
        if competency.framework is None:
            problems.append(
                _problem(f"competencies.{i}.framework", "name the framework", "missing")
            )
        if competency.skill_type is None:
            problems.append(
                _problem(f"competencies.{i}.skill_type", "technical or non-technical", "missing")
            )
    methods = {a.method for a in definition.assessments}
    if methods and methods <= {AssessmentMethod.PARTICIPATION}:
        problems.append(
            _problem(
                "assessments",
                "a MicroCredential needs an authentic assessment; participation alone is only "
                "enough for a Badge",
                "participation_only",
            )
        )
    if definition.credit_status == "credit" and definition.credits is None:
        problems.append(
            _problem("credits", "a credit-bearing achievement states its credits", "missing")
        )
    return problems


def engine_version(
    definition: AchievementInput, *, achievement_uri: str, version: int, languages: tuple[str, ...]
) -> AchievementVersion:
    """Build the engine's immutable achievement version (authored in ``languages``).

    Raises:
        ValidationError: when the engine's own checks refuse it (mapped to 422 by the caller).
    """
    keep = set(languages)

    def only(value: LangMap | None) -> LangMap | None:
        return None if value is None else {k: v for k, v in value.items() if k in keep}

    def nested(items: list[Any]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            data = item.model_dump(exclude_none=True)
            for key, value in list(data.items()):
                if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                    data[key] = {k: v for k, v in value.items() if k in keep}
            out.append(data)
        return out

    data: dict[str, Any] = {
        "id": achievement_uri,
        "version": str(version),
        "achievement_type": definition.achievement_type,
        "default_language": definition.default_language,
        "name": only(definition.name),
        "description": only(definition.description) or only(definition.name),
        "criteria": only(definition.criteria) or only(definition.name),
        "criteria_url": definition.criteria_url,
        "image_url": definition.image_url,
        "image_caption": only(definition.image_caption),
        "competencies": nested(definition.competencies),
        "level": nested([definition.level])[0] if definition.level else None,
        "hours": definition.hours,
        "delivery_mode": definition.delivery_mode,
        "pacing": definition.pacing,
        "applied_learning": definition.applied_learning,
        "assessments": nested(definition.assessments),
        "credits": definition.credits if definition.credit_status != "non-credit" else None,
        "field_of_study": only(definition.field_of_study),
        "instruction_languages": definition.instruction_languages,
        "quality_assurance": nested(definition.quality_assurance),
        "tags": definition.tags,
        "human_code": definition.human_code,
    }
    return AchievementVersion.model_validate({k: v for k, v in data.items() if v is not None})


def authored_languages(definition: AchievementInput, bilingual: bool) -> tuple[str, ...]:
    """The languages a published version carries: FR+EN for bilingual institutions."""
    if bilingual:
        return BILINGUAL
    return tuple(sorted(definition.name))


def publication_problems(
    definition: AchievementInput,
    *,
    bilingual: bool,
    achievement_uri: str,
    version: int,
) -> list[dict[str, object]]:
    """Return every reason the version cannot be published (empty when it can)."""
    problems = []
    if bilingual:
        problems += missing_languages(definition, BILINGUAL)
    elif definition.default_language not in definition.name:
        problems.append(
            _problem("default_language", "the default language has no name", "missing_language")
        )
    problems += missing_alt_text(definition, authored_languages(definition, bilingual))
    problems += micro_credential_problems(definition)
    if problems:
        return problems
    try:
        engine_version(
            definition,
            achievement_uri=achievement_uri,
            version=version,
            languages=authored_languages(definition, bilingual),
        )
    except ValidationError as exc:
        for err in exc.errors():
            path = ".".join(str(p) for p in err.get("loc", ())) or "definition"
            problems.append(_problem(path, str(err.get("msg", "invalid")), str(err.get("type"))))
    return problems
