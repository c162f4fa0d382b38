"""Pytest plugin: at the end of the session, check every credential the issuers signed during it.

Loaded by ``tests/conftest.py``. Two environment variables drive it (``scripts/test`` sets both
for the whole session, so ``.ci/run`` runs the same):

* ``ISSUER_CONFORMANCE_DIR`` — the folder every issuer of the session (in-process or a separate
  process: they inherit the environment) copies each signed credential into. Unset: the plugin
  does nothing.
* ``SCEAU_CONFORMANCE`` — ``enforce`` fails the session when a default-profile credential does
  not conform (the list, grouped by finding, is printed); ``report`` (the default) only prints
  the summary.

What "conform" means and what is allowed is :mod:`sceau_dev.testing.conformance`'s policy.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import pytest

from sceau_dev.testing.conformance import CopiesReport, check_copies

__all__ = ["DIR_VARIABLE", "MODE_VARIABLE"]

DIR_VARIABLE: Final = "ISSUER_CONFORMANCE_DIR"
MODE_VARIABLE: Final = "SCEAU_CONFORMANCE"
_STARTED: Final = pytest.StashKey[datetime]()
_REPORT: Final = pytest.StashKey[CopiesReport]()


def _folder() -> Path | None:
    value = os.environ.get(DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def _enforced() -> bool:
    return os.environ.get(MODE_VARIABLE, "report").strip().lower() == "enforce"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Note when the session began: files older than that belong to an earlier one."""
    session.config.stash[_STARTED] = datetime.now(UTC)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Check the session's credentials; under ``enforce``, fail the session on a violation."""
    folder = _folder()
    if folder is None or hasattr(session.config, "workerinput"):
        return
    since = session.config.stash.get(_STARTED, None)
    report = asyncio.run(check_copies(folder, since=since))
    session.config.stash[_REPORT] = report
    if report.failing and _enforced() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the check found (and, when it failed the session, why)."""
    report = terminalreporter.config.stash.get(_REPORT, None)
    if report is None:
        return
    mode = "enforce" if _enforced() else "report"
    failed = bool(report.failing) and mode == "enforce"
    terminalreporter.section(
        f"1EdTech OB 3.0 conformance of issued credentials ({mode})", red=failed, green=not failed
    )
    for line in report.summary():
        terminalreporter.write_line(line)
    if failed:
        terminalreporter.write_line(
            f"FAILED: {len(report.failing)} default-profile credential(s) do not conform",
            red=True,
            bold=True,
        )
