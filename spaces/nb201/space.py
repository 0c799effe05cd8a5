"""The NB201 search space as one object, so strategies stay independent of any particular space.

A strategy calls ``problem.space.sample(rng)``, ``mutate``, ``neighbours`` and never imports
``spaces.nb201`` itself; a future space only has to offer the same methods.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from spaces.nb201 import canonical as _canonical
from spaces.nb201 import codec


class NB201Space:
    """The 5^6 = 15,625 cells of NAS-Bench-201."""

    name = "nb201"
    n_cells = codec.N_CELLS
    ops = codec.OPS
    edges = codec.EDGES

    def sample(self, rng: np.random.Generator) -> codec.Arch:
        return codec.sample(rng)

    def mutate(self, arch: codec.Arch, rng: np.random.Generator) -> codec.Arch:
        return codec.mutate(arch, rng)

    def neighbours(self, arch: codec.Arch) -> list[codec.Arch]:
        return codec.neighbours(arch)

    def all(self) -> Iterator[codec.Arch]:
        return codec.all_archs()

    def from_str(self, text: str) -> codec.Arch:
        return codec.Arch.from_str(text)

    def to_str(self, arch: codec.Arch) -> str:
        return arch.to_str()

    def canonical(self, arch: codec.Arch, mode: _canonical.Mode = "nb201") -> codec.Arch:
        return _canonical.canonical(arch, mode)

    def is_member(self, arch: object) -> bool:
        return isinstance(arch, codec.Arch)
