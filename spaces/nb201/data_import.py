"""``nas-harness data import`` for NB201: the compact table from the data folder's CSVs or an
official NATS-Bench/NB201 file, and (maintainers) the embedded table shipped in the package."""
from __future__ import annotations

from pathlib import Path

from spaces.base import DataImporter


class NB201TableImport(DataImporter):
    key = "nb201"
    flag = "official"
    help = "an official NATS-Bench/NB201 benchmark file for the NB201 table (needs the nats_bench package); " \
           "without it, `data import` builds the table from the data folder's NB201 CSVs"
    default = True

    def run(self, source: str | None, data_dir: str | None) -> str:
        from spaces.nb201.table import import_table, load_table

        path = import_table(data_dir, official=Path(source) if source else None)
        table = load_table(path=path)
        return (f"imported NB201 table -> {path} ({path.stat().st_size / 1e6:.1f} MB, datasets "
                f"{', '.join(table.datasets)}, {len(table.latency_devices)} latency devices)")

    def embed(self, data_dir: str | None) -> str:
        from nas_core.paths import resolve_data_dir
        from spaces.nb201.embedded import build_embedded

        path = build_embedded(resolve_data_dir(data_dir) / "nb201")
        return f"embedded NB201 table -> {path} ({path.stat().st_size / 1e6:.2f} MB)"
