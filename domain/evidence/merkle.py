"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure, no I/O).

A *node* ``(level, index)`` is the complete subtree over leaves ``[index * 2**level, (index + 1) *
2**level)``. The store keeps every complete node, so any subtree hash an RFC proof needs is a fold of
at most ``log2(n)`` stored nodes: proofs never rebuild the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
Node = tuple[int, int]
Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The split point k of RFC 6962: the largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete, aligned subtrees that make up leaves ``[start, end)``, left to right."""
    nodes: list[Node] = []
    position = start
    while position < end:
        level = (position & -position).bit_length() - 1 if position else (end - position).bit_length()
        while (1 << level) > end - position:
            level -= 1
        nodes.append((level, position >> level))
        position += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a subtree from its complete parts (left to right): RFC 6962's right-leaning shape."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form PATH(index, D[size]) (RFC 9162 §2.1.3.1), in proof order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    low, high = 0, size
    while high - low > 1:
        split = low + largest_power_of_two_below(high - low)
        if index < split:
            ranges.append((split, high))
            high = split
        else:
            ranges.append((low, split))
            low = split
    return ranges[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes form PROOF(first, D[second]) (RFC 9162 §2.1.4.1), in proof order."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    low, high, remaining, whole = 0, second, first, True
    while remaining != high - low:
        split = largest_power_of_two_below(high - low)
        if remaining <= split:
            ranges.append((low + split, high))
            high = low + split
        else:
            ranges.append((low, low + split))
            low, remaining, whole = low + split, remaining - split, False
    if not whole:
        ranges.append((low, high))
    return ranges[::-1]


def nodes_for(ranges: Sequence[Range]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def hashes_for(ranges: Sequence[Range], stored: Mapping[Node, bytes]) -> list[bytes]:
    """Resolve each range to its hash from the stored complete nodes (a missing node is a KeyError)."""
    return [fold([stored[node] for node in range_nodes(start, end)]) for start, end in ranges]


def _lsb(value: int) -> bool:
    return bool(value & 1)


def root_from_inclusion(*, index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root the proof leads to, or None when the proof's shape is wrong."""
    if not 0 <= index < size:
        return None
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if _lsb(fn) or fn == sn:
            result = node_hash(sibling, result)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None


def verify_inclusion(*, index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    return root_from_inclusion(index=index, size=size, leaf=leaf, proof=proof) == root


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2 (an empty first tree is consistent with every tree)."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    path = [first_root, *proof] if first & (first - 1) == 0 else list(proof)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while _lsb(fn):
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if _lsb(fn) or fn == sn:
            first_result = node_hash(sibling, first_result)
            second_result = node_hash(sibling, second_result)
            while not _lsb(fn) and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and first_result == first_root and second_result == second_root


@dataclass
class Frontier:
    """The right edge of the tree (its complete subtrees, left to right): enough to append and to
    give the root. Appending reports every node it completes, so the store can keep them all."""

    size: int = 0
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, size: int, stored: Mapping[Node, bytes]) -> Frontier:
        return cls(size, [(level, index, stored[(level, index)]) for level, index in range_nodes(0, size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the new complete nodes ``(level, index, hash)``."""
        created = [(0, self.size, leaf)]
        self.nodes.append(created[0])
        while len(self.nodes) > 1 and self.nodes[-1][0] == self.nodes[-2][0]:
            right = self.nodes.pop()
            left = self.nodes.pop()
            merged = (left[0] + 1, left[1] >> 1, node_hash(left[2], right[2]))
            self.nodes.append(merged)
            created.append(merged)
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold([hash_ for _level, _index, hash_ in self.nodes])
