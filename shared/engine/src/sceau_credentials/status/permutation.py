"""A keyed pseudo-random permutation of ``[0, size)``: random-looking, collision-free indexes.

Bitstring Status List v1.0 asks that indexes be assigned randomly so that an observer cannot
infer issuance order or how many credentials an issuer has issued. Drawing random numbers and
checking for collisions needs a read-then-write per allocation, which races between concurrent
issuers. Instead each list keeps a plain counter (0, 1, 2, ... — incremented atomically in
MongoDB) and the index is ``permutation(counter)``: a bijection, so distinct counters can never
give the same index, and without the per-list key the sequence looks random.

Construction: a balanced Feistel network (six rounds, keyed BLAKE2b as the round function) over
the smallest even number of bits covering ``size``, with *cycle walking* — re-encrypting until the
value falls inside ``[0, size)`` — to get a permutation of exactly ``[0, size)``. Feistel networks
are invertible whatever the round function, which is what makes this a bijection; the inverse is
provided for tests and audits.
"""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = ["KeyedPermutation"]

_ROUNDS: Final = 6
_MIN_KEY_BYTES: Final = 16


class KeyedPermutation:
    """Bijection of ``[0, size)`` determined by ``key``.

    Args:
        size: number of elements; at least 1.
        key: secret of 16-64 bytes (BLAKE2b key size limits).
    """

    __slots__ = ("_base", "_half_bits", "_mask", "size")

    def __init__(self, size: int, key: bytes) -> None:
        if size < 1:
            raise ValueError("a permutation needs at least one element")
        if not _MIN_KEY_BYTES <= len(key) <= hashlib.blake2b.MAX_KEY_SIZE:
            raise ValueError(
                f"the permutation key must be {_MIN_KEY_BYTES}-{hashlib.blake2b.MAX_KEY_SIZE} bytes"
            )
        bits = max(2, (size - 1).bit_length())
        bits += bits % 2
        self.size = size
        self._half_bits = bits // 2
        self._mask = (1 << self._half_bits) - 1
        self._base = hashlib.blake2b(key=key, digest_size=8, person=b"sceau-status")

    def _round(self, round_number: int, value: int) -> int:
        digest = self._base.copy()
        digest.update(bytes((round_number,)) + value.to_bytes(8, "big"))
        return int.from_bytes(digest.digest(), "big") & self._mask

    def _encrypt(self, value: int) -> int:
        left, right = value >> self._half_bits, value & self._mask
        for round_number in range(_ROUNDS):
            left, right = right, left ^ self._round(round_number, right)
        return (left << self._half_bits) | right

    def _decrypt(self, value: int) -> int:
        left, right = value >> self._half_bits, value & self._mask
        for round_number in reversed(range(_ROUNDS)):
            left, right = right ^ self._round(round_number, left), left
        return (left << self._half_bits) | right

    def _check(self, value: int) -> None:
        if not 0 <= value < self.size:
            raise ValueError(f"{value} is outside [0, {self.size})")

    def __call__(self, value: int) -> int:
        """Map ``value`` (a counter) to its index."""
        self._check(value)
        result = self._encrypt(value)
        while result >= self.size:  # cycle walking: terminates because value's cycle hits it
            result = self._encrypt(result)
        return result

    def inverse(self, index: int) -> int:
        """Map an index back to the counter value that produced it."""
        self._check(index)
        result = self._decrypt(index)
        while result >= self.size:
            result = self._decrypt(result)
        return result
