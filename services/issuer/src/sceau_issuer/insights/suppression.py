"""Small-cell suppression that totals cannot undo (R73).

A count from 1 to ``k - 1`` is hidden (primary suppression), and so is every figure of a row
(an achievement, a cohort) with fewer than ``k`` credentials issued, zeros included. A zero of a
larger row is shown: it names no one. Hiding it alone is not enough when the
report also shows the total of the group it belongs to: the total minus the visible cells would
give it back (the differencing attack). So, within every additive group whose total is shown,
more cells are hidden (complementary suppression) — the smallest non-zero visible ones first —
until the hidden cells of the group add up to at least ``k``. Whoever subtracts then learns only
the sum of several hidden cells, no smaller than a count the report would have shown anyway.

Groups nest (institution, then achievement, then cohort). A parent hidden for any reason hides
all of its children for that metric: otherwise the children would add up to it.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def hidden_cells(
    cells: Mapping[K, int],
    k: int,
    *,
    total_shown: bool = True,
    small_rows: Collection[K] = (),
) -> set[K]:
    """The cells of one additive group to hide.

    Args:
        cells: the group's counts (they add up to the group's total).
        k: the threshold: counts from 1 to ``k - 1`` are never shown.
        total_shown: whether the report shows the group's total. When it does not, every cell is
            hidden (the parent was suppressed, and its parts must not rebuild it).
        small_rows: cells of rows with fewer than ``k`` credentials issued: hidden whatever
            their value, zero included ("none of this cohort of 3 accepted" is about each of
            them).

    Returns:
        The keys whose counts the report must not show.
    """
    if not total_shown:
        return set(cells)
    hidden = {key for key, value in cells.items() if 0 < value < k or key in small_rows}
    # Complement: the hidden remainder (total minus what is shown) must reach k. Zeros shown
    # elsewhere protect nothing, so the complements are the smallest non-zero visible cells.
    while hidden and sum(cells[key] for key in hidden) < k:
        visible = sorted(
            (key for key in cells if key not in hidden and cells[key] > 0),
            key=lambda c: (cells[c], str(c)),
        )
        if not visible:
            break  # then the total itself is below k, and hidden by its own group
        hidden.add(visible[0])
    return hidden


def shown(value: int, hide: bool) -> int | None:
    """``value`` as published: ``None`` stands for a suppressed cell."""
    return None if hide else value
