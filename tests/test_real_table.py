"""Checks against the real NAS-Bench-201 tables in ../shared/data (skipped when absent)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from spaces.nb201.codec import N_CELLS, Arch
from nas_core.splits import Split

pytestmark = pytest.mark.slow
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


@pytest.mark.parametrize(
    "name", ["nb201_nats_tss_200ep.csv", "nb201_v1_cifar10_naswot.csv", "nb201_12ep_minibench.csv", "nb201_latency_help.csv"]
)
def test_index_to_string_mapping_equals_every_shared_table(real_data_dir, real_table, name):
    with open(real_data_dir / "nb201" / name, newline="") as fh:
        rows = {int(r["arch_index"]): r["arch_str"] for r in csv.DictReader(fh)}
    assert len(rows) == N_CELLS
    for index, text in rows.items():
        arch = Arch.from_str(text)
        assert arch.to_str() == text
        assert real_table.index_of(arch) == index
        assert real_table.arch_at(index) == arch


@pytest.mark.parametrize(
    "dataset, split, value, index",
    [
        ("cifar10", Split.TEST, 94.37, 6111),
        ("cifar10-valid", Split.VALID, 91.61, 6111),
        ("cifar100", Split.TEST, 73.51, 9930),
        ("ImageNet16-120", Split.TEST, 47.31, 857),
        ("cifar100", Split.VALID, 73.49, 9930),
        ("ImageNet16-120", Split.VALID, 46.73, 10676),
    ],
)
def test_table_reproduces_the_published_optima(real_table, dataset, split, value, index):
    column = real_table.column(dataset, split)
    assert round(float(column.max()), 2) == value
    assert int(column.argmax()) == index


def test_all_skip_cell_is_the_darts_collapse_figure(real_table):
    arch = Arch.from_str(ALL_SKIP)
    assert round(real_table.query(arch, "cifar10-valid", Split.VALID), 2) == 39.77
    assert round(real_table.query(arch, "cifar10", Split.TEST), 2) == 54.30
    assert round(real_table.query(arch, "cifar100", Split.TEST), 2) == 15.61
    assert round(real_table.query(arch, "ImageNet16-120", Split.TEST), 2) == 16.32


def test_12_epoch_results_are_the_short_schedule(real_table):
    assert round(float(real_table.column("cifar10", Split.TEST, 12).max()), 2) == 89.16


def test_costs_and_latency_of_the_best_cifar10_cell(real_table):
    arch = real_table.arch_at(6111)
    cost = real_table.cost(arch, "cifar10")
    assert cost.params_M == pytest.approx(0.073306 + 4 * 0.24304 + 0.028)
    assert cost.train_time_s > 0 and cost.flops_M > 0
    assert len(real_table.latency_devices) == 27 and real_table.latency_ms(arch, "pixel3") > 0


def test_whole_space_statistics_near_the_papers_random_baseline(real_table):
    """The paper's Random-baseline row estimates these; print both for the record."""
    for dataset, (valid_mean, test_mean) in {"cifar10": (83.20, 86.61), "cifar100": (60.70, 60.83),
                                              "ImageNet16-120": (33.34, 33.13)}.items():
        valid, test = real_table.column(dataset, "valid"), real_table.column(dataset, "test")
        print(f"{dataset}: table valid {valid.mean():.2f}±{valid.std():.2f} vs paper {valid_mean}; "
              f"test {test.mean():.2f}±{test.std():.2f} vs paper {test_mean}")
        assert abs(valid.mean() - valid_mean) < 1.0 and abs(test.mean() - test_mean) < 1.0
    assert np.isfinite(real_table.column("cifar10", "test")).all()
