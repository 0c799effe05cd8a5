"""The command line: list, run, report (Markdown and LaTeX), data, and clear errors."""
from __future__ import annotations

import pytest

from harness.cli import main

from conftest import write_config


def test_list_shows_strategies_spaces_datasets_and_data(capsys, synthetic_data_dir):
    assert main(["list", "--data-dir", str(synthetic_data_dir)]) == 0
    out = capsys.readouterr().out
    for word in ("random_pick", "random_search", "rea", "population_size=10", "nb201", "ImageNet16-120", "nb201 source CSVs"):
        assert word in out


def test_run_then_report_markdown_and_latex(tmp_path, capsys, synthetic_data_dir):
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="cli", strategies=[{"name": "random_pick"}, {"name": "rea"}])
    results = str(tmp_path / "results")
    assert main(["run", str(config), "--results-dir", results, "--no-progress"]) == 0
    assert "4 runs, 0 already done, 4 finished now, 0 failed" in capsys.readouterr().out
    assert main(["report", "cli", "--results-dir", results, "--data-dir", str(synthetic_data_dir)]) == 0
    out = capsys.readouterr().out
    assert "| random_pick |" in out and "*Random baseline (Table 1), paper*" in out and "*optimal (table)*" in out
    assert "83.20 ± 13.28" in out  # the published row is printed beside the measured one
    tex = tmp_path / "t.tex"
    assert main(["report", "cli", "--results-dir", results, "--format", "latex", "--out", str(tex)]) == 0
    text = tex.read_text()
    assert r"\begin{tabular}" in text and r"$\pm$" in text and r"random\_pick" in text


def test_user_mistakes_exit_2_with_one_clear_line(tmp_path, capsys, synthetic_data_dir):
    bad = write_config(tmp_path / "bad.toml", synthetic_data_dir, strategies=[{"name": "evolution"}])
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid config") and "registered strategies" in err and "Traceback" not in err
    assert main(["report", "nothing-here", "--results-dir", str(tmp_path)]) == 2
    assert "no run records" in capsys.readouterr().err
    (tmp_path / "nothing-here_cpu").mkdir()
    assert main(["report", "nothing-here", "--results-dir", str(tmp_path)]) == 2
    assert "did you mean nothing-here_cpu" in capsys.readouterr().err
    assert main(["data", "import", "--data-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_failed_runs_make_run_exit_1_and_are_listed(tmp_path, capsys, synthetic_data_dir):
    from conftest import ASSETS

    config = write_config(tmp_path / "f.toml", synthetic_data_dir, plugins=[str(ASSETS / "plugins" / "misbehaving.py")],
                          datasets=["cifar100"], seeds=[0], strategies=[{"name": "test_failing"}])
    assert main(["run", str(config), "--results-dir", str(tmp_path / "r"), "--no-progress"]) == 1
    assert "boom on purpose" in capsys.readouterr().err


def test_data_import_and_info(capsys, synthetic_data_dir):
    assert main(["data", "import", "--data-dir", str(synthetic_data_dir)]) == 0
    assert "imported NB201 table" in capsys.readouterr().out
    assert main(["data", "info", "--data-dir", str(synthetic_data_dir)]) == 0
    assert "found" in capsys.readouterr().out


@pytest.mark.slow
def test_bench_table_prints_ratios_against_the_reference(capsys, real_data_dir):
    assert main(["bench", "table", "--data-dir", str(real_data_dir)]) == 0
    out = capsys.readouterr().out
    for line in ("load time (s)", "peak resident memory (MB)", "single query (us)", "all 15,625 cells, vectorised", "ratio"):
        assert line in out


@pytest.mark.slow
def test_latex_table_compiles(tmp_path, synthetic_data_dir):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed (apt install texlive-latex-base texlive-latex-recommended; .ci/run does)")
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="tex", datasets=["cifar10", "ImageNet16-120"])
    results = str(tmp_path / "results")
    assert main(["run", str(config), "--results-dir", results, "--no-progress"]) == 0
    assert main(["report", "tex", "--results-dir", results, "--format", "latex", "--out", str(tmp_path / "table.tex")]) == 0
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[utf8]{inputenc}\n"
        "\\begin{document}\n\\input{table.tex}\n\\end{document}\n"
    )
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_proxies_list_and_score(tmp_path, capsys):
    assert main(["proxies", "list"]) == 0
    out = capsys.readouterr().out
    assert "synflow" in out and "data-free" in out and "nwot" in out
    args = ["proxies", "score", "--proxy", "synflow", "--dataset", "ImageNet16-120", "--sample", "3", "--n-jobs", "1",
            "--scores-dir", str(tmp_path)]
    assert main(args) == 0
    assert "cells scored with synflow on ImageNet16-120" in capsys.readouterr().out
    assert list((tmp_path / "nb201").glob("synflow__ImageNet16-120__3x16x16__i0__v1.npz"))
    assert main(["proxies", "score", "--proxy", "zen", "--all"]) == 2


def test_proxies_correlate_writes_tables_and_figures(tmp_path, capsys, synthetic_data_dir):
    import numpy as np

    from conftest import synthetic_accuracy
    from spaces.nb201.codec import Arch
    from spaces.nb201.capabilities import NB201ProxyIndex as Index
    from strategies.proxies.cache import save_scores
    from strategies.proxies.scoring import ScoringSetup

    ops = np.array([Arch.from_lex_index(i).ops for i in range(15625)])
    noisy = synthetic_accuracy(ops) + np.random.default_rng(0).normal(0, 2, 15625)
    save_scores(ScoringSetup("synflow", "cifar10"), Index(), 10.0 ** (noisy / 10), {}, tmp_path)
    out_dir = tmp_path / "corr"
    assert main(["proxies", "correlate", "--proxies", "synflow", "--datasets", "cifar10", "--no-compute",
                 "--scores-dir", str(tmp_path), "--out-dir", str(out_dir), "--data-dir", str(synthetic_data_dir)]) == 0
    text = (out_dir / "correlation.md").read_text()
    assert "| synflow | cifar10 | test | 15625 |" in text and "0.74" in text and "K=10 expected" in text
    assert (out_dir / "figures" / "synflow__cifar10.png").stat().st_size > 5000
    assert (out_dir / "figures" / "synflow__cifar10.pdf").is_file()


@pytest.mark.slow
def test_bench_synflow_prints_the_ratio(capsys):
    assert main(["bench", "synflow", "--cells", "4"]) == 0
    out = capsys.readouterr().out
    assert "ratio fast / reference" in out and "max relative difference" in out


@pytest.mark.slow
def test_bench_supernet_prints_time_memory_and_ratio(capsys):
    import importlib.util

    assert main(["bench", "supernet", "--steps", "1", "--threads", "1", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "speed-up" in out and "peak" in out and "s/step" in out
    if importlib.util.find_spec("xautodl"):  # the profiled convolution floor is printed against xautodl's step
        assert "convolutions alone" in out and "of xautodl's step" in out


@pytest.mark.slow
def test_bench_darts_prints_plain_fast_and_grouped_with_their_ratios(capsys):
    assert main(["bench", "darts", "--preset", "cpu", "--steps", "1", "--threads", "1", "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "C=8, 5 cells, batch 32, 8x8" in out and out.count("s/step") == 3
    assert "speed-up vs plain: fast" in out and "grouped" in out


@pytest.mark.slow
def test_bench_balenas_prints_time_memory_and_the_bound(capsys):
    assert main(["bench", "balenas", "--steps", "1", "--threads", "1", "--rounds", "1", "--channels", "4",
                 "--cells-per-stage", "1", "--image-size", "8"]) == 0
    out = capsys.readouterr().out
    assert out.count("balenas_v1") == 4 and "bound DARTS + 3 x pass" in out and "x DARTS" in out


def test_an_unwritable_results_folder_is_refused_before_any_run(tmp_path, capsys, synthetic_data_dir):
    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="w", strategies=[{"name": "rea"}])
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a results root that cannot hold folders (chmod does not stop root)
    assert main(["run", str(config), "--results-dir", str(blocker), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: results folder") and "not writable" in err and "--results-dir" in err
    assert "Traceback" not in err and "finished now" not in capsys.readouterr().out


def test_a_failed_record_write_stops_in_one_line_and_leaves_nothing_half_written(tmp_path, capsys, synthetic_data_dir,
                                                                                  monkeypatch):
    import errno
    import json

    import nas_core.records as records

    config = write_config(tmp_path / "c.toml", synthetic_data_dir, name="full", strategies=[{"name": "rea"}], seeds=[0, 1, 2])
    real_dump, calls = json.dump, []

    def dump_until_the_disk_is_full(obj, fh, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            fh.write('{"half": ')  # a torn write, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_dump(obj, fh, **kwargs)

    monkeypatch.setattr(records.json, "dump", dump_until_the_disk_is_full)
    results = tmp_path / "results"
    assert main(["run", str(config), "--results-dir", str(results), "--no-progress", "--n-jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "2 records written before it are complete" in err
    assert "Traceback" not in err
    folder = results / "full"
    assert sorted(p.name for p in folder.iterdir() if p.name not in ("checkpoints", ".lock")) == sorted(
        p.name for p in folder.glob("*.json"))  # no temporary file remains
    assert all(json.loads(p.read_text())["status"] == "done" for p in folder.glob("*.json"))
    assert len(list(folder.glob("*.json"))) == 2
