"""What the demo prints while it runs: progress lines and step titles."""

from __future__ import annotations

from datetime import UTC, datetime


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def say(message: str) -> None:
    """Print one progress line."""
    print(f"[demo {_stamp()}] {message}", flush=True)


def heading(number: int, title: str) -> None:
    """Print the title of a step."""
    print(f"\n=== {number}. {title} ===", flush=True)
