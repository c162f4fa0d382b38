"""Accessibility checks with axe-core in a real browser (Playwright driving system Chromium).

axe-core (npm, pinned in ``tests/interop/js/package.json``) is injected into the page under test
and run there; :func:`axe_violations` returns what it found, :func:`blocking` keeps the
``serious`` and ``critical`` ones (the project's bar: zero of those, in both languages).

Our pages forbid scripts (``Content-Security-Policy: default-src 'none'``) and are tested with
JavaScript off, so axe is evaluated through the DevTools protocol (``page.evaluate``), which
page policies do not govern, in a browser context opened with ``bypass_csp=True`` and
``java_script_enabled=True`` (:func:`axe_context`): the page's own markup still carries no
script, and axe only reads the DOM.

Usage::

    async with chromium() as browser, axe_context(browser) as context:
        page = await context.new_page()
        await page.goto(url)
        assert blocking(await axe_violations(page)) == []
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

__all__ = [
    "AXE_ENV",
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "Violation",
    "axe_context",
    "axe_source",
    "axe_violations",
    "blocking",
    "chromium",
    "describe",
    "installed_chromium",
]

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (``scripts/setup-browser.sh``): Playwright cannot download browsers here."""

CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

AXE_ENV = "SCEAU_AXE_JS"
"""Environment variable naming another ``axe.min.js`` (else the interop package's copy)."""

_BLOCKING = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks.

    Attributes:
        rule: the axe rule id (e.g. ``color-contrast``).
        impact: ``minor``, ``moderate``, ``serious`` or ``critical``.
        help: what the rule asks, in one line.
        targets: CSS selectors of the offending nodes (first few).
    """

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]


def _axe_path() -> Path:
    configured = os.environ.get(AXE_ENV)
    if configured:
        return Path(configured)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "tests" / "interop" / "js" / "node_modules" / "axe-core"
        if candidate.is_dir():
            return candidate / "axe.min.js"
    raise FileNotFoundError(
        "axe-core is not installed: run `npm ci` in tests/interop/js (or set SCEAU_AXE_JS)"
    )


@functools.cache
def axe_source() -> str:
    """The text of ``axe.min.js`` (read once per process)."""
    return _axe_path().read_text(encoding="utf-8")


def installed_chromium() -> str:
    """The system Chromium's path, installed first by ``scripts/setup-browser.sh`` if missing.

    Raises:
        RuntimeError: the setup script failed or installed no browser.
    """
    if Path(CHROMIUM).exists():
        return CHROMIUM
    script = next(
        (
            p / "scripts" / "setup-browser.sh"
            for p in Path(__file__).resolve().parents
            if (p / "scripts" / "setup-browser.sh").exists()
        ),
        None,
    )
    if script is None:
        raise RuntimeError("scripts/setup-browser.sh not found")
    completed = subprocess.run(  # noqa: S603 - our own setup script
        ["/bin/bash", str(script)], capture_output=True, text=True, timeout=900, check=False
    )
    if completed.returncode != 0 or not Path(CHROMIUM).exists():
        raise RuntimeError(f"setup-browser.sh failed:\n{completed.stderr[-2000:]}")
    return CHROMIUM


@asynccontextmanager
async def chromium(executable: str = CHROMIUM) -> AsyncIterator[Browser]:
    """A headless system Chromium driven by Playwright, closed afterwards."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS)
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def axe_context(browser: Browser, **options: Any) -> AsyncIterator[BrowserContext]:
    """A browser context axe can run in (page CSP bypassed for the injected script)."""
    context = await browser.new_context(bypass_csp=True, java_script_enabled=True, **options)
    try:
        yield context
    finally:
        await context.close()


async def axe_violations(page: Page, *, tags: Sequence[str] | None = None) -> list[Violation]:
    """Run axe-core on the page's current document; return every violation found.

    Args:
        page: a page opened in an :func:`axe_context` context, already loaded.
        tags: only the axe rules with these tags (e.g. ``wcag2aa``); ``None`` runs every rule
            axe enables by default (WCAG A/AA and best practices).
    """
    already = await page.evaluate("() => typeof window.axe !== 'undefined'")
    if not already:
        # An expression, not a <script>: page policies do not apply to DevTools evaluation.
        await page.evaluate(f"() => {{ {axe_source()}\n}}")
        await page.evaluate("() => { if (!window.axe) { throw new Error('axe not loaded'); } }")
    results: dict[str, Any] = await page.evaluate(
        """async (tags) => {
            const options = {resultTypes: ['violations']};
            if (tags) { options.runOnly = {type: 'tag', values: tags}; }
            const r = await window.axe.run(document, options);
            return {violations: r.violations.map(v => ({
                id: v.id, impact: v.impact || 'minor', help: v.help,
                targets: v.nodes.slice(0, 5).map(n => String(n.target)),
            }))};
        }""",
        list(tags) if tags is not None else None,
    )
    return [
        Violation(
            rule=str(item["id"]),
            impact=str(item["impact"]),
            help=str(item["help"]),
            targets=tuple(item["targets"]),
        )
        for item in results["violations"]
    ]


def blocking(violations: Sequence[Violation]) -> list[Violation]:
    """The ``serious`` and ``critical`` violations (those that fail our checks)."""
    return [v for v in violations if v.impact in _BLOCKING]


def describe(violations: Sequence[Violation]) -> str:
    """One line per violation, for assertion messages."""
    return "\n".join(
        f"{v.impact}: {v.rule} ({v.help}) at {', '.join(v.targets)}" for v in violations
    )
