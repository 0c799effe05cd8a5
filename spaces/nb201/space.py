"""The NB201 search space plug-in (:class:`spaces.base.SearchSpace`), so strategies and the
harness stay independent of any particular space.

A strategy calls ``problem.space.sample(rng)``, ``mutate``, ``neighbours`` and never imports
``spaces.nb201`` itself; the runner asks the space for its benchmark (the tabular NB201
table), the config for its datasets and fidelities, the one-shot loop for its supernet.

One-shot scales (ALGORITHMS.md, "Search protocol on NAS-Bench-201"): ``paper`` is the
published protocol (C=16, N=5, 32x32, all 25k/25k images, batch 64); ``cpu`` is the cheapest
preset found under which DARTS-V1 collapses on 2 CPU cores (C=8, N=5, 8x8 images, 250 + 250
images per class, batch 64, 30 epochs: 1,170 steps; see docs/oneshot.md for the
measurements); ``smoke`` is the former CPU preset (C=8, N=1), where DARTS does not collapse,
kept for quick checks. The found cell is a real NB201 cell in every case.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from spaces import register_space
from spaces.base import Capability, SearchSpace
from spaces.nb201 import canonical as _canonical
from spaces.nb201 import codec
from spaces.nb201.importers import DATASETS

SCALES: dict[str, dict[str, Any]] = {
    "paper": {"channels": 16, "cells_per_stage": 5, "image_size": 32, "per_class": None, "batch_size": 64},
    "cpu": {"channels": 8, "cells_per_stage": 5, "image_size": 8, "per_class": 250, "batch_size": 64, "epochs": 30},
    "smoke": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "per_class": 250, "batch_size": 64, "epochs": 10},
}


@register_space("nb201")
class NB201Space(SearchSpace):
    """The 5^6 = 15,625 cells of NAS-Bench-201."""

    name = "nb201"
    benchmark_name = "NAS-Bench-201 table (tabular)"
    measure = "Accuracy (%) of the final cell at 200 epochs"
    datasets = tuple(DATASETS)
    fidelities = (200, 12)
    default_epochs = 200
    timed_epochs = 200
    arch_shape = (len(codec.EDGES), codec.N_OPS)
    scales = SCALES
    benchmark_choices = ("auto", "embedded")
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

    # ---- one-shot ---------------------------------------------------------------------------
    def make_supernet(self, num_classes: int, channels: int, cells_per_stage: int, impl: str, generator: Any) -> Any:
        from spaces.nb201.supernet import Supernet

        return Supernet(num_classes, channels, cells_per_stage, impl, generator)

    def derive(self, distribution: Any) -> codec.Arch:
        """The NB201 rule: per-edge argmax of the distribution's selection parameters, ``none``
        included (progressive DrNAS leaves its pruned ops out of them; BayesNAS derives through
        its switch walk instead)."""
        return self.derive_from_alpha(distribution.selection_alpha())

    def derive_from_alpha(self, alpha: Any) -> codec.Arch:
        """Per-edge argmax, ``none`` included."""
        return codec.Arch(tuple(int(i) for i in alpha.argmax(dim=-1)))

    def capabilities(self) -> tuple[Capability, ...]:
        from spaces.nb201.capabilities import nb201_capabilities

        return nb201_capabilities()

    def proxy_network(self, arch: codec.Arch, init_seed: int, num_classes: int) -> Any:
        """The NB201 scoring network (C=16, N=5) of ALGORITHMS.md "Zero-cost proxies"."""
        from spaces.nb201.network import build_proxy_network

        return build_proxy_network(arch, num_classes, init_seed)

    # ---- benchmark --------------------------------------------------------------------------
    def population(self, datasets: list[str], data_dir: str | None = None) -> dict[str, tuple[Any, Any]]:
        """Every cell's accuracies, from the imported table, else the embedded one (the same 15,625 cells)."""
        from nas_core.paths import DataNotFoundError
        from spaces.nb201.embedded import EMBEDDED_TABLE
        from spaces.nb201.table import load_table

        try:
            table = load_table(data_dir)
        except (DataNotFoundError, FileNotFoundError):
            table = load_table(path=EMBEDDED_TABLE)
        return {d: (table.column(d, "valid"), table.column(d, "test")) for d in datasets}

    def data_importers(self) -> tuple[Any, ...]:
        from spaces.nb201.data_import import NB201TableImport

        return (NB201TableImport(),)

    def bench_commands(self) -> tuple[Any, ...]:
        from spaces.nb201 import bench_supernet, bench_table

        return (bench_table.COMMAND, bench_supernet.COMMAND)

    def data_status(self, data_dir: str | None = None) -> list[str]:
        from nas_core.paths import DataNotFoundError, resolve_data_dir
        from spaces.nb201.importers import MAIN_CSV
        from spaces.nb201.table import tables_dir
        from spaces.tablefile import SUFFIX

        tables = sorted(tables_dir().glob(f"nb201-*{SUFFIX}"))
        lines = [f"nb201 imported tables: {', '.join(map(str, tables)) or 'none yet (built on first use)'}"]
        try:
            csv = resolve_data_dir(data_dir) / "nb201" / MAIN_CSV
            lines.append(f"nb201 source CSVs:    {csv.parent if csv.is_file() else 'not found in ' + str(csv.parent)}")
        except DataNotFoundError as exc:
            lines.append(f"nb201 source CSVs:    not found ({str(exc).splitlines()[0]})")
        return lines

    def open_benchmark(self, choice: str = "auto", data_dir: str | None = None) -> Any:
        """The NB201 table: found by the data search (``auto``) or the package's embedded one."""
        from spaces.nb201.table import load_table

        if choice == "embedded":
            from spaces.nb201.embedded import EMBEDDED_TABLE

            return load_table(path=EMBEDDED_TABLE)
        return load_table(data_dir)
