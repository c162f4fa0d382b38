"""What the demo prints while it runs: progress lines and step titles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def say(message: str) -> None:
    """Print one progress line."""
    print(f"[demo {_stamp()}] {message}", flush=True)


def heading(number: int, title: str) -> None:
    """Print the title of a step."""
    print(f"\n=== {number}. {title} ===", flush=True)


def show_checks(answer: dict[str, Any]) -> None:
    """Print a verifier answer's checks, one line each (name, status, English reason)."""
    for item in answer["checks"]:
        print(f"    {item['name']:<10} {item['status']:<8} {item['reason_en'][:90]}", flush=True)
