"""Published figures to print beside measured ones (never used as results).

The figures are data, not code: ``reports/published.csv`` holds one line per (table, method,
dataset, split) with the published mean and std (BaLeNAS paper Tables 1-5; Table 1's
"optimal" row has no std; Table 3's "dataset, split" is (cifar10, test_error), (params, M) or
(cost, gpu_days), exactly as published). Which runs reproduce which line is said by
``reports/paper_tables.toml`` (:mod:`reports.paper_spec`). CIFAR-10 "Valid" is
cifar10-valid/x-valid, as in NB201.

Two quirks of the paper, kept as published: Table 1's "optimal" CIFAR-100 valid 74.49 and
ImageNet16-120 valid 46.77 differ from the table maxima (73.49, 46.73), and Table 4's row
labels are shifted by one line in its layout, so its values are read in blocks of three (SNIP
K = 10/50/100, then GraSP, then SynFlow), which is what makes its SynFlow rows agree with Table
2's BaLeNAS-TF(K) and Table 1's BaLeNAS-TF.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

#: the published figures, as data: one line per (table, method, dataset, split) with mean and std
PUBLISHED_CSV = Path(__file__).resolve().parent / "published.csv"
Figures = dict[tuple[str, str], tuple[float, float | None]]


@lru_cache(maxsize=1)
def _load(path: Path = PUBLISHED_CSV) -> dict[str, dict[str, Figures]]:
    """table -> method -> (dataset, split) -> (mean, std or None)."""
    figures: dict[str, dict[str, Figures]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for line in csv.DictReader(fh):
            std = float(line["std"]) if line["std"] else None
            figures.setdefault(line["table"], {}).setdefault(line["method"], {})[(line["dataset"], line["split"])] = (
                float(line["mean"]), std)
    return figures


def published_figures(table: str, method: str) -> Figures:
    """The figures the paper's ``table`` publishes for ``method`` (empty when it publishes none)."""
    return dict(_load().get(table, {}).get(method, {}))


def published_methods(table: str) -> list[str]:
    """The methods ``table`` publishes figures for, in the file's order."""
    return list(_load().get(table, {}))


PROXY_TITLE = {"synflow": "SynFlow", "snip": "SNIP", "grasp": "GraSP"}
