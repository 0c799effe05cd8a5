"""The three NAS-Bench-1shot1 search spaces (ALGORITHMS.md, "NAS-Bench-1shot1"; Zela et al., 2020).

A cell has an input (node 0), k choice blocks (nodes 1..k; k = 4 for spaces 1 and 2, 5 for
space 3) each running one of ``maxpool3x3``, ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, and an
output. Each block and the output take a fixed number of parents among the earlier nodes:

=========  ==============================================================================
space 1    node1 <- 0; node2 <- {0, 1} (fixed); node3: 2 of {0..2}; node4: 2 of {0..3}; output: 2 of {0..4}
space 2    node1 <- 0; node2: 1 of {0, 1}; node3: 2 of {0..2}; node4: 2 of {0..3}; output: 3 of {0..4}
space 3    node1 <- 0; node2: 1; node3: 1; node4: 2; node5: 2 of {0..4}; output: 2 of {0..5}
=========  ==============================================================================

:meth:`Cell.model_spec` maps a cell to its NB101 model spec: spaces 1 and 2 build the 6x6
matrix and insert an empty vertex at index 5 (op ``conv1x1-bn-relu``, a dummy that pruning
removes) to reach NB101's 7x7; space 3 is 7x7 as it is. NB101's pruning of vertices that do
not reach the output then gives the same hash as the authors' "no loose ends" builder.

Sizes (:func:`count`): raw configurations 14,580 / 29,160 / 1,312,200 and distinct NB101 cells
2,685 / 7,773 / 55,854, against the paper's 6,240 / 29,160 / 363,648. Only space 2's raw count
agrees with the paper; neither definition, nor counting the configurations without loose ends
(3,078 / 11,178 / 108,135), gives the paper's figures for spaces 1 and 3.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from spaces.nb101.spec import CONV1X1, CONV3X3, MAXPOOL3X3, ModelSpec

#: the choice-block ops in the authors' PRIMITIVES order
OPS: tuple[str, ...] = (MAXPOOL3X3, CONV3X3, CONV1X1)


@dataclass(frozen=True)
class SpaceDef:
    number: int
    blocks: int
    #: per block 1..k: a fixed parent set (a tuple of tuples) or how many parents it picks
    parents: tuple[tuple[tuple[int, ...], ...] | int, ...]
    output_parents: int
    paper_size: int

    def parent_choices(self) -> list[list[tuple[int, ...]]]:
        choices = []
        for node, rule in enumerate(self.parents, start=1):
            choices.append(list(rule) if isinstance(rule, tuple) else list(itertools.combinations(range(node), rule)))
        return choices

    def output_choices(self) -> list[tuple[int, ...]]:
        return list(itertools.combinations(range(self.blocks + 1), self.output_parents))


SPACES: dict[int, SpaceDef] = {
    1: SpaceDef(1, 4, (((0,),), ((0, 1),), 2, 2), 2, 6_240),
    2: SpaceDef(2, 4, (((0,),), 1, 2, 2), 3, 29_160),
    3: SpaceDef(3, 5, (((0,),), 1, 1, 2, 2), 2, 363_648),
}


@dataclass(frozen=True)
class Cell:
    """A cell of a NAS-Bench-1shot1 space: each block's op and parents, and the output's parents."""

    space: int
    ops: tuple[str, ...]
    parents: tuple[tuple[int, ...], ...]
    output: tuple[int, ...]

    def __post_init__(self) -> None:
        definition = SPACES.get(self.space)
        if definition is None:
            raise ValueError(f"unknown NAS-Bench-1shot1 space {self.space}; spaces: {sorted(SPACES)}")
        if len(self.ops) != definition.blocks or any(op not in OPS for op in self.ops):
            raise ValueError(f"space {self.space} needs {definition.blocks} ops from {list(OPS)}, got {self.ops}")
        for node, (given, allowed) in enumerate(zip(self.parents, definition.parent_choices()), start=1):
            if tuple(sorted(given)) not in allowed:
                raise ValueError(f"space {self.space}, node {node}: parents {given} are not one of {allowed}")
        if len(self.parents) != definition.blocks or tuple(sorted(self.output)) not in definition.output_choices():
            raise ValueError(f"space {self.space}: output parents {self.output} must be "
                             f"{definition.output_parents} of {list(range(definition.blocks + 1))}")

    def matrix(self) -> np.ndarray:
        n = len(self.ops) + 2
        matrix = np.zeros((n, n), dtype=np.int64)
        for node, parents in enumerate(self.parents, start=1):
            matrix[list(parents), node] = 1
        matrix[list(self.output), n - 1] = 1
        return matrix

    def model_spec(self) -> ModelSpec:
        """The NB101 model spec (7x7; spaces 1 and 2 with the dummy vertex at index 5)."""
        matrix, ops = self.matrix(), ("input", *self.ops, "output")
        if len(self.ops) == 4:
            matrix = np.insert(np.insert(matrix, 5, 0, axis=0), 5, 0, axis=1)
            ops = ops[:5] + (CONV1X1,) + ops[5:]
        return ModelSpec(matrix, ops)

    def to_str(self) -> str:
        blocks = " ".join(f"{op}<-{','.join(map(str, p))}" for op, p in zip(self.ops, self.parents))
        return f"nb1shot1-{self.space}[{blocks} | out<-{','.join(map(str, self.output))}]"


def cells(space: int) -> Iterator[Cell]:
    """Every raw configuration of ``space``."""
    definition = SPACES[space]
    for parents in itertools.product(*definition.parent_choices()):
        for output in definition.output_choices():
            for ops in itertools.product(OPS, repeat=definition.blocks):
                yield Cell(space, ops, parents, output)


def raw_size(space: int) -> int:
    """The number of raw configurations, by counting choices (instant, unlike :func:`count`)."""
    definition = SPACES[space]
    size = len(OPS) ** definition.blocks * len(definition.output_choices())
    for choice in definition.parent_choices():
        size *= len(choice)
    return size


def count(space: int) -> dict[str, int]:
    """Raw configurations and distinct NB101 cells (hashes) of ``space``; space 3 takes minutes."""
    raw, hashes = 0, set()
    for cell in cells(space):
        raw += 1
        hashes.add(cell.model_spec().hash())
    return {"raw": raw, "distinct_nb101_cells": len(hashes), "paper": SPACES[space].paper_size}


def sample(space: int, rng: np.random.Generator) -> Cell:
    definition = SPACES[space]
    parents = tuple(choice[int(rng.integers(len(choice)))] for choice in definition.parent_choices())
    outputs = definition.output_choices()
    return Cell(space, tuple(OPS[int(i)] for i in rng.integers(len(OPS), size=definition.blocks)), parents,
                outputs[int(rng.integers(len(outputs)))])


def from_str(text: str) -> Cell:
    """Parse :meth:`Cell.to_str`'s form, ``nb1shot1-3[conv3x3-bn-relu<-0 ... | out<-4,5]``."""
    import re

    match = re.fullmatch(r"\s*nb1shot1-(\d)\[(.*)\|\s*out<-([\d,]+)\]\s*", text)
    if match is None:
        raise ValueError(f"malformed NAS-Bench-1shot1 cell {text!r}; expected e.g. "
                         "'nb1shot1-3[conv3x3-bn-relu<-0 maxpool3x3<-1 ... | out<-4,5]'")
    ops, parents = [], []
    for block in match.group(2).split():
        op, sep, nodes = block.partition("<-")
        if not sep or not re.fullmatch(r"\d+(,\d+)*", nodes):
            raise ValueError(f"malformed block {block!r} in NAS-Bench-1shot1 cell {text!r}")
        ops.append(op)
        parents.append(tuple(int(n) for n in nodes.split(",")))
    return Cell(int(match.group(1)), tuple(ops), tuple(parents), tuple(int(n) for n in match.group(3).split(",")))


def neighbours(cell: Cell) -> list[Cell]:
    """Every cell one choice away: one block's op, one node's parent set, or the output's parents."""
    definition = SPACES[cell.space]
    out = []
    for b, op in enumerate(cell.ops):
        out += [Cell(cell.space, cell.ops[:b] + (other,) + cell.ops[b + 1:], cell.parents, cell.output)
                for other in OPS if other != op]
    for b, choices in enumerate(definition.parent_choices()):
        out += [Cell(cell.space, cell.ops, cell.parents[:b] + (choice,) + cell.parents[b + 1:], cell.output)
                for choice in choices if choice != cell.parents[b]]
    out += [Cell(cell.space, cell.ops, cell.parents, choice) for choice in definition.output_choices()
            if choice != cell.output]
    return out


def mutate(cell: Cell, rng: np.random.Generator) -> Cell:
    """One uniformly drawn neighbour (every single change equally likely)."""
    options = neighbours(cell)
    return options[int(rng.integers(len(options)))]
