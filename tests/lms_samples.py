"""LMS completion events as Canvas and Brightspace document them (made-up values), for tests.

Shared by the issuer's unit tests (the event shapes) and integration tests (the hook).
"""

from __future__ import annotations

from typing import Any

from sceau_issuer.lms.mappings import (
    BRIGHTSPACE_AWARD_ISSUE,
    BRIGHTSPACE_CONTEXT,
    BRIGHTSPACE_CREATED,
    BRIGHTSPACE_OBJECT,
)


def canvas_course_completed(**user: Any) -> dict[str, Any]:
    """A Canvas Live Events course_completed event (the documented fields, made-up values)."""
    return {
        "metadata": {
            "event_name": "course_completed",
            "event_time": "2026-11-30T16:20:01.000Z",
            "producer": "canvas",
            "root_account_id": "10000000000001",
            "context_type": "Course",
            "context_id": "10000000000565",
            "user_id": "10000000000123",
        },
        "body": {
            "course": {"id": "565", "name": "Science des données", "account_id": "79"},
            "progress": {
                "completed_at": "2026-11-30T16:20:00.000Z",
                "requirement_count": 6,
                "requirement_completed_count": 6,
                "next_requirement_url": None,
            },
            "user": {"id": "123", "name": "Ada Tremblay", "email": "ada@example.org", **user},
        },
    }


def brightspace_award_issued(*, verb: str = BRIGHTSPACE_CREATED, **learner: Any) -> dict[str, Any]:
    """A Brightspace Data Streams award-issued event, with the forwarder's ``learner`` added."""
    event: dict[str, Any] = {
        "id": "7b0c6f5e-2f2c-4c44-9d8e-0d6a3b1e2f10",
        "timestamp": "2026-11-30T16:20:00.123Z",
        "actor": {
            "account": {
                "homePage": "https://tenant.lms.example/",
                "name": "urn:uuid:9d7c1c3e-1111-4a4a-8b8b-222233334444",
            }
        },
        "verb": {"id": verb},
        "object": {
            "objectType": "Activity",
            "id": "urn:uuid:5e5e5e5e-6666-4777-8888-999900001111",
            "definition": {"type": BRIGHTSPACE_AWARD_ISSUE},
        },
        "context": {
            "registration": "1f1f1f1f-2222-4333-8444-555566667777",
            "extensions": {
                BRIGHTSPACE_OBJECT: {"awardId": 80, "issuanceId": 4021, "issuedUserId": 3107},
                BRIGHTSPACE_CONTEXT: {"orgUnitId": 7538, "orgUnitType": "Course Offering"},
            },
        },
    }
    if learner:
        event["learner"] = learner
    return event
