"""The NB201 cell codec: string round trips, parser errors (fuzzed), sampling, mutation."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spaces.nb201.codec import EDGES, N_CELLS, OPS, Arch, all_archs, mutate, neighbours, parse_arch_str, sample

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_ops_and_edges_in_official_order():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))


def test_every_cell_round_trips_through_its_string_and_index():
    archs = list(all_archs())
    assert len(archs) == N_CELLS == len(set(archs))
    for i, arch in enumerate(archs):
        assert arch.lex_index == i
        assert Arch.from_str(arch.to_str()) == arch


def test_known_string_parses_to_expected_ops():
    arch = Arch.from_str(BEST_C10)
    assert arch.op_names() == ("nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_3x3", "nor_conv_1x1")
    assert arch.count("nor_conv_3x3") == 4 and str(arch) == BEST_C10


def test_arch_is_frozen_and_hashable():
    arch = Arch((1, 2, 3, 4, 0, 1))
    assert {arch: 1}[Arch((1, 2, 3, 4, 0, 1))] == 1
    with pytest.raises(AttributeError):
        arch.ops = (0,) * 6  # type: ignore[misc]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "expected 3 node groups"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv' in token 'conv~0' at position 1"),
        ("|none~0|+|none~0|none~2|+|none~0|none~1|none~2|", "token 'none~2' at position 17 has source '2', expected 1"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "has 1 inputs, expected 2"),
        ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "token 'none' at position 1 lacks '~src'"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "must look like"),
    ],
)
def test_malformed_strings_name_the_bad_token_and_position(text, fragment):
    with pytest.raises(ValueError, match=None) as info:
        Arch.from_str(text)
    assert fragment in str(info.value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="|+~0123_ abcdefghijklmnopqrstuvwxyz", max_size=120))
def test_parser_fuzz_never_crashes_and_round_trips_what_it_accepts(text):
    try:
        ops = parse_arch_str(text)
    except ValueError as exc:
        assert "arch string" in str(exc)
    else:
        assert Arch(ops).to_str() == text


@settings(max_examples=300, deadline=None)
@given(st.integers(0, N_CELLS - 1), st.integers(0, 200), st.characters(codec="ascii"))
def test_single_character_corruptions_are_rejected_or_valid(index, position, char):
    text = Arch.from_lex_index(index).to_str()
    position %= len(text)
    corrupted = text[:position] + char + text[position + 1 :]
    try:
        arch = Arch.from_str(corrupted)
    except ValueError as exc:
        assert "position" in str(exc) or "node groups" in str(exc)
    else:
        assert arch.to_str() == corrupted


def test_bad_op_indices_are_rejected():
    with pytest.raises(ValueError, match="6 op indices"):
        Arch((0, 1, 2))
    with pytest.raises(ValueError, match="6 op indices"):
        Arch((0, 1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="out of range"):
        Arch.from_lex_index(N_CELLS)


def test_sampling_is_uniform_over_ops_on_every_edge():
    rng = np.random.default_rng(0)
    counts = np.zeros((6, 5))
    for _ in range(20000):
        for edge, op in enumerate(sample(rng).ops):
            counts[edge, op] += 1
    assert np.allclose(counts / 20000, 0.2, atol=0.015)


def test_mutation_changes_exactly_one_edge_to_another_op():
    rng = np.random.default_rng(1)
    arch = Arch.from_str(BEST_C10)
    seen_edges = set()
    for _ in range(500):
        child = mutate(arch, rng)
        diff = [e for e in range(6) if child.ops[e] != arch.ops[e]]
        assert len(diff) == 1
        seen_edges.add(diff[0])
    assert seen_edges == set(range(6))


def test_neighbours_are_the_24_single_edge_changes():
    arch = Arch.from_str(BEST_C10)
    near = neighbours(arch)
    assert len(near) == 24 == len(set(near)) and arch not in near
    assert all(sum(a != b for a, b in zip(n.ops, arch.ops)) == 1 for n in near)
