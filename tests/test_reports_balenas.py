"""Reports of BaLeNAS runs: every BaLeNAS-TF selection is its own row beside its published row."""
from __future__ import annotations


from harness.records import write_record
from reports.load import load_runs
from reports.tables import summary_rows, to_markdown
from reports.trajectories import epoch_means, to_markdown as epochs_markdown


def evaluated(arch: str, acc: float) -> dict:
    one = {"arch": arch, "arch_index": 0, "valid_acc": acc, "test_acc": acc + 1, "params_M": 1.0, "flops_M": 1.0}
    return {**one, "transfer": {"cifar100": {**one, "valid_acc": acc - 20, "test_acc": acc - 19}}}


def record(seed: int, hyperparameters: dict, strategy: str = "balenas_v2", label: str = "balenas_v2") -> dict:
    keys = ["synflow@10", "synflow@100", "snip@10"]
    final = evaluated("a", 90.0 + seed)
    final["selections"] = {"argmax_mu": evaluated("a", 90.0 + seed),
                           **{k: evaluated(k, 91.0 + i + seed) for i, k in enumerate(keys)}}
    trajectory = [{"epoch": e, "skip_connections": e + seed, "sigma_mean": 0.9, **({"hessian_eigenvalue": 0.5 * e} if e == 2 else {})}
                  for e in (1, 2)]
    return {"experiment": "x", "run_id": f"{label}__cifar10__seed{seed}", "strategy": strategy, "label": label,
            "hyperparameters": hyperparameters, "space": "nb201", "dataset": "cifar10", "seed": seed, "epochs": 200,
            "budget": {}, "status": "done", "error": None, "final": final, "search": {"n_queries": 0},
            "trajectory": trajectory, "timing": {}, "provenance": {}}


def test_each_selection_is_a_row_with_its_paper_row(tmp_path):
    for seed in (0, 1):
        write_record(tmp_path, record(seed, {"samples": 3, "select": "argmax_mu"}))
    runs = load_runs(tmp_path)
    labels = set(runs["label"])
    assert labels == {"balenas_v2", "balenas_v2 TF(synflow, K=10)", "balenas_v2 TF(synflow, K=100)",
                      "balenas_v2 TF(snip, K=10)"}
    tf100 = runs[(runs["label"] == "balenas_v2 TF(synflow, K=100)") & (runs["dataset"] == "cifar10")]
    assert sorted(tf100["test_acc"]) == [93.0, 94.0]
    datasets, rows = summary_rows(runs, None, "nb201")
    names = [r.name for r in rows]
    assert "BaLeNAS (2nd) (Table 1), paper" in names and "BaLeNAS-TF (Table 1), paper" in names
    assert "BaLeNAS with SNIP, K = 10 (Table 4), paper" in names
    assert "BaLeNAS with SynFlow, K = 10 (Table 4), paper" in names
    text = to_markdown(datasets, rows, "t", "Accuracy (%) of the final cell at 200 epochs")
    assert "94.33 ± 0.03" in text and "93.50 ± 0.50" in text  # paper BaLeNAS-TF beside the measured mean ± std


def test_table5_rows_and_per_epoch_diagnostics(tmp_path):
    write_record(tmp_path, record(0, {"samples": 1, "select": "argmax_mu"}, label="balenas_v2_m1"))
    datasets, rows = summary_rows(load_runs(tmp_path), None, "nb201")
    assert "BaLeNAS (2nd), M = 1 (Table 5), paper" in [r.name for r in rows]
    means = epoch_means([record(0, {}), record(1, {})])
    assert means["balenas_v2"]["skip_connections"] == {1: 1.5, 2: 2.5}
    assert means["balenas_v2"]["hessian_eigenvalue"] == {2: 1.0}
    negative = record(0, {})
    negative["trajectory"][1]["hessian_eigenvalue"] = -3.0
    assert epoch_means([negative, record(1, {})])["balenas_v2"]["hessian_eigenvalue"] == {2: 2.0}  # magnitudes
    table = epochs_markdown(means, "t")
    assert "| 1 | 1.50 | – | 0.900 |" in table and "balenas_v2 |λ_dom|" in table


def test_distinct_cell_counts_per_k():
    from reports.trajectories import distinct_cells

    records = [{**record(s, {}), "selection": {"distinct": {"10": 3 + s, "100": 20 + s}}} for s in (0, 1)]
    text = distinct_cells(records)
    assert "| balenas_v2 | 10 | 3.5 (3–4) |" in text and "| balenas_v2 | 100 | 20.5 (20–21) |" in text


def test_drnas_row_and_bayesnas_sparsity(tmp_path):
    from reports.trajectories import switch_sparsity

    drnas = record(0, {}, strategy="drnas", label="drnas")
    drnas["final"].pop("selections")
    write_record(tmp_path, drnas)
    datasets, rows = summary_rows(load_runs(tmp_path), None, "nb201")
    assert "DrNAS (Table 1), paper" in [r.name for r in rows]
    assert "94.36" in to_markdown(datasets, rows, "t", "Accuracy (%) of the final cell at 200 epochs")
    bayes = record(0, {}, strategy="bayesnas", label="bayesnas")
    bayes["trajectory"][-1].update(
        genotype="|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
        gamma_parent=[1.0, 0.0, 2.0, 3.0, 0.0, 1.5], gamma_child=[[9.0, 0.5, 1.0, 2.0, 0.25]] * 6,
        child_norm=[[0.0, 0.7, 0.8, 0.9, 0.6]] * 6, pruned_edges=2, pruned_child_groups=8)
    table = switch_sparsity([bayes, drnas])
    assert "| bayesnas | 0 |" in table and "| 0–3 | 0.25–2 | 2/6 | 8/24 | 0.600–0.900 |" in table
    assert table.count("| bayesnas |") == 1  # the DrNAS run has no switches


def test_published_figures_are_data_with_one_line_per_cell():
    import csv

    from reports.published import PUBLISHED_CSV, published_figures, published_methods

    with open(PUBLISHED_CSV, newline="") as fh:
        lines = list(csv.DictReader(fh))
    keys = [(l["table"], l["method"], l["dataset"], l["split"]) for l in lines]
    assert len(keys) == len(set(keys)) and {l["table"] for l in lines} == {"table1", "table2", "table3", "table4", "table5"}
    assert all(0 < float(l["mean"]) < 100 for l in lines)
    assert published_figures("table1", "DrNAS")[("cifar10", "test")] == (94.36, 0.0)
    assert published_figures("table5", "M=4")[("ImageNet16-120", "valid")] == (43.09, 2.93)
    # Table 3 as published: test error (%), params (M), GPU-days; 8 methods the harness runs or names
    assert published_figures("table3", "BaLeNAS-TF") == {("cifar10", "test_error"): (2.43, 0.08),
                                                          ("params", "M"): (3.86, None), ("cost", "gpu_days"): (0.6, None)}
    assert len(published_methods("table3")) == 8
    assert all(len(published_figures("table3", m)) == 3 for m in published_methods("table3"))
