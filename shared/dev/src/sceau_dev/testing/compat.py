"""Test support for the compat modules: an upgrade that breaks an internal fails with its name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sceau_shared.compat import installed_version


@contextmanager
def library_internals(distribution: str, compat_module: str) -> Iterator[None]:
    """Fail the test with the library's name and installed version if the block raises.

    The compat tests exercise private internals; when one breaks after an upgrade, the useful
    message is "which library, which version, which module to update", not a deep traceback.
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - any failure means the internal moved
        pytest.fail(
            f"{distribution} {installed_version(distribution)} broke an internal that "
            f"{compat_module} relies on: {type(exc).__name__}: {exc}. Update {compat_module} "
            "(its docstring lists the internals) and the version bound in pyproject.toml.",
            pytrace=True,
        )
