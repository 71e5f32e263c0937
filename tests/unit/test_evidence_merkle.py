"""The Merkle log's hashing and proofs: RFC 6962 vectors, every proof up to size 64 against an
independent recursive reference, and hypothesis properties (random appends, tampered proofs)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.evidence import merkle

# Certificate Transparency / transparency-dev reference leaves and roots (RFC 6962 test data).
CT_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}  # fmt: skip


# --- an independent reference: RFC 6962 §2.1 written as literally as possible, over raw leaves ---
def ref_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, leaves[:k], whole), ref_mth(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), ref_mth(leaves[:k])]


def stored_tree(leaves: list[bytes]) -> tuple[merkle.Frontier, dict[merkle.Node, bytes]]:
    """What the store keeps: every complete node, collected while appending."""
    frontier = merkle.Frontier()
    stored: dict[merkle.Node, bytes] = {}
    for leaf in leaves:
        for level, index, hash_ in frontier.append(merkle.leaf_hash(leaf)):
            stored[(level, index)] = hash_
    return frontier, stored


def proof(ranges: list[merkle.Range], stored: dict[merkle.Node, bytes]) -> list[bytes]:
    return merkle.hashes_for(ranges, stored)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert merkle.Frontier().root().hex() == CT_ROOTS[0]


def test_roots_of_sizes_1_to_8_match_the_reference_leaves() -> None:
    for size in range(1, 9):
        frontier, _stored = stored_tree(CT_LEAVES[:size])
        assert frontier.root().hex() == CT_ROOTS[size], size
        assert ref_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def test_published_inclusion_proofs_match() -> None:
    _frontier, stored = stored_tree(CT_LEAVES)
    for (index, size), expected in CT_INCLUSION.items():
        assert [h.hex() for h in proof(merkle.inclusion_ranges(index, size), stored)] == expected


def test_every_inclusion_proof_up_to_64_matches_the_reference_and_verifies() -> None:
    leaves = [f"leaf-{i}".encode() for i in range(64)]
    _frontier, stored = stored_tree(leaves)
    for size in range(1, 65):
        root = ref_mth(leaves[:size])
        for index in range(size):
            path = proof(merkle.inclusion_ranges(index, size), stored)
            assert path == ref_path(index, leaves[:size]), (index, size)
            leaf = merkle.leaf_hash(leaves[index])
            assert merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=path, root=root)
            assert not merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=path, root=b"\0" * 32)


def test_every_consistency_proof_up_to_64_matches_the_reference_and_verifies() -> None:
    leaves = [f"leaf-{i}".encode() for i in range(64)]
    _frontier, stored = stored_tree(leaves)
    for second in range(1, 65):
        second_root = ref_mth(leaves[:second])
        for first in range(1, second + 1):
            path = proof(merkle.consistency_ranges(first, second), stored)
            assert path == ref_subproof(first, leaves[:second], True), (first, second)
            first_root = ref_mth(leaves[:first])
            assert merkle.verify_consistency(
                first=first, second=second, first_root=first_root, second_root=second_root, proof=path
            ), (first, second)
            if first < second:
                assert not merkle.verify_consistency(
                    first=first, second=second, first_root=second_root, second_root=first_root, proof=path
                )


def test_a_proof_for_a_smaller_tree_size_reads_only_stored_complete_nodes() -> None:
    leaves = [bytes([i]) for i in range(37)]
    _frontier, stored = stored_tree(leaves)
    for size in (1, 5, 16, 17, 36):
        ranges = merkle.inclusion_ranges(size - 1, size)
        assert merkle.nodes_for(ranges) <= stored.keys()
        assert len(merkle.nodes_for(ranges)) <= 2 * size.bit_length()


@settings(max_examples=60, deadline=None)
@given(
    leaves=st.lists(st.binary(max_size=20), min_size=1, max_size=80),
    data=st.data(),
)
def test_random_logs_every_proof_verifies_and_a_changed_byte_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    frontier, stored = stored_tree(leaves)
    size = len(leaves)
    assert frontier.root() == ref_mth(leaves)
    index = data.draw(st.integers(0, size - 1))
    path = proof(merkle.inclusion_ranges(index, size), stored)
    leaf = merkle.leaf_hash(leaves[index])
    assert merkle.verify_inclusion(index=index, size=size, leaf=leaf, proof=path, root=frontier.root())
    tampered_leaf = merkle.leaf_hash(leaves[index] + b"x")
    assert not merkle.verify_inclusion(
        index=index, size=size, leaf=tampered_leaf, proof=path, root=frontier.root()
    )
    if path:
        which = data.draw(st.integers(0, len(path) - 1))
        byte = data.draw(st.integers(0, 31))
        broken = [bytearray(h) for h in path]
        broken[which][byte] ^= 0x01
        assert not merkle.verify_inclusion(
            index=index, size=size, leaf=leaf, proof=[bytes(h) for h in broken], root=frontier.root()
        )
    first = data.draw(st.integers(1, size))
    consistency = proof(merkle.consistency_ranges(first, size), stored)
    first_root = ref_mth(leaves[:first])
    assert merkle.verify_consistency(
        first=first, second=size, first_root=first_root, second_root=frontier.root(), proof=consistency
    )
    if consistency:
        changed = [bytearray(h) for h in consistency]
        changed[0][0] ^= 0x80
        assert not merkle.verify_consistency(
            first=first, second=size, first_root=first_root, second_root=frontier.root(),
            proof=[bytes(h) for h in changed],
        )  # fmt: skip
