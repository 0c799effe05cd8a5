"""``nas-harness bench``: spaces contribute their own benchmarks, the harness's are generic over the space.

The timed benchmarks themselves are exercised in tests/test_cli.py (slow); here, the seam: which
space contributes which command, clashes refused, the GPU step's pieces on every space (on the
CPU the graphed path runs eagerly, so the equality check and the step run anywhere), and the
errors a wrong ``--space`` or a missing capability gets.
"""
from __future__ import annotations

import argparse

import pytest
import torch

from harness import bench_commands
from harness.bench_cuda import StepShape, darts_step, equality_check
from harness.cli import main
from spaces import get_space
from spaces.base import AuthorsSupernet
from spaces.bench import BenchCommand


def test_each_space_contributes_the_benchmarks_of_its_own_components():
    owners = {name: space for name, (space, _) in bench_commands.space_commands().items()}
    assert owners == {"table": "nb201", "supernet": "nb201", "darts": "darts", "nb301": "darts"}
    assert not set(owners) & set(bench_commands.GENERIC)


@pytest.mark.parametrize("clash", ["table", "cuda"])
def test_a_space_command_named_like_another_is_refused_naming_both(monkeypatch, clash):
    space_type = type(get_space("nb1shot1-1"))
    command = BenchCommand(clash, "a clash", lambda parser: None, lambda args: "")
    monkeypatch.setattr(space_type, "bench_commands", lambda self: (command,))
    with pytest.raises(ValueError) as info:
        bench_commands.space_commands()
    message = str(info.value)
    assert f"`bench {clash}`" in message and "nb1shot1-1" in message
    assert ("'nb201'" in message) if clash == "table" else ("the harness uses itself" in message)


def test_a_space_command_gets_its_options_and_the_data_dir_when_it_reads_data(monkeypatch, capsys, tmp_path):
    seen: dict[str, argparse.Namespace] = {}

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--n", type=int, default=3)

    def run(args: argparse.Namespace) -> str:
        seen["args"] = args
        return f"measured {args.n}"

    command = BenchCommand("probe", "a test command", arguments, run, data_dir=True)
    monkeypatch.setattr(type(get_space("nb1shot1-2")), "bench_commands", lambda self: (command,))
    assert main(["bench", "probe", "--n", "7", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "measured 7"
    assert seen["args"].data_dir == str(tmp_path)


@pytest.mark.parametrize("space_name", ["nb201", "darts"])
def test_the_gpu_step_and_its_equality_check_are_generic_over_the_space(space_name):
    """On the CPU the graphed supernet runs eagerly, so graphed equals fast eager exactly; the
    check compares only the weight gradients every implementation computes (NB201's fast cells
    drop the conv biases BN cancels) and says the graphed path is within 5x plain's error."""
    space = get_space(space_name)
    shape = StepShape.of(space, "smoke")
    lines = equality_check(torch.device("cpu"), space, shape, trials=1)
    assert lines[-1].endswith("yes")
    graphed_vs_fast = next(line for line in lines if "graphed vs fast eager" in line)
    assert graphed_vs_fast.split()[4:] == ["logits", "0.0e+00", "weight", "grads", "0.0e+00", "alpha", "grad",
                                           "0.0e+00"]
    for variant in ("plain", "fast+graphs+cl"):
        step, new_batches = darts_step(variant, torch.device("cpu"), space, shape)
        step()
        new_batches()
        step()


def test_the_step_shape_is_the_space_s_paper_preset():
    assert StepShape.of(get_space("nb201")) == StepShape(16, 5, 32, 64, 5e-4)
    assert StepShape.of(get_space("darts")) == StepShape(16, 2, 32, 64, 3e-4)


def test_the_authors_supernet_is_a_capability_with_its_install_line():
    authors = get_space("nb201").capability(AuthorsSupernet)
    assert authors is not None and authors.package == "xautodl" and "pip install" in authors.install
    assert get_space("darts").capability(AuthorsSupernet) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message a machine without a GPU gets")
def test_bench_cuda_without_a_gpu_says_so():
    with pytest.raises(SystemExit) as info:
        main(["bench", "cuda", "--space", "darts"])
    assert "needs a CUDA GPU" in str(info.value)


@pytest.mark.parametrize("argv, expected", [
    (["bench", "synflow", "--space", "darts"], "does not provide ProxyIndex"),
    (["bench", "synflow", "--space", "nope"], "--space 'nope' is not a registered space"),
    (["bench", "synflow", "--dataset", "mnist"], "--dataset 'mnist' is not a dataset of the nb201 space"),
    (["bench", "concurrency", "--searches", "1,x"], "--searches must be comma-separated integers"),
])
def test_a_wrong_benchmark_option_is_one_line_and_exit_2(capsys, argv, expected):
    assert main(argv) == 2
    assert expected in capsys.readouterr().err
