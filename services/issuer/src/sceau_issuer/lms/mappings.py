"""From an LMS's completion event to what issuing needs: learner, course or achievement, results.

Three shapes are read, each named by the hook's URL (``/v1/lms/hooks/{institution}/{lms}``):

* ``generic``: Sceau's own documented shape (``docs/lms.md``), for any LMS or middleware;
* ``canvas``: a Canvas Live Events ``course_completed`` event (``metadata.event_name``,
  ``body.user``, ``body.course``, ``body.progress.completed_at``), as Canvas documents it;
* ``brightspace``: a Brightspace Data Streams award-issued event (xAPI: verb ``created`` on an
  ``…/activities/tools/award/issue`` object; the award, issuance and awarded user in the
  ``…/extension_keys/context/object`` extension). Brightspace names the learner by user id only,
  so the forwarder adds ``learner.email`` (and ``name``) from Brightspace's users API.

Events that are not completions (a Canvas ``grade_change``, a revoked Brightspace award) are
:class:`Skipped`, never issued. Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sceau_issuer.errors import LmsPayloadInvalid, field_problem
from sceau_issuer.issuing.schemas import ResultInput
from sceau_shared.emails import EmailAddress

BRIGHTSPACE_API = "https://api.brightspace.com/xapi/"
BRIGHTSPACE_OBJECT = BRIGHTSPACE_API + "extension_keys/context/object"
BRIGHTSPACE_CONTEXT = BRIGHTSPACE_API + "extension_keys/context/context"
BRIGHTSPACE_AWARD_ISSUE = BRIGHTSPACE_API + "activities/tools/award/issue"
BRIGHTSPACE_CREATED = BRIGHTSPACE_API + "verbs/created"


class Lms(StrEnum):
    """The event shapes the hook reads (the last part of its URL)."""

    GENERIC = "generic"
    CANVAS = "canvas"
    BRIGHTSPACE = "brightspace"


@dataclass(frozen=True)
class Completion:
    """A learner completed something the institution issues a credential for.

    ``course`` is the LMS's own id (a Canvas course, a Brightspace award), looked up in the
    institution's mappings unless ``achievement_id`` names the achievement directly (generic
    shape). Fields the LMS does not send are None.
    """

    lms: Lms
    course: str | None
    achievement_id: str | None
    email: str
    name: str | None = None
    language: Literal["fr", "en"] | None = None
    completed_at: datetime | None = None
    results: list[ResultInput] = field(default_factory=list)
    credits_earned: float | None = None

    @property
    def course_key(self) -> str:
        """What identifies the completed thing in the idempotency key (course, else achievement)."""
        return self.course if self.course is not None else f"achievement:{self.achievement_id}"


@dataclass(frozen=True)
class Skipped:
    """An event the hook receives and issues nothing for (not a completion)."""

    reason: str


# --- the generic shape ---------------------------------------------------------------------------

GENERIC_EXAMPLE: dict[str, Any] = {
    "type": "course.completed",
    "learner": {"email": "ada@example.org", "name": "Ada Tremblay", "language": "fr"},
    "course": {"id": "SCI-101-A26", "name": "Science des données"},
    "completed_at": "2026-11-30T16:20:00Z",
    "results": [{"assessment": 1, "value": "A", "status": "Completed"}],
}


class GenericLearner(BaseModel):
    """The learner of a generic completion event."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: EmailAddress
    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: Literal["fr", "en"] | None = None


class GenericCourse(BaseModel):
    """The LMS course of a generic completion event (the institution maps it to an achievement)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str = Field(min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=300)


class GenericCompletion(BaseModel):
    """Sceau's documented completion event (``docs/lms.md``): one learner, one completion.

    Give ``achievement_id`` to name the achievement directly, or ``course`` for the mapping the
    institution configured (``PUT /v1/lms/mappings/generic/{course_id}``); with both, the
    achievement is used and the course still identifies the completion.
    """

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [GENERIC_EXAMPLE]},
    )

    type: Literal["course.completed"] = "course.completed"
    learner: GenericLearner
    achievement_id: str | None = Field(default=None, min_length=1, max_length=64)
    course: GenericCourse | None = None
    completed_at: datetime | None = None
    results: list[ResultInput] = Field(default_factory=list, max_length=50)
    credits_earned: float | None = Field(default=None, ge=0, le=10_000)


def _problems(exc: ValidationError) -> list[dict[str, object]]:
    return [
        _field(".".join(str(p) for p in e["loc"]), e["msg"], e["type"])
        for e in exc.errors(include_url=False, include_input=False)
    ]


def invalid(problems: list[dict[str, object]], *, en: str, fr: str) -> LmsPayloadInvalid:
    """The 422 of an event issuing cannot use, naming each field, in English and French."""
    return LmsPayloadInvalid(en, errors=problems, extra={"detail_en": en, "detail_fr": fr})


def _field(path: str, message: str, code: str = "missing") -> dict[str, object]:
    return field_problem(path, message, code)


def read_generic(payload: Any) -> Completion | Skipped:
    """Read Sceau's generic shape; 422 (naming the fields) when it is not one."""
    if isinstance(payload, dict) and payload.get("type", "course.completed") != "course.completed":
        return Skipped(f"event type {str(payload.get('type'))[:80]!r} is not a completion")
    try:
        event = GenericCompletion.model_validate(payload)
    except ValidationError as exc:
        problems = _problems(exc)
        learner = any(str(p["field"]).startswith("learner") for p in problems)
        raise invalid(
            problems,
            en=(
                "the learner's e-mail address is missing or invalid (learner.email)"
                if learner
                else f"{len(problems)} field(s) of the completion event are invalid"
            ),
            fr=(
                "l'adresse courriel de l'apprenant manque ou est invalide (learner.email)"
                if learner
                else f"{len(problems)} champ(s) de l'événement d'achèvement sont invalides"
            ),
        ) from exc
    if event.achievement_id is None and event.course is None:
        raise invalid(
            [_field("course.id", "give course.id (mapped by the institution) or achievement_id")],
            en="the event names neither a course (course.id) nor an achievement (achievement_id)",
            fr="l'événement ne nomme ni un cours (course.id) ni un titre (achievement_id)",
        )
    return Completion(
        lms=Lms.GENERIC,
        course=event.course.id if event.course else None,
        achievement_id=event.achievement_id,
        email=str(event.learner.email),
        name=event.learner.name,
        language=event.learner.language,
        completed_at=event.completed_at,
        results=event.results,
        credits_earned=event.credits_earned,
    )


# --- Canvas --------------------------------------------------------------------------------------


def _dig(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _text(value: Any, limit: int = 200) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text[:limit] if text else None
    return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class _Email(BaseModel):
    email: EmailAddress


def _learner_email(value: Any, path: str, *, who: str) -> str:
    """The learner's address, or a 422 that says where the LMS should have put it."""
    text = _text(value, 320)
    if text is not None:
        try:
            return str(_Email(email=text).email)
        except ValidationError:
            pass
    raise invalid(
        [_field(path, f"the learner's e-mail address is missing or invalid ({who})")],
        en=f"the event does not give the learner's e-mail address ({path}; {who}): Sceau "
        "e-mails the credential to it and writes only its salted hash into the credential",
        fr=f"l'événement ne donne pas l'adresse courriel de l'apprenant ({path} ; {who}) : "
        "Sceau y envoie le titre et n'en écrit que l'empreinte salée dans le titre",
    )


def read_canvas(payload: Any) -> Completion | Skipped:
    """Read a Canvas Live Events ``course_completed`` event (other events are skipped)."""
    event_name = _text(_dig(payload, "metadata", "event_name"), 80)
    if event_name != "course_completed":
        return Skipped(f"Canvas event {event_name!r} is not course_completed")
    course = _text(_dig(payload, "body", "course", "id"), 128)
    if course is None:
        raise invalid(
            [_field("body.course.id", "the completed course's id is missing")],
            en="the Canvas event does not name the completed course (body.course.id)",
            fr="l'événement Canvas ne nomme pas le cours terminé (body.course.id)",
        )
    user_id = _text(_dig(payload, "body", "user", "id"), 64)
    email = _learner_email(
        _dig(payload, "body", "user", "email"), "body.user.email", who=f"Canvas user {user_id}"
    )
    return Completion(
        lms=Lms.CANVAS,
        course=course,
        achievement_id=None,
        email=email,
        name=_text(_dig(payload, "body", "user", "name")),
        completed_at=_when(_dig(payload, "body", "progress", "completed_at"))
        or _when(_dig(payload, "metadata", "event_time")),
    )


# --- Brightspace ---------------------------------------------------------------------------------


def read_brightspace(payload: Any) -> Completion | Skipped:
    """Read a Brightspace Data Streams award-issued event, enriched with ``learner.email``."""
    verb = _text(_dig(payload, "verb", "id"), 300)
    kind = _text(_dig(payload, "object", "definition", "type"), 300)
    if kind != BRIGHTSPACE_AWARD_ISSUE:
        return Skipped(f"Brightspace event of type {kind!r} is not an award issuance")
    if verb != BRIGHTSPACE_CREATED:
        return Skipped(f"Brightspace award event {verb!r} is not an issuance (created)")
    extensions = _dig(payload, "context", "extensions")
    award = _text(_dig(extensions, BRIGHTSPACE_OBJECT, "awardId"), 128)
    if award is None:
        path = f"context.extensions.{BRIGHTSPACE_OBJECT}.awardId"
        raise invalid(
            [_field(path, "the issued award's id is missing")],
            en=f"the Brightspace event does not name the award ({path})",
            fr=f"l'événement Brightspace ne nomme pas la distinction ({path})",
        )
    user_id = _text(_dig(extensions, BRIGHTSPACE_OBJECT, "issuedUserId"), 64)
    email = _learner_email(
        _dig(payload, "learner", "email"), "learner.email", who=f"Brightspace user {user_id}"
    )
    return Completion(
        lms=Lms.BRIGHTSPACE,
        course=award,
        achievement_id=None,
        email=email,
        name=_text(_dig(payload, "learner", "name")),
        completed_at=_when(_dig(payload, "timestamp")),
    )


READERS = {Lms.GENERIC: read_generic, Lms.CANVAS: read_canvas, Lms.BRIGHTSPACE: read_brightspace}


def read_completion(lms: Lms, payload: Any) -> Completion | Skipped:
    """The completion an event of this LMS describes, or why it is skipped.

    Raises:
        LmsPayloadInvalid: (422, FR/EN, ``errors`` naming the fields) when the event is a
            completion issuing cannot use: no usable learner e-mail, no course, bad fields.
    """
    if not isinstance(payload, dict):
        raise invalid(
            [_field("", "the event must be a JSON object", "type")],
            en="the completion event must be a JSON object",
            fr="l'événement d'achèvement doit être un objet JSON",
        )
    return READERS[lms](payload)
