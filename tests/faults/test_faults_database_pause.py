"""The database server paused (SIGSTOP) under the real services: nothing lost, 503 meanwhile.

Issue 18, item 2, as seen on the demo stack: with the database paused, an institution
registration went to the dead-letter topic and the issuer never created the tenant; the registry
answered 500 after 29 s yet stored the institution without its event; the APIs hung and answered
500. Here, during one pause of ``PAUSE_S``:

* an operator registers an institution at the registry: the answer is 503 with ``Retry-After``
  within seconds, and afterwards the institution is either absent or present *with* its event
  (the issuer then creates its tenant): never half-done;
* the issuer API answers 503 with ``Retry-After`` within seconds;
* the registry's announcement of another institution reaches the issuer while its database
  is away: the issuer waits the outage out and creates the tenant after the resume, and nothing
  goes to the dead-letter topic;
* readiness (item 13) names the database as the component that is down, with Kafka up, on each
  service (they all need their database to answer), and is back to ready after the resume.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from fault_support import PAUSE_S, FaultDatabase, figures, peak_memory_mb
from pymongo import AsyncMongoClient

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_dev.testing.topics import records_on
from sceau_shared.events import BilingualText, InstitutionRegisteredV1, dead_letter_topic
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

#: The request deadline is 10 s (MONGO__REQUEST_TIMEOUT_S); before, the registry answered 500
#: after ~30 s, and the issuer hung for the whole pause.
ANSWER_WITHIN_S = 15.0


def registration(institution_id: str) -> dict[str, Any]:
    return {
        "institution_id": institution_id,
        "legal_name": {"fr": "Cégep en panne", "en": "Outage College"},
        "category": "public-college",
        "jurisdiction": "CA-QC",
        "did_method": "key",
        "reason": "fault suite",
    }


async def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def test_a_paused_database_loses_no_registration_and_answers_503(
    fault_stack: Stack, fault_database: FaultDatabase, real_endpoints: Endpoints
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:8]
    through_api, through_event = f"pause-api-{run}", f"pause-event-{run}"
    kafka = KafkaSettings(
        bootstrap_servers=real_endpoints.kafka_bootstrap,
        topic_prefix=stack.config.topic_prefix,
        client_id=f"faults-{run}",
    )
    broker = create_broker(kafka, client_id=f"faults-{run}")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(fault_database.uri, tz_aware=True)
    tenants = mongo[f"{stack.config.database_prefix}issuer"]["institutions"]
    announcement = InstitutionRegisteredV1(
        producer="sceau-registry",
        institution_id=through_event,
        legal_name=BilingualText(fr="Cégep annoncé", en="Announced College"),
        category="public-college",
        jurisdiction="CA-QC",
    )
    try:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="sceau-registry")
        async with httpx.AsyncClient(timeout=60) as http:
            services = ("registry", "issuer", "notifier")
            async with fault_database.paused(PAUSE_S):
                (registered, registry_s), *readiness = await asyncio.gather(
                    timed(
                        http.post(
                            f"{stack.url('registry')}/v1/admin/institutions",
                            json=registration(through_api),
                            headers=stack.operator_headers(),
                        )
                    ),
                    *(http.get(f"{stack.url(name)}/readyz") for name in services),
                )
                asked, issuer_s = await timed(
                    http.get(
                        f"{stack.url('issuer')}/v1/institution",
                        headers={"Authorization": "Bearer sceau.nokey.secret"},
                    )
                )
                await publisher.publish(announcement)
            resumed = time.monotonic()

            for name, ready in zip(services, readiness, strict=True):
                assert ready.status_code == 503, (name, ready.text)
                components = ready.json()["components"]
                assert components["mongo"]["status"] == "down", (name, components)
                assert components["kafka"] == {
                    "status": "ok",
                    "required": False,
                    "while_down": components["kafka"]["while_down"],
                }, (name, components)

            for answer, took in ((registered, registry_s), (asked, issuer_s)):
                assert answer.status_code == 503, answer.text
                assert answer.headers["content-type"].startswith("application/problem+json")
                assert int(answer.headers["retry-after"]) > 0
                assert took < ANSWER_WITHIN_S, f"answered after {took:.1f} s"

            await eventually(
                lambda: tenants.find_one({"_id": through_event}),
                timeout_s=90,
                message="the issuer created the announced tenant after the resume",
                details=stack.logs,
            )
            tenant_after_s = time.monotonic() - resumed
            for name in services:
                back = await http.get(f"{stack.url(name)}/readyz")
                assert back.json()["status"] == "ready", (name, back.text)

            # The registration that met the pause: absent, or present with its event.
            shown = await http.get(
                f"{stack.url('registry')}/v1/admin/institutions/{through_api}",
                headers=stack.operator_headers(),
            )
            assert shown.status_code in (200, 404), shown.text
            if shown.status_code == 200:
                await eventually(
                    lambda: tenants.find_one({"_id": through_api}),
                    timeout_s=60,
                    message="a registration stored during the pause reached the issuer",
                    details=stack.logs,
                )
        dead = await records_on(
            kafka.bootstrap_servers, dead_letter_topic(kafka.topic(InstitutionRegisteredV1.TOPIC))
        )
        assert dead == 0
        figures(
            "database paused during registrations",
            pause_s=PAUSE_S,
            requests=2,
            answered_503=2,
            slowest_answer_s=round(max(registry_s, issuer_s), 1),
            registration_during_pause="stored+announced" if shown.status_code == 200 else "absent",
            tenant_after_resume_s=round(tenant_after_s, 1),
            lost=0,
            dead_lettered=dead,
            peak_memory_mb=peak_memory_mb(stack),
        )
    finally:
        await broker.stop()
        await mongo.close()
