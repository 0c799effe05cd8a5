"""NAS-Bench-201: the cell space (codec, canonical form) and its tabular benchmark."""
from __future__ import annotations

from spaces.nb201.codec import EDGES, N_CELLS, OPS, Arch, all_archs, mutate, neighbours, sample

__all__ = ["EDGES", "N_CELLS", "OPS", "Arch", "all_archs", "mutate", "neighbours", "sample"]
