"""Search for the cheapest CPU preset under which DARTS-V1 collapses on NAS-Bench-201.

Runs DARTS-V1 (CIFAR-10 search) under each candidate preset and seed, and prints one line
per epoch (skip connections, supernet valid accuracy) and one summary row per search:
preset, minutes per search, final skip count, the table's CIFAR-10 test accuracy of the
found cell. Results are appended to a JSON-lines file so an interrupted sweep can be
resumed and a table built from it (``--table``).

    python scripts/find_collapse_preset.py --preset n5c8 --seeds 0 1 2 3 --threads 2
    python scripts/find_collapse_preset.py --table results/collapse_presets.jsonl
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

CANDIDATES: dict[str, dict] = {
    # today's preset (C=8, N=1, 16 px, 2.5k/2.5k, 10 epochs)
    "n1c8": {"channels": 8, "cells_per_stage": 1, "image_size": 16, "per_class": 250, "epochs": 10},
    "n5c8": {"channels": 8, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 10},
    "n5c4": {"channels": 4, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 10},
    "n5c4e20": {"channels": 4, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 20},
    "n3c8": {"channels": 8, "cells_per_stage": 3, "image_size": 16, "per_class": 250, "epochs": 10},
    "n3c8e20": {"channels": 8, "cells_per_stage": 3, "image_size": 16, "per_class": 250, "epochs": 20},
    "n5c8px8": {"channels": 8, "cells_per_stage": 5, "image_size": 8, "per_class": 250, "epochs": 10},
    "n5c8px8e15": {"channels": 8, "cells_per_stage": 5, "image_size": 8, "per_class": 250, "epochs": 15},
    "n5c8px8e30": {"channels": 8, "cells_per_stage": 5, "image_size": 8, "per_class": 250, "epochs": 30},
    "n5c4px8e30": {"channels": 4, "cells_per_stage": 5, "image_size": 8, "per_class": 250, "epochs": 30},
    "n5c8e20": {"channels": 8, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 20},
    "n5c8e30": {"channels": 8, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 30},
    "n5c4e30": {"channels": 4, "cells_per_stage": 5, "image_size": 16, "per_class": 250, "epochs": 30},
    "n5c8d500": {"channels": 8, "cells_per_stage": 5, "image_size": 16, "per_class": 500, "epochs": 5},
}


def run(preset: str, seed: int, strategy: str, out: Path, threads: int) -> dict:
    import torch

    from nas_core.problem import Budget, Problem, SearchLog
    from harness.seeding import numpy_rng
    from spaces.nb201.space import NB201Space
    from spaces.nb201.table import load_table
    from strategies.registry import get

    torch.set_num_threads(threads)
    kwargs = {**CANDIDATES[preset], "hessian_every": 0, "batch_size": 64}
    log = SearchLog()

    def report(epoch: int) -> None:
        row = log.rows[-1]
        print(f"  {preset} seed {seed} epoch {epoch}: skip {row['skip_connections']} "
              f"supernet valid {row['valid_acc']:.1f}% {row['epoch_wall_s']:.0f}s {row['genotype']}", flush=True)

    problem = Problem(space=NB201Space(), dataset="cifar10", budget=Budget(), epoch_callback=report, device="cpu")
    started = time.perf_counter()
    arch = get(strategy)(**kwargs).search(problem, numpy_rng({"preset": preset, "strategy": strategy}, seed), log)
    minutes = (time.perf_counter() - started) / 60
    table = load_table()
    result = {"preset": preset, "strategy": strategy, "seed": seed, "threads": threads, "kwargs": kwargs,
              "minutes": minutes, "skip": arch.count("skip_connect"), "arch": arch.to_str(),
              "test_acc": table.query(arch, "cifar10", "test", 200),
              "skip_per_epoch": [r["skip_connections"] for r in log.rows]}
    with out.open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    print(f"{preset} seed {seed}: {minutes:.1f} min, skip {result['skip']}, test {result['test_acc']:.2f} "
          f"{result['arch']}", flush=True)
    return result


def table(path: Path) -> None:
    import collections

    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[tuple, list] = collections.defaultdict(list)
    for row in rows:
        groups[(row["preset"], row["strategy"], row["threads"])].append(row)
    print("| preset | strategy | threads | seeds | min / search | final skip (mean) | CIFAR-10 test (mean) |")
    print("|---|---|---|---|---|---|---|")
    for (preset, strategy, threads), group in groups.items():
        n = len(group)
        print(f"| {preset} {CANDIDATES.get(preset, '')} | {strategy} | {threads} | {n} | "
              f"{sum(r['minutes'] for r in group) / n:.1f} | {sum(r['skip'] for r in group) / n:.2f} | "
              f"{sum(r['test_acc'] for r in group) / n:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", nargs="*", default=[], choices=sorted(CANDIDATES))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--strategy", default="darts_v1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/collapse_presets.jsonl"))
    parser.add_argument("--table", type=Path, default=None, help="print the table of a results file and exit")
    args = parser.parse_args()
    if args.table:
        table(args.table)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for preset in args.preset:
        for seed in args.seeds:
            run(preset, seed, args.strategy, args.out, args.threads)


if __name__ == "__main__":
    main()
