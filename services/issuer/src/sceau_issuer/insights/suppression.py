"""Small-cell suppression that totals cannot undo (R73).

A count below ``k`` is hidden (primary suppression). Hiding it alone is not enough when the
report also shows the total of the group it belongs to: the total minus the visible cells would
give it back (the differencing attack). So, within every additive group whose total is shown,
more cells are hidden (complementary suppression) — the smallest visible ones first — until the
hidden cells of the group add up to at least ``k``. Whoever subtracts then learns only the sum of
several hidden cells, a number no smaller than a count the report would have shown anyway.

Groups nest (institution ⊃ achievement ⊃ cohort). A parent hidden for any reason hides all of its
children for that metric: otherwise the children would add up to it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def hidden_cells(cells: Mapping[K, int], k: int, *, total_shown: bool = True) -> set[K]:
    """The cells of one additive group to hide.

    Args:
        cells: the group's counts (they add up to the group's total).
        k: the threshold: counts below it are never shown.
        total_shown: whether the report shows the group's total. When it does not, every cell is
            hidden (the parent was suppressed, and its parts must not rebuild it).

    Returns:
        The keys whose counts the report must not show.
    """
    if not total_shown:
        return set(cells)
    hidden = {key for key, value in cells.items() if value < k}
    # Complement: the hidden remainder (total minus what is shown) must be 0 or at least k.
    while hidden and sum(cells[key] for key in hidden) < k and len(hidden) < len(cells):
        visible = sorted(
            (key for key in cells if key not in hidden), key=lambda c: (cells[c], str(c))
        )
        hidden.add(visible[0])
    return hidden


def shown(value: int, hide: bool) -> int | None:
    """``value`` as published: ``None`` stands for a suppressed cell."""
    return None if hide else value
