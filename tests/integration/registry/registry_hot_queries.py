"""The registry of the registry's hot queries: every database call on a request or event path.

Each entry runs a path through the registry's own services (built by ``build_graph``, background
loops not started); ``test_registry_hot_queries.py`` records every command they send and has the
server ``explain`` each filter (see ``sceau_dev.testing.hot_queries``). ``bounded`` names the
collections a path may read whole because their size does not grow with use: ``institutions``
(one document per institution, ~60 in the field) and the operator's ``audit`` listing (tens of
entries per institution, on demand).

docs/mongodb-features.md ("Hot queries", registry) lists the same names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_dev.testing.hot_queries import HotQuery
from sceau_registry.graph import RegistryGraph
from sceau_registry.schemas import ChangeStatus, GrantScope, RegisterInstitution, WithdrawScope
from sceau_shared.events import (
    DidMethod,
    InstitutionStatus,
    IssuerKeyPublishedV1,
    KeyAction,
    StatusListPublishedV1,
    StatusPurpose,
)

SMALL = frozenset({"institutions"})
"""Read whole on FerretDB where filtered by a field: one document per institution (~60)."""

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class World:
    """What the hot queries act on (filled by :func:`prepare`, then by the queries in order)."""

    graph: RegistryGraph
    db: Any
    institution_id: str = ""
    did: str = ""
    scope_id: str = ""
    list_id: str = ""


async def prepare(graph: RegistryGraph, db: Any) -> World:
    """A name for the institution the entries register; nothing stored yet."""
    world = World(graph, db)
    world.institution_id = f"inst-{uuid.uuid4().hex[:8]}"
    world.list_id = f"{world.institution_id}-rev-0"
    return world


async def fast_signer(credential: Any, key: SigningKey) -> dict[str, Any]:
    """Signs nothing: the hot-query test checks the queries, not the proof (RDFC costs CPU)."""
    return {**dict(credential), "proof": {"type": "DataIntegrityProof", "proofValue": "z0"}}


async def registration(world: World) -> None:
    inst = await world.graph.governance.register(
        RegisterInstitution.model_validate(
            {
                "institution_id": world.institution_id,
                "legal_name": {"fr": "Collège Chaud", "en": "Hot College"},
                "category": "public-college",
                "jurisdiction": "CA-ON",
                "did_method": DidMethod.HOSTED_WEB.value,
                "reason": "hot query",
            }
        ),
        actor="alice",
    )
    world.did = inst.dids[0]


async def status_change(world: World) -> None:
    await world.graph.governance.change_status(
        world.institution_id,
        ChangeStatus(status=InstitutionStatus.ACTIVE, reason="approved"),
        actor="alice",
    )


async def accreditation(world: World) -> None:
    governance = world.graph.governance
    _, scope = await governance.grant_scope(
        world.institution_id,
        GrantScope.model_validate(
            {
                "achievement_types": ["Certificate"],
                "valid_from": (NOW - timedelta(days=1)).isoformat(),
                "reason": "accredited",
            }
        ),
        actor="alice",
    )
    world.scope_id = scope.scope_id
    _, second = await governance.grant_scope(
        world.institution_id,
        GrantScope.model_validate(
            {
                "achievement_types": ["Badge"],
                "valid_from": (NOW - timedelta(days=1)).isoformat(),
                "reason": "accredited",
            }
        ),
        actor="alice",
    )
    await governance.withdraw_scope(
        world.institution_id, second.scope_id, WithdrawScope(reason="ended"), actor="alice"
    )


async def key_event(world: World) -> None:
    key = SigningKey.from_seed(bytes([7]) * 32, world.did, "key-1")
    event = IssuerKeyPublishedV1(
        producer="sceau-issuer",
        institution_id=world.institution_id,
        did=world.did,
        verification_method=key.verification_method,
        public_key_multibase=key.public_key_multibase,
        action=KeyAction.ADDED,
        active_from=NOW - timedelta(days=1),
    )
    await world.graph.key_ingest.handle(event)
    await world.graph.key_ingest.handle(event)  # a replay: the processed-event marker


async def event_relay(world: World) -> None:
    assert await world.graph.relay.drain_once() >= 1  # the registration's events and more
    assert await world.graph.relay.drain_once() == 0


async def trust_lookup(world: World) -> None:
    trust = world.graph.trust
    trust.forget_all()
    answer = await trust.issuer(world.did, at=NOW, verification_method=f"{world.did}#key-1")
    assert world.institution_id.encode() in answer
    unknown = f"did:web:unknown.example:{uuid.uuid4().hex}"
    await trust.issuer(unknown, at=None, verification_method=None)


async def hosted_did_document(world: World) -> None:
    world.graph.trust.forget_all()
    assert await world.graph.trust.hosted_document(world.institution_id) is not None


async def institution_read(world: World) -> None:
    assert await world.graph.trust.get(world.institution_id) is not None
    assert await world.graph.governance.get(world.institution_id) is not None


async def status_list_publication(world: World) -> None:
    url = f"http://registry.test/v1/status-lists/{world.list_id}"
    for version in (1, 2, 1):  # the last one is late: ignored
        event = StatusListPublishedV1(
            producer="sceau-issuer",
            list_id=world.list_id,
            institution_id=world.institution_id,
            issuer_did=world.did,
            purpose=StatusPurpose.REVOCATION,
            list_url=url,
            version=version,
            format="BitstringStatusList",
            ttl_ms=120_000,
            credential={"id": url, "credentialSubject": {"encodedList": f"u{version}"}},
        )
        await world.graph.status_lists.publish(event)


async def status_list_serving(world: World) -> None:
    world.graph.status_lists._cache.clear()  # a cold replica reads the store
    assert await world.graph.status_lists.get(world.list_id) is not None


async def trust_list(world: World) -> None:
    assert await world.graph.trust_list.refresh(force=True)
    assert await world.graph.trust_list.current() is not None


async def listings(world: World) -> None:
    trust = world.graph.trust
    await trust.page(status=InstitutionStatus.ACTIVE, category=None, q="Hot", page=1, page_size=20)
    await trust.dcc_export()
    await world.graph.governance.audit(institution_id=world.institution_id, page=1, page_size=20)
    await world.graph.governance.audit(institution_id=None, page=1, page_size=20)


HOT_QUERIES: dict[str, HotQuery] = {
    "registration": HotQuery(
        "POST /v1/admin/institutions",
        "did_owners._id, institutions._id, audit and events inserts (ids from the change id)",
        registration,
    ),
    "status change": HotQuery(
        "POST /v1/admin/institutions/{id}/status",
        "institutions._id (+rev), audit and events inserts",
        status_change,
    ),
    "accreditation": HotQuery(
        "POST …/scopes, POST …/scopes/{scope}/withdraw",
        "institutions._id (+rev), audit and events inserts",
        accreditation,
    ),
    "key event": HotQuery(
        "consumer of issuer.key-published.v1",
        "processed_events._id, key_index._id, keys._id upsert, institutions._id, did_owners._id",
        key_event,
    ),
    "event relay": HotQuery(
        "event-log relay (background, woken by each change)",
        "events_pending (bounded: unpublished events only), events._id",
        event_relay,
        bounded=frozenset({"events_pending"}),
    ),
    "trust lookup": HotQuery(
        "GET /v1/issuers/{did} (cache miss)",
        "did_owners._id, institutions._id, key_index._id (the DID's slots), keys._id",
        trust_lookup,
    ),
    "hosted did:web document": HotQuery(
        "GET /institutions/{id}/did.json (cache miss)",
        "institutions._id, key_index._id, keys._id",
        hosted_did_document,
    ),
    "institution read": HotQuery(
        "GET /v1/institutions/{id}, GET /v1/admin/institutions/{id}",
        "institutions._id",
        institution_read,
    ),
    "status list publication": HotQuery(
        "consumer of issuer.status-list-published.v1",
        "status_lists._id (+ version guard)",
        status_list_publication,
    ),
    "status list serving": HotQuery(
        "GET /v1/status-lists/{id} (cache miss)",
        "status_lists._id",
        status_list_serving,
    ),
    "trust list": HotQuery(
        "trust-list re-signing, GET /v1/trust-list",
        "institutions (bounded), trust_lists._id",
        trust_list,
        bounded=SMALL,
    ),
    "listings": HotQuery(
        "GET /v1/institutions, GET /v1/exports/dcc-registry, GET /v1/admin/audit",
        "institutions (bounded); audit (operator listing, on demand)",
        listings,
        bounded=SMALL | {"audit"},
    ),
}
