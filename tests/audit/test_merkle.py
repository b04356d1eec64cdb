"""The Merkle tree of RFC 9162 section 2.1, against the RFC 6962 reference vectors and
against the definitions computed naively."""

from __future__ import annotations

import hashlib

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    Tree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The eight inputs of the RFC 6962 reference test data, and the root of each prefix.
INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
LEAVES = [leaf_hash(x) for x in INPUTS]


def h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


# --- the definitions of RFC 9162 section 2.1, written out as plainly as possible ----------


def naive_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return d[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:])).digest()


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


# --- reference vectors ---------------------------------------------------------------------


def test_the_empty_tree_hashes_the_empty_string() -> None:
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    assert root(LEAVES[:size]).hex() == ROOTS[size - 1]


@pytest.mark.parametrize(
    ("index", "size", "path"),
    [
        (0, 1, []),
        (
            0,
            8,
            h(
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ),
        ),
        (
            5,
            8,
            h(
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ),
        ),
        (
            2,
            3,
            h(
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            ),
        ),
    ],
)
def test_inclusion_proofs_match_the_reference_vectors(index: int, size: int, path: list[bytes]) -> None:
    assert inclusion_proof(LEAVES[:size], index) == path
    assert verify_inclusion(index, size, LEAVES[index], path, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(
    ("old", "new", "proof"),
    [
        (
            1,
            8,
            h(
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ),
        ),
        (
            6,
            8,
            h(
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ),
        ),
        (
            2,
            5,
            h(
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ),
        ),
    ],
)
def test_consistency_proofs_match_the_reference_vectors(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAVES[:new], old) == proof
    old_root, new_root = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, proof)


# --- every small tree, against the naive definitions ----------------------------------------

MANY = [leaf_hash(i.to_bytes(4, "big")) for i in range(40)]


@pytest.mark.parametrize("size", range(1, 41))
def test_every_proof_of_every_small_tree_matches_the_definition_and_verifies(size: int) -> None:
    leaves = MANY[:size]
    tree = Tree(leaves)
    top = naive_mth(leaves)
    assert tree.root() == top
    for m in range(size):
        path = tree.inclusion_proof(m)
        assert path == naive_path(m, leaves)
        assert verify_inclusion(m, size, leaves[m], path, top)
        assert not verify_inclusion(m, size, leaf_hash(b"another"), path, top)
        if size > 1:
            assert not verify_inclusion((m + 1) % size, size, leaves[m], path, top)
    for old in range(1, size + 1):
        proof = tree.consistency_proof(old)
        assert proof == (naive_subproof(old, leaves, True) if old < size else [])
        old_root = tree.root(old)
        assert old_root == naive_mth(leaves[:old])
        assert verify_consistency(old, size, old_root, top, proof)
        if old < size:
            assert not verify_consistency(old, size, leaf_hash(b"forged"), top, proof)
            assert not verify_consistency(old, size, old_root, leaf_hash(b"forged"), proof)


def test_a_tree_answers_for_its_earlier_sizes_too() -> None:
    tree = Tree(MANY)
    for size in (1, 7, 16, 33):
        assert tree.root(size) == naive_mth(MANY[:size])
        assert tree.inclusion_proof(3 % size, size) == naive_path(3 % size, MANY[:size])
        assert tree.consistency_proof(1, size) == naive_subproof(1, MANY[:size], True)


def test_a_tampered_proof_does_not_verify() -> None:
    tree = Tree(MANY[:13])
    path = tree.inclusion_proof(6)
    path[1] = leaf_hash(b"x")
    assert not verify_inclusion(6, 13, MANY[6], path, tree.root())
    proof = tree.consistency_proof(5)
    assert not verify_consistency(5, 13, tree.root(5), tree.root(), proof[:-1])
    assert not verify_consistency(5, 13, tree.root(5), tree.root(), [*proof, MANY[0]])


def test_impossible_proofs_are_refused() -> None:
    tree = Tree(MANY[:4])
    with pytest.raises(ValueError, match="not in a tree"):
        tree.inclusion_proof(4)
    with pytest.raises(ValueError, match="no consistency proof"):
        tree.consistency_proof(5)
    assert not verify_inclusion(4, 4, MANY[0], [], tree.root())
