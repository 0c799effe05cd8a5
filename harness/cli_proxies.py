"""``nas-harness proxies ...`` and ``nas-harness bench synflow``: zero-cost proxy commands."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction, add_data_dir) -> None:
    from harness.config import DEFAULT_SPACE

    p = sub.add_parser("proxies", help="zero-cost proxies: list, score cells (cached), correlate with the tables")
    psub = p.add_subparsers(dest="proxies_command", required=True)
    psub.add_parser("list", help="registered proxies")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--space", default=DEFAULT_SPACE, help="a space that provides a whole-space proxy index "
                       f"(default {DEFAULT_SPACE})")
        q.add_argument("--init-seed", type=int, default=0, help="seed of the networks' initial weights")
        q.add_argument("--batch-seed", type=int, default=0, help="seed of the fixed image batch (data-dependent proxies)")
        q.add_argument("--n-jobs", type=int, default=2)
        q.add_argument("--scores-dir", help="cache folder (default results/proxy_scores)")
        add_data_dir(q)

    q = psub.add_parser("score", help="score cells with one proxy; results are cached and resumable")
    q.add_argument("--proxy", required=True)
    q.add_argument("--dataset", default="cifar10")
    which = q.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="all 15,625 cells")
    which.add_argument("--sample", type=int, help="a seeded uniform sample of this many cells")
    q.add_argument("--sample-seed", type=int, default=0)
    common(q)

    q = psub.add_parser("correlate", help="Kendall tau, Spearman rho, top-k%% precision vs the tables, with plots")
    q.add_argument("--proxies", default="synflow,snip,grasp,jacob_cov,grad_norm,nwot")
    q.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    q.add_argument("--sample", type=int, default=1000, help="cells for data-dependent proxies (synflow uses all)")
    q.add_argument("--sample-seed", type=int, default=0)
    q.add_argument("--out-dir", default="results/proxy_correlation", help="tables and figures go here")
    q.add_argument("--no-compute", action="store_true", help="use cached scores only; skip what is missing")
    common(q)


def run(args: argparse.Namespace) -> int:
    from spaces import get_space
    from spaces.base import ProxyIndex, require
    from strategies.proxies import get_proxy, proxy_names
    from strategies.proxies.cache import cache_path, sample_indices, score_cells
    from strategies.proxies.scoring import ScoringSetup

    if args.proxies_command == "list":
        for name in proxy_names():
            spec = get_proxy(name)
            print(f"{name:<10} {'needs data' if spec.needs_data else 'data-free':<11} {spec.description}")
        return 0
    directory = Path(args.scores_dir) if args.scores_dir else None
    if args.proxies_command == "score":
        get_proxy(args.proxy)
        index = require(get_space(args.space), ProxyIndex)
        setup = ScoringSetup(args.proxy, args.dataset, args.init_seed, args.batch_seed, data_dir=args.data_dir)
        cells = None if args.all else sample_indices(args.sample, index, args.sample_seed)
        scores = score_cells(setup, index, cells, n_jobs=args.n_jobs, directory=directory)
        print(f"{int((scores == scores).sum())} cells scored with {args.proxy} on {args.dataset} -> "
              f"{cache_path(setup, index, directory)}")
        return 0
    from reports.correlation import correlate_command

    return correlate_command(args, directory)
