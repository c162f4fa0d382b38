"""Compare a service's AsyncAPI document with the topic table of ``docs/architecture.md``.

The architecture document promises, per topic, its event, its producer and its consumers
(``| topic | event | producer | consumers |``). :func:`read_topic_table` reads that table;
:func:`documented_topics` gives one service's share of it and :func:`asyncapi_topics` the same
from its generated document (:func:`sceau_shared.service.asyncapi.build_asyncapi`), so the test
that keeps the two in agreement is a comparison of two :class:`ServiceTopics`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ServiceTopics",
    "TopicRow",
    "asyncapi_topics",
    "documented_topics",
    "read_topic_table",
]

_HEADER = ("topic", "event", "producer", "consumers")
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class TopicRow:
    """One row of the topic table: every topic it names shares the event, producer, consumers."""

    topics: tuple[str, ...]
    event: str | None
    producer: str
    consumers: tuple[str, ...]


@dataclass(frozen=True)
class ServiceTopics:
    """The topics one service sends to and receives from (dead-letter topics aside)."""

    sends: frozenset[str]
    receives: frozenset[str]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _split_top_level(text: str) -> list[str]:
    # "registry (verification methods and windows), notifier (DID → institution)": commas inside
    # parentheses do not separate consumers.
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _first_word(text: str) -> str:
    return text.split("(", 1)[0].strip().split(" ", 1)[0] if text.strip() else ""


def read_topic_table(markdown: Path | str) -> list[TopicRow]:
    """Parse the ``| topic | event | producer | consumers |`` table of a Markdown document.

    Args:
        markdown: The document's path or its text.

    Raises:
        ValueError: the document has no such table.
    """
    text = markdown.read_text(encoding="utf-8") if isinstance(markdown, Path) else markdown
    lines = text.splitlines()
    start = next(
        (
            number
            for number, line in enumerate(lines)
            if line.lstrip().startswith("|") and tuple(_cells(line)) == _HEADER
        ),
        None,
    )
    if start is None:
        raise ValueError("no '| topic | event | producer | consumers |' table found")
    rows: list[TopicRow] = []
    for line in lines[start + 2 :]:  # header, then the |---| separator
        if not line.lstrip().startswith("|"):
            break
        topic_cell, event_cell, producer, consumers = _cells(line)[:4]
        events = _CODE.findall(event_cell)
        rows.append(
            TopicRow(
                topics=tuple(_CODE.findall(topic_cell)),
                event=events[0] if events else None,
                producer=producer,
                consumers=tuple(_first_word(part) for part in _split_top_level(consumers)),
            )
        )
    return rows


def _is_dead_letter(topic: str) -> bool:
    return topic.endswith(".dlq")


def documented_topics(rows: list[TopicRow], service: str) -> ServiceTopics:
    """What the table says ``service`` sends and receives (dead-letter rows aside)."""
    sends: set[str] = set()
    receives: set[str] = set()
    for row in rows:
        for topic in row.topics:
            if _is_dead_letter(topic) or "<" in topic:
                continue
            if row.producer == service:
                sends.add(topic)
            if service in row.consumers:
                receives.add(topic)
    return ServiceTopics(frozenset(sends), frozenset(receives))


def asyncapi_topics(document: dict[str, Any], *, topic_prefix: str = "") -> ServiceTopics:
    """What an AsyncAPI 3 document says its service sends and receives (dead letters aside).

    ``topic_prefix`` (the settings' prefix the document was built with) is removed, so the
    topics compare with the architecture document's logical names.
    """
    channels: dict[str, Any] = document.get("channels", {})
    sends: set[str] = set()
    receives: set[str] = set()
    for operation in document.get("operations", {}).values():
        channel = channels[operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        topic = str(channel["address"]).removeprefix(topic_prefix)
        if _is_dead_letter(topic):
            continue
        (sends if operation["action"] == "send" else receives).add(topic)
    return ServiceTopics(frozenset(sends), frozenset(receives))
