"""NAS-Bench-1shot1 spaces 1-3: configurations, NB101 specs, sizes against the paper's."""
from __future__ import annotations

import numpy as np
import pytest

from spaces.nb1shot1.cells import SPACES, Cell, count, raw_size, sample


@pytest.mark.parametrize("space, raw", [(1, 14_580), (2, 29_160), (3, 1_312_200)])
def test_raw_sizes_count_every_choice(space, raw):
    assert raw_size(space) == raw


@pytest.mark.parametrize("space, distinct", [(1, 2_685), (2, 7_773)])
def test_distinct_nb101_cells_of_spaces_1_and_2(space, distinct):
    """By hashing every configuration's NB101 spec (space 3's 55,854 takes minutes: `spaces info --count`)."""
    result = count(space)
    assert result == {"raw": raw_size(space), "distinct_nb101_cells": distinct, "paper": SPACES[space].paper_size}
    assert result["raw"] == result["paper"] if space == 2 else result["raw"] != result["paper"]


def test_spaces_1_and_2_pad_to_nb101s_seven_vertices_with_a_pruned_dummy():
    rng = np.random.default_rng(0)
    for space in (1, 2, 3):
        for _ in range(50):
            cell = sample(space, rng)
            spec = cell.model_spec()
            assert spec.matrix.shape == (7, 7) and spec.ops[0] == "input" and spec.ops[-1] == "output"
            spec.check_in_space()  # at most 9 edges, 7 vertices
            if space in (1, 2):
                assert spec.ops[5] == "conv1x1-bn-relu" and not spec.matrix[5].any() and not spec.matrix[:, 5].any()
                assert "conv1x1-bn-relu" not in spec.pruned_ops[5:]  # the dummy never survives pruning


def test_a_block_that_does_not_reach_the_output_is_pruned_like_the_authors_builder():
    # space 3: node 5 takes parents but the output reads nodes 3 and 4 only -> node 5 is a loose end
    cell = Cell(3, ("conv3x3-bn-relu",) * 5, ((0,), (1,), (2,), (0, 3), (3, 4)), (3, 4))
    assert len(cell.model_spec().pruned_ops) == 6
    tight = Cell(3, ("conv3x3-bn-relu",) * 5, ((0,), (1,), (2,), (0, 3), (3, 4)), (4, 5))
    assert len(tight.model_spec().pruned_ops) == 7


@pytest.mark.parametrize("kwargs, message", [
    ({"space": 4}, "unknown NAS-Bench-1shot1 space 4"),
    ({"ops": ("conv5x5",) * 5}, "needs 5 ops"),
    ({"parents": ((0,), (1,), (2,), (0, 3), (3, 3))}, "node 5: parents"),
    ({"output": (0,)}, "output parents"),
])
def test_bad_cells_are_refused(kwargs, message):
    base = {"space": 3, "ops": ("maxpool3x3",) * 5, "parents": ((0,), (1,), (2,), (0, 3), (3, 4)), "output": (4, 5)}
    with pytest.raises(ValueError, match=message):
        Cell(**{**base, **kwargs})


def test_spaces_info_prints_the_structure(capsys):
    from harness.cli import main

    assert main(["spaces", "info", "nb1shot1-2"]) == 0
    out = capsys.readouterr().out
    assert "node 2 parents: 1 of [0, 1]" in out and "output parents: 3 of [0, 1, 2, 3, 4]" in out
    assert "raw configurations: 29,160 (paper: 29,160)" in out
