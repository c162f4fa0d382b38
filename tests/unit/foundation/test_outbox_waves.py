"""How the relay groups a document's outbox entries for concurrent publication."""

from sceau_shared.outbox import waves


def entry(topic: str, key: str, n: int) -> dict[str, str]:
    return {"topic": topic, "key": key, "event_id": f"{topic}/{key}/{n}"}


def test_distinct_keys_form_one_wave_in_order() -> None:
    entries = [entry("issued", f"c{n}", 0) for n in range(5)]
    assert waves(entries) == [entries]


def test_a_repeated_key_waits_for_the_next_wave() -> None:
    a0, b0, a1, a2, b1 = (
        entry("t", "a", 0),
        entry("t", "b", 0),
        entry("t", "a", 1),
        entry("t", "a", 2),
        entry("t", "b", 1),
    )
    assert waves([a0, b0, a1, a2, b1]) == [[a0, b0], [a1, b1], [a2]]


def test_same_key_on_another_topic_is_independent() -> None:
    issued, notify = entry("issued", "c1", 0), entry("notify", "c1", 0)
    assert waves([issued, notify]) == [[issued, notify]]


def test_nothing_pending_gives_no_wave() -> None:
    assert waves([]) == []
