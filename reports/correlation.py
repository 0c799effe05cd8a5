"""How well zero-cost proxies rank NB201 cells: Kendall tau, Spearman rho, top-k% precision.

Measured against the real table's validation and test accuracy, per dataset: over all 15,625
cells for data-free synflow, over a seeded sample for the data-dependent proxies. Signs are
reported as measured (every proxy is "higher is better", so a positive rho means the proxy
ranks like accuracy). The published figures are |rho| (zero-cost paper's notebook, all cells,
test accuracy) and are printed beside ours, never substituted for them.
Cells whose score is NaN (e.g. jacob_cov of a network whose Jacobians are constant) or
infinite are left out of the statistics and counted.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PUBLISHED_SPEARMAN: dict[str, dict[str, float]] = {
    "synflow": {"cifar10": 0.74, "cifar100": 0.76, "ImageNet16-120": 0.75},
    "jacob_cov": {"cifar10": 0.73, "cifar100": 0.70, "ImageNet16-120": 0.70},
    "snip": {"cifar10": 0.60, "cifar100": 0.64, "ImageNet16-120": 0.58},
    "grasp": {"cifar10": 0.51, "cifar100": 0.55, "ImageNet16-120": 0.55},
    "grad_norm": {"cifar10": 0.59, "cifar100": 0.64, "ImageNet16-120": 0.58},
}
TOP_K = (1, 5, 10)


def top_k_precision(scores: np.ndarray, accuracy: np.ndarray, percent: float) -> float:
    """Share of the proxy's top ``percent``% cells that are also in the accuracy's top ``percent``%."""
    n = max(1, math.ceil(len(scores) * percent / 100))
    by_proxy = set(np.argsort(-scores, kind="stable")[:n].tolist())
    by_accuracy = set(np.argsort(-accuracy, kind="stable")[:n].tolist())
    return len(by_proxy & by_accuracy) / n


def rank_metrics(scores: np.ndarray, accuracy: np.ndarray) -> dict[str, float]:
    from scipy import stats

    ok = np.isfinite(scores) & np.isfinite(accuracy)
    s, a = scores[ok], accuracy[ok]
    out = {"n": int(ok.sum()), "n_dropped": int((~ok).sum()),
           "kendall_tau": float(stats.kendalltau(s, a).statistic), "spearman_rho": float(stats.spearmanr(s, a).statistic)}
    for k in TOP_K:
        out[f"top{k}%"] = top_k_precision(s, a, k)
    return out


def expected_best(scores: np.ndarray, accuracy: np.ndarray, k: int, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Mean and std of the accuracy of the best-scored cell among ``k`` uniform draws (with
    replacement), over ``draws`` independent searches: zero-cost NAS without seed noise."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(scores), size=(draws, k))
    ranked = np.where(np.isnan(scores), -np.inf, scores)[picks]
    best = picks[np.arange(draws), np.argmax(ranked, axis=1)]
    return float(accuracy[best].mean()), float(accuracy[best].std())


def expectation_markdown(scores_by_proxy: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], table: Any,
                         ks: tuple[int, ...] = (10, 50, 100)) -> str:
    """Zero-cost NAS test accuracy expected from the whole-space scores, beside BaLeNAS Table 2."""
    from reports.published import TABLE2
    from spaces.nb201.codec import N_CELLS, Arch

    lines = ["| proxy | dataset | " + " | ".join(f"K={k} expected | K={k} paper" for k in ks) + " |",
             "|" + "---|" * (2 + 2 * len(ks))]
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        if len(lex) != N_CELLS:
            continue  # needs every cell: only data-free proxies scored over the whole space
        accuracy = table.column(dataset, "test")[table.indices_of([Arch.from_lex_index(int(i)) for i in lex])]
        cells = []
        for k in ks:
            mean, std = expected_best(scores, accuracy, k)
            paper = TABLE2.get(f"Zero-cost NAS({k})", {}).get(dataset) if proxy == "synflow" else None
            cells += [f"{mean:.2f} ± {std:.2f}", f"{paper[0]:.2f} ± {paper[1]:.2f}" if paper else "–"]
        lines.append(f"| {proxy} | {dataset} | " + " | ".join(cells) + " |")
    lines += ["", "Expected: mean ± std of the test accuracy of the best-scored of K uniform draws, over 2,000 "
              "searches (no seed noise). Paper: BaLeNAS Table 2, 4 seeds."]
    return "\n".join(lines) + "\n"


def correlation_table(scores_by_proxy: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], table: Any) -> pd.DataFrame:
    """``scores_by_proxy[(proxy, dataset)] = (lex_indices, scores)`` -> one row per proxy, dataset, split."""
    from spaces.nb201.codec import Arch

    rows = []
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        official = table.indices_of([Arch.from_lex_index(int(i)) for i in lex])
        for split in ("valid", "test"):
            accuracy = table.column(dataset, split)[official]
            metrics = rank_metrics(scores, accuracy)
            published = PUBLISHED_SPEARMAN.get(proxy, {}).get(dataset) if split == "test" else None
            rows.append({"proxy": proxy, "dataset": dataset, "split": split, **metrics, "published_|rho|": published})
    return pd.DataFrame(rows)


def to_markdown(frame: pd.DataFrame) -> str:
    head = ["proxy", "dataset", "split", "cells", "Kendall τ", "Spearman ρ", "published |ρ|",
            *[f"top-{k}%" for k in TOP_K]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in frame.to_dict("records"):
        published = row["published_|rho|"]
        published = "–" if published is None or pd.isna(published) else f"{published:.2f}"
        cells = f"{row['n']}" + (f" (+{row['n_dropped']} non-finite)" if row["n_dropped"] else "")
        lines.append("| " + " | ".join([
            row["proxy"], row["dataset"], row["split"], cells, f"{row['kendall_tau']:.3f}", f"{row['spearman_rho']:.3f}",
            published, *[f"{row[f'top{k}%']:.2f}" for k in TOP_K]]) + " |")
    lines += ["", "Signs as measured (every proxy: higher is better). Published |ρ|: zero-cost proxies paper, all "
              "15,625 cells, test accuracy. top-k%: share of the proxy's top k% cells that are in the accuracy's top k%."]
    return "\n".join(lines) + "\n"


def plot(scores_by_proxy: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], table: Any, out_dir: Path) -> list[Path]:
    """One panel per proxy and dataset: proxy score (log10 for synflow) against test accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from spaces.nb201.codec import Arch

    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        official = table.indices_of([Arch.from_lex_index(int(i)) for i in lex])
        accuracy = table.column(dataset, "test")[official]
        values = np.log10(scores) if proxy == "synflow" else scores
        ok = np.isfinite(values) & np.isfinite(accuracy)
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
        if ok.sum() > 3000:
            hb = ax.hexbin(values[ok], accuracy[ok], gridsize=60, bins="log", cmap="viridis", mincnt=1)
            fig.colorbar(hb, ax=ax, label="cells (log)")
        else:
            sns.scatterplot(x=values[ok], y=accuracy[ok], s=8, alpha=0.6, linewidth=0, ax=ax)
        ax.set_xlabel(f"log10 {proxy}" if proxy == "synflow" else proxy)
        ax.set_ylabel(f"{dataset} test accuracy (%)")
        ax.set_title(f"{proxy} on {dataset} ({ok.sum()} cells)", fontsize=9)
        fig.tight_layout()
        for suffix in ("png", "pdf"):
            path = out_dir / f"{proxy}__{dataset}.{suffix}"
            fig.savefig(path, dpi=150)
            written.append(path)
        plt.close(fig)
    return written


def correlate_command(args: Any, directory: Path | None) -> int:
    from nas_core.paths import DataNotFoundError
    from spaces.nb201.table import load_table
    from strategies.proxies import get_proxy
    from spaces.nb201.capabilities import NB201ProxyIndex
    from strategies.proxies.cache import load_cache, sample_indices, score_cells
    from strategies.proxies.scoring import ScoringSetup

    table = load_table(args.data_dir)
    index = NB201ProxyIndex()  # correlation against the NB201 table's accuracies
    sample = sample_indices(args.sample, index, args.sample_seed)
    collected: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for dataset in args.datasets.split(","):
        for proxy in args.proxies.split(","):
            spec = get_proxy(proxy)
            lex = np.arange(len(table.column(dataset, "test"))) if not spec.needs_data else sample
            setup = ScoringSetup(proxy, dataset, args.init_seed, args.batch_seed, data_dir=args.data_dir)
            try:
                if not args.no_compute:
                    score_cells(setup, index, lex, n_jobs=args.n_jobs, directory=directory)
            except DataNotFoundError as exc:
                print(f"skipped {proxy} on {dataset}: {str(exc).splitlines()[0]}", file=sys.stderr)
                continue
            scores, scored = load_cache(setup, index, directory)
            done = lex[scored[lex]]  # cells whose score is NaN stay in, and are counted as dropped
            if not len(done):
                print(f"skipped {proxy} on {dataset}: no cached scores (run without --no-compute)", file=sys.stderr)
                continue
            collected[(proxy, dataset)] = (done, scores[done])
    frame = correlation_table(collected, table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "correlation.csv", index=False)
    text = to_markdown(frame) + "\n" + expectation_markdown(collected, table)
    (out / "correlation.md").write_text(text, encoding="utf-8")
    figures = plot(collected, table, out / "figures")
    print(text)
    print(f"wrote {out / 'correlation.md'}, {out / 'correlation.csv'} and {len(figures)} figures in {out / 'figures'}")
    return 0
