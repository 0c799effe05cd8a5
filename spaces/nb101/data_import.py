"""``nas-harness data import --nb101 FILE``: an NB101 table in the user cache (the NAS-Bench-1shot1
spaces' accuracies), from the official TFRecord (no TensorFlow needed) or a CSV/JSON table."""
from __future__ import annotations

from spaces.base import DataImporter


class NB101TableImport(DataImporter):
    key = "nb101"
    flag = "nb101"
    help = ("a NAS-Bench-101 file: the official nasbench_only108.tfrecord / nasbench_full.tfrecord (no TensorFlow "
            "needed), or a CSV/JSON table (docs: spaces/nb101/table.py)")

    def run(self, source: str | None, data_dir: str | None) -> str:
        from spaces.nb101.table import NB101Table, import_nb101

        path = import_nb101(source)
        table = NB101Table(path)
        return (f"imported NB101 table -> {path} ({path.stat().st_size / 1e6:.2f} MB, {len(table)} (cell, epochs) "
                f"entries, epochs {table.epochs})")
