"""The only place Sceau touches third-party private internals: one small module per library.

A library's private attributes and ``_internal`` modules change without notice between minor
releases. Each module here names the exact internals it uses, the version range they were checked
against (the upper bound in ``pyproject.toml`` matches it) and what breaks when they move;
``tests/unit/foundation/test_compat.py`` exercises every accessor against the installed library,
so an upgrade that breaks one fails there with the library's name and version, not somewhere deep
in a service. This package's ``__init__`` imports no third-party library: the credential engine's
own compat module (``sceau_credentials.compat``) uses :func:`reaching_into` from the base install.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

__all__ = ["UnsupportedLibraryError", "installed_version", "reaching_into"]


class UnsupportedLibraryError(RuntimeError):
    """An installed library no longer has an internal a compat module relies on."""


def installed_version(distribution: str) -> str:
    """Return the installed version of ``distribution`` (``"not installed"`` if absent)."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


@contextmanager
def reaching_into(distribution: str, internals: str, module: str) -> Iterator[None]:
    """Turn a missing private attribute or module into an error that names what to update.

    Args:
        distribution: The library's distribution name (``faststream``, ``httpx``...).
        internals: The internals reached in the block, as the compat module's docstring names them.
        module: The compat module to update (``sceau_shared.compat.faststream``...).

    Raises:
        UnsupportedLibraryError: an ``AttributeError`` or ``ImportError`` escaped the block.
    """
    try:
        yield
    except (AttributeError, ImportError) as exc:
        raise UnsupportedLibraryError(
            f"{distribution} {installed_version(distribution)} no longer provides {internals} "
            f"({type(exc).__name__}: {exc}); update {module} and the version bound in "
            "pyproject.toml"
        ) from exc
