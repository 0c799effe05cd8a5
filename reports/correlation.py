"""How well zero-cost proxies rank a space's cells: Kendall tau, Spearman rho, top-k% precision.

For a space with a whole-space index whose benchmark is a complete table (the
:class:`spaces.capabilities.ProxyIndex` capability and its ``accuracies``; NB201 among the
built-ins). Measured against the table's validation and test accuracy, per dataset: over all
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


#: the strategy whose published rows the expectation is printed beside (matched in paper_tables.toml)
ZERO_COST_STRATEGY = "zero_cost"
#: a proxy ranking's input: ``{(proxy, dataset): (indices, scores)}`` and ``{(dataset, split): accuracy by index}``
Scores = dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
Accuracy = dict[tuple[str, str], np.ndarray]


def expectation_markdown(space: str, scores_by_proxy: Scores, accuracy: Accuracy, size: int,
                         ks: tuple[int, ...] = (10, 50, 100)) -> str:
    """Zero-cost NAS test accuracy expected from the whole-space scores, beside the paper's
    zero-cost rows of ``space`` (``paper_tables.toml``)."""
    from reports.paper_spec import load_spec

    spec = load_spec()
    lines = ["| proxy | dataset | " + " | ".join(f"K={k} expected | K={k} paper" for k in ks) + " |",
             "|" + "---|" * (2 + 2 * len(ks))]
    sources = set()
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        if len(lex) != size:
            continue  # needs every cell: only data-free proxies scored over the whole space
        test = accuracy[(dataset, "test")][lex]
        cells = []
        for k in ks:
            mean, std = expected_best(scores, test, k)
            found = spec.published_row_of(space, ZERO_COST_STRATEGY, {"proxy": proxy, "k": k}, None)
            paper = found[1].get(dataset, (None, None))[1] if found else None
            if found and paper:
                sources.add(found[0].rsplit("(", 1)[-1].rstrip(")"))
            cells += [f"{mean:.2f} ± {std:.2f}", f"{paper[0]:.2f} ± {paper[1]:.2f}" if paper else "–"]
        lines.append(f"| {proxy} | {dataset} | " + " | ".join(cells) + " |")
    lines += ["", "Expected: mean ± std of the test accuracy of the best-scored of K uniform draws, over 2,000 "
              f"searches (no seed noise). Paper: BaLeNAS {', '.join(sorted(sources)) or '(none for this space)'}, "
              "4 seeds."]
    return "\n".join(lines) + "\n"


def correlation_table(scores_by_proxy: Scores, accuracy: Accuracy,
                      published: dict[str, dict[str, float]] | None = None) -> pd.DataFrame:
    """One row per proxy, dataset and split; ``published``: the space's whole-space |rho| per proxy and dataset."""
    rows = []
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        for split in ("valid", "test"):
            metrics = rank_metrics(scores, accuracy[(dataset, split)][lex])
            paper = (published or {}).get(proxy, {}).get(dataset) if split == "test" else None
            rows.append({"proxy": proxy, "dataset": dataset, "split": split, **metrics, "published_|rho|": paper})
    return pd.DataFrame(rows)


def to_markdown(frame: pd.DataFrame, size: int) -> str:
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
              f"{size:,} cells, test accuracy. top-k%: share of the proxy's top k% cells that are in the accuracy's top k%."]
    return "\n".join(lines) + "\n"


def plot(scores_by_proxy: Scores, accuracy: Accuracy, out_dir: Path) -> list[Path]:
    """One panel per proxy and dataset: proxy score (log10 for synflow) against test accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    written = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for (proxy, dataset), (lex, scores) in scores_by_proxy.items():
        test = accuracy[(dataset, "test")][lex]
        values = np.log10(scores) if proxy == "synflow" else scores
        ok = np.isfinite(values) & np.isfinite(test)
        fig, ax = plt.subplots(figsize=(4.2, 3.4))
        if ok.sum() > 3000:
            hb = ax.hexbin(values[ok], test[ok], gridsize=60, bins="log", cmap="viridis", mincnt=1)
            fig.colorbar(hb, ax=ax, label="cells (log)")
        else:
            sns.scatterplot(x=values[ok], y=test[ok], s=8, alpha=0.6, linewidth=0, ax=ax)
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
    from spaces import get_space
    from spaces.base import ProxyIndex, require
    from strategies.proxies import get_proxy
    from strategies.proxies.cache import load_cache, sample_indices, score_cells
    from strategies.proxies.scoring import ScoringSetup

    index = require(get_space(args.space), ProxyIndex)
    datasets = args.datasets.split(",")
    accuracy: Accuracy = {}
    for dataset in datasets:
        for split in ("valid", "test"):
            found = index.accuracies(dataset, split, args.data_dir)
            if found is None:
                raise ValueError(f"space {args.space!r} has no complete table of accuracies to rank proxies against; "
                                 "`proxies correlate` needs one (its ProxyIndex.accuracies)")
            accuracy[(dataset, split)] = np.asarray(found, dtype=float)
    sample = sample_indices(args.sample, index, args.sample_seed)
    collected: Scores = {}
    for dataset in datasets:
        for proxy in args.proxies.split(","):
            spec = get_proxy(proxy)
            lex = np.arange(index.size) if not spec.needs_data else sample
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
    frame = correlation_table(collected, accuracy, index.published_spearman)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "correlation.csv", index=False)
    text = to_markdown(frame, index.size) + "\n" + expectation_markdown(args.space, collected, accuracy, index.size)
    (out / "correlation.md").write_text(text, encoding="utf-8")
    figures = plot(collected, accuracy, out / "figures")
    print(text)
    print(f"wrote {out / 'correlation.md'}, {out / 'correlation.csv'} and {len(figures)} figures in {out / 'figures'}")
    return 0
