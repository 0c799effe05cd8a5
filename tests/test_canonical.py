"""Canonical form under cell isomorphism: counts, known isomorphic pairs, consistency."""
from __future__ import annotations

from collections import defaultdict

import pytest

from spaces.nb201.canonical import canonical, canonical_key, n_unique_cells
from spaces.nb201.codec import Arch, all_archs


def test_nb201_convention_gives_the_published_6466_unique_cells():
    assert n_unique_cells("nb201") == 6466


def test_functional_convention_gives_4930_classes():
    assert n_unique_cells("functional") == 4930


PAIRS_BOTH = [
    # the edge leaving a node that only carries zeros does not matter
    ("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|",
     "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"),
    # nodes 1 and 2 do not feed the output: only the edges into node 3 from node 0 matter
    ("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|none~2|",
     "|skip_connect~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"),
    # a chain of skips is the input itself; the summand order does not matter
    ("|skip_connect~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|skip_connect~2|",
     "|skip_connect~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|"),
]
PAIRS_FUNCTIONAL_ONLY = [
    # nodes 1 and 2 swapped (2 does not read 1): the official string keeps the '#' summand apart
    ("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|nor_conv_3x3~1|nor_conv_1x1~2|",
     "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|"),
]
NOT_EQUIVALENT = [
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
     "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
    ("|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
     "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"),
]


@pytest.mark.parametrize("mode", ["nb201", "functional"])
@pytest.mark.parametrize("a, b", PAIRS_BOTH)
def test_known_isomorphic_pairs(mode, a, b):
    a, b = Arch.from_str(a), Arch.from_str(b)
    assert canonical_key(a, mode) == canonical_key(b, mode)
    assert canonical(a, mode) == canonical(b, mode)


@pytest.mark.parametrize("a, b", PAIRS_FUNCTIONAL_ONLY)
def test_pairs_only_the_functional_convention_merges(a, b):
    a, b = Arch.from_str(a), Arch.from_str(b)
    assert canonical_key(a, "functional") == canonical_key(b, "functional")
    assert canonical_key(a, "nb201") != canonical_key(b, "nb201")


@pytest.mark.parametrize("mode", ["nb201", "functional"])
@pytest.mark.parametrize("a, b", NOT_EQUIVALENT)
def test_different_functions_stay_apart(mode, a, b):
    assert canonical_key(Arch.from_str(a), mode) != canonical_key(Arch.from_str(b), mode)


def test_all_cells_with_a_dead_output_form_one_class():
    dead = Arch.from_str("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    also_dead = Arch.from_str("|none~0|+|none~0|avg_pool_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    assert canonical(dead, "functional") == canonical(also_dead, "functional") == Arch((0,) * 6)


@pytest.mark.parametrize("mode", ["nb201", "functional"])
def test_canonical_is_an_idempotent_class_representative(mode):
    for arch in list(all_archs())[::37]:
        rep = canonical(arch, mode)
        assert canonical_key(rep, mode) == canonical_key(arch, mode)
        assert canonical(rep, mode) == rep and rep.lex_index <= arch.lex_index


def test_functional_classes_are_unions_of_official_classes():
    functional_of = defaultdict(set)
    for arch in all_archs():
        functional_of[canonical_key(arch, "nb201")].add(canonical_key(arch, "functional"))
    assert all(len(keys) == 1 for keys in functional_of.values())


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="expected one of"):
        canonical_key(Arch((0,) * 6), "graph")  # type: ignore[arg-type]
