"""The paper's tables and figures from run records: builders on small synthetic records (missing
cells, mixed scales, published columns), byte-identical output, the CLI, and the compiled PDF."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.records import write_record
from reports.paper import accuracy_table, build, load_results, to_latex, to_markdown
from reports.paper_spec import load_spec
from reports.paper_report import write

ROOT = Path(__file__).resolve().parent.parent


def _record(experiment: str, strategy: str, seed: int, test: dict[str, float], hyper: dict | None = None,
            selections: dict[str, dict[str, float]] | None = None, trajectory: list | None = None) -> dict:
    datasets = list(test)

    def evaluation(values: dict[str, float]) -> dict:
        first, *rest = list(values)
        out = {"arch": "x", "arch_index": 0, "valid_acc": values[first] - 1, "test_acc": values[first],
               "params_M": 1.0, "flops_M": 1.0}
        out["transfer"] = {d: {"arch": "x", "arch_index": 0, "valid_acc": values[d] - 1, "test_acc": values[d],
                               "params_M": 1.0, "flops_M": 1.0} for d in rest}
        return out

    final = evaluation(test)
    if selections:
        final["selections"] = {key: evaluation(values) for key, values in selections.items()}
    return {"experiment": experiment, "run_id": f"{strategy}-{seed}-{experiment}", "strategy": strategy,
            "label": strategy, "hyperparameters": hyper or {}, "space": "nb201", "dataset": datasets[0], "seed": seed,
            "epochs": 200, "budget": {}, "status": "done", "error": None, "final": final,
            "search": {"n_queries": 1, "simulated_time_s": 1.0}, "trajectory": trajectory or [],
            "provenance": {"code_version": "abc123", "scale": "cpu" if experiment.endswith("_cpu") else "paper",
                           "strategy_kind": "tabular" if strategy == "zero_cost" else "one-shot",
                           "benchmark_kind": "tabular"},
            "timing": {"search_wall_time_s": 1.0}}


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    three = {"cifar10": 90.0, "cifar100": 70.0, "ImageNet16-120": 40.0}
    for seed in (0, 1):
        # seed 1 stands for a record from before the probe recorded the largest eigenvalue
        traj = [{"epoch": e, "skip_connections": e % 3, "hessian_eigenvalue": 0.1 * e, "table_valid_acc": 80.0 + e,
                 "table_test_acc": 82.0 + e, **({"hessian_max_eigenvalue": 0.05 * e} if seed == 0 else {})}
                for e in (1, 2, 3)]
        write_record(root / "oneshot_cpu", _record("oneshot_cpu", "darts_v1", seed,
                                                   {k: v + seed for k, v in three.items()}, trajectory=traj))
        # BaLeNAS (2nd) evaluated on CIFAR-10 only: its CIFAR-100 / ImageNet cells are missing
        write_record(root / "oneshot_cpu", _record(
            "oneshot_cpu", "balenas_v2", seed, {"cifar10": 93.0 + seed}, {"samples": 3},
            selections={"synflow@100": {"cifar10": 94.0}, "snip@10": {"cifar10": 92.5}}, trajectory=traj))
        for dataset, value in three.items():
            write_record(root / "zc", {**_record("zc", "zero_cost", seed, {dataset: value}, {"proxy": "synflow", "k": 10}),
                                       "run_id": f"zc-{dataset}-{seed}"})
    return root


def _population() -> dict:
    rng = np.random.default_rng(0)
    return {d: (rng.uniform(10, 90, 50), rng.uniform(10, 90, 50)) for d in ("cifar10", "cifar100", "ImageNet16-120")}


def _table1(results: Path, population: dict | None):
    nb201 = load_results(results)
    return accuracy_table(load_spec().tables["table1"], nb201[nb201["space"] == "nb201"], population)


def test_table1_rows_scales_missing_cells_and_published_pairs(results):
    table = _table1(results, _population())
    rows = {row.name: row for row in table.rows}
    darts = rows["DARTS (1st)"]
    assert darts.scale == "cpu" and darts.seeds == 2 and darts.experiments == ("oneshot_cpu",)
    assert darts.measured[("cifar10", "test")] == pytest.approx((90.5, 0.5))  # mean ± population std of 90, 91
    assert darts.published[("cifar10", "test")] == (54.3, 0.0)
    balenas = rows["BaLeNAS (2nd)"]
    assert ("cifar100", "test") not in balenas.measured  # missing, not 0
    assert "GDAS" in rows and not rows["GDAS"].measured and rows["GDAS"].published  # published only
    assert rows["Random baseline (all cells of the table)"].scale == "table"
    optimal = rows["Optimal (best cell of the table)"]
    assert optimal.measured[("cifar10", "valid")][0] == pytest.approx(float(_population()["cifar10"][0].max()))
    markdown = to_markdown(table)
    assert "| DARTS (1st) " in markdown and "+36.20" in markdown  # Δ = 90.50 − 54.30
    assert "never counted as 0" in markdown and "ddof = 0" in markdown and "abc123" in markdown
    latex = to_latex(table)
    assert r"\toprule" in latex and r"$\pm$" in latex and "oneshot\\_cpu" in latex and latex.count(r"\begin{tabular}") == 3


def test_table1_shows_every_evaluated_cell_of_a_bayesnas_search_and_the_zero_cost_row(results):
    """BayesNAS is a one-shot search: its transfers to CIFAR-100 / ImageNet16-120 are its cells too."""
    three = {"cifar10": 80.0, "cifar100": 50.0, "ImageNet16-120": 20.0}
    write_record(results / "oneshot_cpu", _record("oneshot_cpu", "bayesnas", 0, three))
    rows = {row.name: row for row in _table1(results, None).rows}
    assert rows["BayesNAS"].measured[("cifar100", "test")] == (50.0, 0.0)
    assert rows["BayesNAS"].measured[("ImageNet16-120", "valid")] == (19.0, 0.0)
    zero = rows["Zero-cost NAS"]  # the runs here are K = 10: the row shows the paper's figures only
    assert not zero.measured and zero.published[("cifar10", "valid")] == (90.19, 0.66)


def test_table2_and_table4_use_the_selections_and_mixed_scales(results):
    t2, t4 = build(["table2", "table4"], results, None)
    rows2 = {row.name: row for row in t2.rows}
    assert rows2["Zero-cost NAS(10)"].scale == "table" and rows2["BaLeNAS-TF(100)"].scale == "cpu"
    assert rows2["BaLeNAS-TF(100)"].measured[("cifar10", "test")] == (94.0, 0.0)
    assert not rows2["Zero-cost NAS(50)"].measured and rows2["Zero-cost NAS(50)"].published
    caption = t2.caption(True)
    assert "scales cpu, table" in caption and "seeds 0, 1" in caption
    rows4 = {row.name: row for row in t4.rows}
    assert rows4["SNIP, K = 10"].measured[("cifar10", "test")] == (92.5, 0.0)
    assert "–" in to_markdown(t4, with_published=False)


def test_same_records_give_byte_identical_markdown_and_latex(results, tmp_path):
    first = write(["table1", "table2", "table4", "table5"], results, tmp_path / "a", {"md", "tex"})
    second = write(["table1", "table2", "table4", "table5"], results, tmp_path / "b", {"md", "tex"})
    assert [p.name for p in first] == [p.name for p in second] and len(first) == 8
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_table1_without_a_benchmark_table_says_so(results):
    table = _table1(results, None)
    assert not any(row.name.startswith("Random baseline") for row in table.rows)
    assert any("benchmark table" in note for note in table.notes)


def test_no_records_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no finished run records"):
        build(["table2"], tmp_path / "empty", None)
    with pytest.raises(FileNotFoundError, match="no results folder"):
        build(["table2"], tmp_path / "missing", None)


def test_figures_are_written_as_png_and_pdf(results, tmp_path):
    written = write(["figures"], results, tmp_path / "figs")
    names = {p.name for p in written}
    assert {"skip_connections.png", "skip_connections.pdf", "hessian.png", "hessian_norm.pdf",
            "cell_error.pdf"} <= names
    assert all(p.stat().st_size > 1000 for p in written)


def test_the_largest_eigenvalue_curve_keeps_only_records_that_have_it(results):
    """A mean over seeds never mixes the largest eigenvalue with an older record's largest-magnitude one."""
    from reports.figures import _having, _one_shot_records

    groups = _one_shot_records([results / "oneshot_cpu"], "nb201")
    kept = _having(groups, "hessian_max_eigenvalue")
    assert {label: [r["seed"] for r in recs] for label, recs in kept.items()} == \
        {label: [0] for label in groups}
    assert _having(groups, "no_such_field") == {}


def test_cli_writes_tables_and_refuses_unknown_targets(results, tmp_path, capsys):
    from harness.cli import main

    assert main(["report", "table2", "table5", "--results-dir", str(results), "--out-dir", str(tmp_path / "o"),
                 "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "Table 2" in out and (tmp_path / "o" / "table5.md").is_file() and not (tmp_path / "o" / "table5.tex").exists()
    assert main(["report", "table2", "--results-dir", str(results), "--format", "docx"]) != 0
    assert "--format takes md and/or tex" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in ("pdflatex", "pdftoppm", "pdftotext")),
                    reason="needs pdflatex and poppler-utils (CI installs them: texlive-latex-*, poppler-utils)")
def test_committed_records_compile_to_a_pdf_with_every_caption(tmp_path):
    """The report of the committed records compiles; the PDF renders and its text holds every caption."""
    written = write(["paper"], ROOT / "results", tmp_path / "paper", pdf=True)
    pdf = tmp_path / "paper" / "report.pdf"
    assert pdf in written and pdf.stat().st_size > 10_000
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert any(p.stat().st_size > 1000 for p in tmp_path.glob("page*.png"))
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    for caption in ("NAS-Bench-201, search on CIFAR-10", "zero-cost NAS against BaLeNAS-TF",
                    "BaLeNAS-TF with each training-free proxy", "BaLeNAS (2nd) with M Monte-Carlo samples",
                    "Skip connections in the derived cell", "Spectral norm (largest eigenvalue magnitude)", "Proxy score against"):
        assert caption in text, caption


def test_the_norm_curve_averages_magnitudes():
    """The spectral norm is |largest-magnitude eigenvalue|: seeds at -3 and +1 average to 2, not -1."""
    from reports.figures import _per_epoch

    records = [{"trajectory": [{"epoch": 5, "hessian_eigenvalue": v}]} for v in (-3.0, 1.0)]
    assert _per_epoch(records, "hessian_eigenvalue", absolute=True)[1].tolist() == [2.0]
    assert _per_epoch(records, "hessian_eigenvalue")[1].tolist() == [-1.0]
