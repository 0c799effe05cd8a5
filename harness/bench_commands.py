"""``nas-harness bench ...``: the performance benchmarks, each printing ratios against a reference
measured in the same run.

Two kinds, so that no command here names a space:

* the harness's own machinery, generic over the space (``--space``, the default space when
  omitted): proxy scoring over a :class:`spaces.base.ProxyIndex` (``synflow``), the CUDA-graphed
  step (``cuda``), concurrent searches on one GPU (``concurrency``), BaLeNAS's samples
  (``balenas``);
* a space's own components against references particular to them (its table against pandas,
  its supernet against a per-op or the authors' one, its surrogate one query at a time):
  :class:`spaces.bench.BenchCommand` objects every registered space contributes through
  ``SearchSpace.bench_commands``.
"""
from __future__ import annotations

import argparse
from typing import Callable

from harness.config import DEFAULT_SPACE
from spaces import get_space, space_names
from spaces.bench import BenchCommand

#: the subcommands defined here; a space's command may not take one of these names
GENERIC = ("synflow", "cuda", "concurrency", "balenas")


def space_commands() -> dict[str, tuple[str, BenchCommand]]:
    """``{command name: (space name, command)}`` over the registered spaces; two spaces (or a space
    and the harness) contributing the same name is a plug-in error, refused naming both."""
    found: dict[str, tuple[str, BenchCommand]] = {}
    for space_name in space_names():
        for command in get_space(space_name).bench_commands():
            if command.name in GENERIC:
                raise ValueError(f"space {space_name!r} contributes `bench {command.name}`, a name the harness "
                                 f"uses itself ({', '.join(GENERIC)}); rename the space's command")
            if command.name in found:
                raise ValueError(f"spaces {found[command.name][0]!r} and {space_name!r} both contribute "
                                 f"`bench {command.name}`; rename one of them")
            found[command.name] = (space_name, command)
    return found


def _space_option(parser: argparse.ArgumentParser, needs: str) -> None:
    parser.add_argument("--space", default=DEFAULT_SPACE,
                        help=f"the space whose components are measured (default {DEFAULT_SPACE}; needs {needs})")


def add_parsers(sub: argparse._SubParsersAction, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("bench", help="performance benchmarks that print ratios against a reference")
    bench_sub = p.add_subparsers(dest="bench_command", required=True)

    q = bench_sub.add_parser("synflow", help="synflow cells/s: fast whole-space scorer vs the per-cell reference")
    _space_option(q, "a whole-space proxy index")
    q.add_argument("--cells", type=int, default=60, help="cells timed for each (default 60)")
    q.add_argument("--dataset", default="cifar10")
    q = bench_sub.add_parser("cuda", help="one DARTS search step on a GPU at the space's paper scale: plain, fast, "
                             "CUDA-graphed (and the authors' supernet where installed), with an equality check (TF32 off)")
    _space_option(q, "CUDA-graph capture")
    q.add_argument("--steps", type=int, default=30, help="timed steps per variant, after warm-up (default 30)")
    q.add_argument("--device", default="cuda", help="the CUDA device (default cuda)")
    q.add_argument("--compile", action="store_true", help="also graphs of the space's torch.compile'd cells")
    q.add_argument("--variants", help="a comma-separated subset of plain, fast, fast+graphs, fast+graphs+cl, authors, "
                   "fast+graphs+compile, fast+graphs+compile+cl")
    q.add_argument("--target-ms", type=float, help="print whether the best graphed step meets this many ms")
    q = bench_sub.add_parser("concurrency", help="paper-scale searches per hour on one GPU for 1, 2, 4, 8 at once")
    _space_option(q, "CUDA-graph capture")
    q.add_argument("--searches", default="1,2,4,8", help="comma-separated numbers of concurrent searches")
    q.add_argument("--seconds", type=float, default=20.0, help="timed seconds per setting (default 20)")
    q = bench_sub.add_parser("balenas", help="one search step: BaLeNAS M = 1..4 vs DARTS (time and peak memory)")
    _space_option(q, "a supernet")
    q.add_argument("--order", type=int, choices=(1, 2), default=1, help="first or second order (default 1)")
    q.add_argument("--steps", type=int, default=3)
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--rounds", type=int, default=2, help="alternating runs; the best of each variant is kept")
    q.add_argument("--channels", type=int, default=16)
    q.add_argument("--cells-per-stage", type=int, default=5)
    q.add_argument("--image-size", type=int, default=32)

    for name, (space_name, command) in space_commands().items():
        q = bench_sub.add_parser(name, help=f"[{space_name}] {command.help}")
        command.add_arguments(q)
        if command.data_dir:
            add_data_dir(q)


def _space_name(args: argparse.Namespace) -> str:
    if args.space not in space_names():
        raise ValueError(f"--space {args.space!r} is not a registered space; choose from {', '.join(space_names())}")
    return args.space


def run(args: argparse.Namespace) -> int:
    """Run the benchmark ``args.bench_command`` names and print its report."""
    if args.bench_command in GENERIC:
        space_name = _space_name(args)
    if args.bench_command == "synflow":
        from harness.bench_synflow import run_benchmark as run_synflow

        print(run_synflow(space_name, args.cells, args.dataset))
    elif args.bench_command == "cuda":
        from harness.bench_cuda import run_benchmark as run_cuda

        print(run_cuda(get_space(space_name), args.steps, args.device, args.compile,
                       args.variants.split(",") if args.variants else None, args.target_ms))
    elif args.bench_command == "concurrency":
        from harness.bench_concurrency import run_benchmark as run_concurrency

        try:
            counts = [int(k) for k in args.searches.split(",")]
        except ValueError:
            raise ValueError(f"--searches must be comma-separated integers, got {args.searches!r}") from None
        print(run_concurrency(counts, space_name, args.seconds))
    elif args.bench_command == "balenas":
        from harness.bench_balenas import run_benchmark as run_balenas

        print(run_balenas(space_name, args.order, args.steps, args.threads, args.rounds, args.channels,
                          args.cells_per_stage, args.image_size))
    else:
        print(space_commands()[args.bench_command][1].run(args))
    return 0
