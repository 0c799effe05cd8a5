"""``nas-harness bench ...``: the performance benchmarks, each printing ratios against a reference
measured in the same run (the ``harness/bench_*.py`` modules).

Why apart from ``cli.py``: the benchmarks measure one space's components against references
particular to them (the NB201 table against pandas, NB201 and DARTS-space supernets against
their per-op references, the NB301 surrogate one query at a time), so their commands name
those spaces; the rest of the command line dispatches over the registries and names none.
"""
from __future__ import annotations

import argparse
from typing import Callable


def add_parsers(sub: argparse._SubParsersAction, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("bench", help="performance benchmarks that print ratios against a reference")
    bench_sub = p.add_subparsers(dest="bench_command", required=True)
    q = bench_sub.add_parser("table", help="load time, memory and query latency of the compact NB201 table")
    add_data_dir(q)
    q = bench_sub.add_parser("synflow", help="synflow cells/s: fast whole-space scorer vs the per-cell reference")
    q.add_argument("--cells", type=int, default=60, help="cells timed for each (default 60)")
    q.add_argument("--dataset", default="cifar10")
    q = bench_sub.add_parser("supernet", help="one DARTS search step: fast vs plain supernet (time and peak memory)")
    q.add_argument("--steps", type=int, default=3)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--rounds", type=int, default=2, help="alternating plain/fast runs; the best of each is kept")
    q.add_argument("--device", default="cpu", help="cpu (default; subprocesses at --threads) or cuda: plain, fast, "
                   "fast with CUDA graphs and xautodl in one process, with an equality check (TF32 off)")
    q.add_argument("--compile", action="store_true", help="with --device cuda: also graphs of torch.compile'd cells")
    q.add_argument("--variants", help="with --device cuda: a comma-separated subset of plain, fast, fast+graphs, "
                   "fast+graphs+cl, xautodl, fast+graphs+compile, fast+graphs+compile+cl")
    q = bench_sub.add_parser("darts", help="one DARTS search step on the DARTS-space supernet: fast and grouped vs "
                             "the per-op reference")
    q.add_argument("--steps", type=int, default=2)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--rounds", type=int, default=2, help="alternating plain/fast/grouped runs; the best of each is kept")
    q.add_argument("--preset", choices=("paper", "cpu"), default="paper",
                   help="paper: 8 cells, C=16, batch 64, 32x32 (default); cpu: the CPU preset's supernet")
    q = bench_sub.add_parser("nb301", help="NAS-Bench-301 surrogate predictions/s: batched vs one at a time")
    q.add_argument("--n", type=int, default=10_000)
    add_data_dir(q)
    q = bench_sub.add_parser("concurrency", help="paper-scale searches per hour on one GPU for 1, 2, 4, 8 at once")
    q.add_argument("--searches", default="1,2,4,8", help="comma-separated numbers of concurrent searches")
    q.add_argument("--seconds", type=float, default=20.0, help="timed seconds per setting (default 20)")

    q = bench_sub.add_parser("balenas", help="one search step: BaLeNAS M = 1..4 vs DARTS (time and peak memory)")
    q.add_argument("--order", type=int, choices=(1, 2), default=1, help="first or second order (default 1)")
    q.add_argument("--steps", type=int, default=3)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--rounds", type=int, default=2, help="alternating runs; the best of each variant is kept")
    q.add_argument("--channels", type=int, default=16)
    q.add_argument("--cells-per-stage", type=int, default=5)
    q.add_argument("--image-size", type=int, default=32)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark ``args.bench_command`` names and print its report."""
    if args.bench_command == "supernet":
        if args.device != "cpu":
            from harness.bench_cuda import run_benchmark as run_cuda

            print(run_cuda(max(args.steps, 30), args.device, args.compile,
                           args.variants.split(",") if args.variants else None))
            return 0
        from harness.bench_supernet import run_benchmark as run_supernet

        print(run_supernet(args.steps, args.threads, args.rounds))
        return 0
    if args.bench_command == "darts":
        from harness.bench_darts import run_benchmark as run_darts

        print(run_darts(args.steps, args.threads, args.rounds, args.preset))
        return 0
    if args.bench_command == "nb301":
        from harness.bench_nb301 import run_benchmark as run_nb301

        print(run_nb301(args.n, data_dir=args.data_dir))
        return 0
    if args.bench_command == "concurrency":
        from harness.bench_concurrency import run_benchmark as run_concurrency

        try:
            counts = [int(k) for k in args.searches.split(",")]
        except ValueError:
            raise SystemExit(f"--searches must be comma-separated integers, got {args.searches!r}") from None
        print(run_concurrency(counts, args.seconds))
        return 0
    if args.bench_command == "balenas":
        from harness.bench_balenas import run_benchmark as run_balenas

        print(run_balenas(args.order, args.steps, args.threads, args.rounds, args.channels, args.cells_per_stage,
                          args.image_size))
        return 0
    if args.bench_command == "synflow":
        from harness.bench_synflow import run_benchmark as run_synflow

        print(run_synflow(args.cells, args.dataset))
        return 0
    from harness.bench_table import format_report, run_benchmark

    print(format_report(run_benchmark(args.data_dir)))
    return 0
