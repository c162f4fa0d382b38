"""A service's AsyncAPI 3 document, generated from what it declares: consumers and produced events.

The topic table of ``docs/architecture.md`` says which service produces and consumes which event;
this document is the machine-readable form of one service's share of it, built from the same
declarations the service runs with, so it cannot drift from the code:

* every handler on the consumer router (``definition.consumers(settings)``) is a *receive*
  operation on its topic, with the consumed event's JSON schema as the message payload (the
  handlers take the raw message so that a payload they cannot parse is dead-lettered, so FastStream
  cannot see the event type in their signature: it is filled in from the event's topic), and a
  *send* operation on the topic's dead-letter topic (``<topic>.dlq``, :class:`DeadLetterV1`);
* every event class in ``definition.publishes`` is a *send* operation on its topic.

FastStream's public ``AsyncAPI`` specification factory does the rendering; nothing is connected.
"""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from sceau_shared.events import ALL_EVENTS, DeadLetterV1, Event, dead_letter_topic
from sceau_shared.runtime import ServiceSettings
from sceau_shared.service.definition import ServiceDefinition

__all__ = ["ASYNCAPI_VERSION", "build_asyncapi"]

ASYNCAPI_VERSION = "3.0.0"
_SCHEMAS = "#/components/schemas/"


def _summary(event: type[Event]) -> str:
    return (event.__doc__ or event.__name__).strip().splitlines()[0]


def _add_schema(schemas: dict[str, Any], model: type[Event]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_SCHEMAS + "{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _SCHEMAS + model.__name__}


def _local_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _render(definition: ServiceDefinition[Any, Any], broker: KafkaBroker) -> dict[str, Any]:
    specification = AsyncAPI(
        broker,
        title=definition.title,
        version=definition.version,
        description=definition.description,
        schema_version=ASYNCAPI_VERSION,
    ).to_specification()
    document: dict[str, Any] = specification.to_jsonable()
    return document


def _consumed(document: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Each receive operation's channel and topic."""
    channels: dict[str, Any] = document.get("channels", {})
    found = []
    for operation in document.get("operations", {}).values():
        if operation.get("action") == "receive":
            channel = channels[_local_name(operation["channel"]["$ref"])]
            found.append((channel, str(channel["address"])))
    return found


def _fill_consumed_payloads(document: dict[str, Any], by_topic: dict[str, type[Event]]) -> None:
    components: dict[str, Any] = document.setdefault("components", {})
    messages: dict[str, Any] = components.setdefault("messages", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    for channel, topic in _consumed(document):
        event = by_topic.get(topic)
        if event is None:
            raise ValueError(f"no event class is bound to the consumed topic {topic!r}")
        payload = _add_schema(schemas, event)
        for reference in channel.get("messages", {}).values():
            messages[_local_name(reference["$ref"])]["payload"] = payload


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        for item in value.values():
            found |= _refs(item)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value)) if value else set()
    return set()


def _drop_unreachable_schemas(document: dict[str, Any]) -> None:
    # The raw-message handlers leave FastStream's placeholder payload schema behind.
    components: dict[str, Any] = document.get("components", {})
    schemas: dict[str, Any] = components.get("schemas", {})
    pending = [_local_name(ref) for ref in _refs(components.get("messages", {}))]
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in reached or name not in schemas:
            continue
        reached.add(name)
        pending.extend(_local_name(ref) for ref in _refs(schemas[name]))
    for name in set(schemas) - reached:
        del schemas[name]


def build_asyncapi(
    definition: ServiceDefinition[Any, Any], settings: ServiceSettings
) -> dict[str, Any]:
    """Return the AsyncAPI 3 document of the service ``definition`` describes, as JSON data.

    Topic names are physical (``settings.kafka.topic_prefix`` applied), as the service uses them.

    Raises:
        ValueError: a consumer listens to a topic no event class is bound to.
    """
    kafka = settings.kafka
    broker = KafkaBroker(kafka.bootstrap_servers, description=f"The {definition.name}'s Kafka")
    if definition.consumers is not None:
        broker.include_router(definition.consumers(settings))
    for event in definition.publishes:
        topic = kafka.topic(event.TOPIC)
        broker.publisher(topic, title=topic, description=_summary(event), schema=event)
    # Dead letters are produced by the consumers themselves: declare them too.
    for topic in sorted({topic for _, topic in _consumed(_render(definition, broker))}):
        dlq = dead_letter_topic(topic)
        broker.publisher(dlq, title=dlq, description=_summary(DeadLetterV1), schema=DeadLetterV1)
    document = _render(definition, broker)
    _fill_consumed_payloads(document, {kafka.topic(event.TOPIC): event for event in ALL_EVENTS})
    _drop_unreachable_schemas(document)
    return document
