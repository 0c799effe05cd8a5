"""The DARTS cell space (genotype value, DARTS text form, sampling, mutation, derivation) and the
NAS-Bench-301 YAHPO v2 surrogate (encoding, the documented predictions, bad files)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from spaces.darts.genotype import DARTS_V2, EDGES, GENOTYPE_OPS, OPS, Genotype, derive, mutate, sample, uniform

# The DARTS repository prints a searched genotype like this (concat as range objects)
REPO_TEXT = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
             "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
             "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
             "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
             "('max_pool_3x3', 1)], reduce_concat=range(2, 6))")


def test_text_form_round_trips_and_reads_the_repositorys_output():
    assert Genotype.from_str(REPO_TEXT) == DARTS_V2
    text = DARTS_V2.to_str()
    assert "normal_concat=[2, 3, 4, 5]" in text and Genotype.from_str(text) == DARTS_V2
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = sample(rng)
        assert Genotype.from_str(g.to_str()) == g


@pytest.mark.parametrize("text,message", [
    ("Genotype(normal=[('sep_conv_3x3', 0)], reduce=[])", "needs 8"),
    (REPO_TEXT.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "not an earlier node"),
    (REPO_TEXT.replace("('sep_conv_3x3', 1), ('skip_connect', 0)", "('sep_conv_3x3', 0), ('skip_connect', 0)"),
     "must be distinct"),
    (REPO_TEXT.replace("dil_conv_3x3", "conv_7x7"), "unknown op"),
    (REPO_TEXT.replace("('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
                       "('none', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0)", 1), "unknown op"),
    (REPO_TEXT.replace("normal_concat=range(2, 6)", "normal_concat=[2, 3]"), "normal_concat"),
    ("Genotype(normal=__import__('os').getcwd(), reduce=[])", "lacks"),
    ("Arch(|skip_connect~0|)", "not a DARTS genotype"),
])
def test_bad_genotypes_are_clear_errors(text, message):
    with pytest.raises(ValueError, match=message):
        Genotype.from_str(text)


def test_sampling_and_mutation_give_valid_distinct_genotypes():
    rng = np.random.default_rng(1)
    seen = set()
    for _ in range(200):
        g = sample(rng)
        seen.add(g)
        for kind in ("normal", "reduce"):
            assert all(a != b and b < 2 + k for k, (a, b) in enumerate(g.node_inputs(kind)))
        m = mutate(g, rng)
        assert m != g
        changed = sum(x != y for x, y in zip(g.normal + g.reduce, m.normal + m.reduce))
        assert changed == 1
    assert len(seen) == 200
    ops = [op for g in seen for op, _ in g.normal]
    assert set(ops) == set(GENOTYPE_OPS)  # every op, never none


def test_derivation_keeps_the_two_strongest_edges_by_their_best_non_none_op():
    weights = np.full((len(EDGES), len(OPS)), 0.1)
    weights[:, 0] = 10.0  # none is the largest everywhere: it must never be picked or counted
    # node 2 <- edges 0, 1; node 3 <- 2, 3, 4; node 4 <- 5..8; node 5 <- 9..13
    weights[0, OPS.index("sep_conv_3x3")] = 0.9
    weights[1, OPS.index("skip_connect")] = 0.5
    weights[4, OPS.index("dil_conv_5x5")] = 0.8  # node 3 from node 2
    weights[2, OPS.index("avg_pool_3x3")] = 0.7  # node 3 from node 0
    weights[3, OPS.index("max_pool_3x3")] = 0.2
    weights[8, OPS.index("sep_conv_5x5")] = 0.6  # node 4 from node 3
    weights[6, OPS.index("skip_connect")] = 0.3  # node 4 from node 1
    weights[13, OPS.index("dil_conv_3x3")] = 0.9  # node 5 from node 4
    weights[9, OPS.index("sep_conv_3x3")] = 0.4  # node 5 from node 0
    g = derive(weights, weights)
    assert g.normal == (("sep_conv_3x3", 0), ("skip_connect", 1), ("avg_pool_3x3", 0), ("dil_conv_5x5", 2),
                        ("skip_connect", 1), ("sep_conv_5x5", 3), ("sep_conv_3x3", 0), ("dil_conv_3x3", 4))
    with pytest.raises(ValueError, match="shape"):
        derive(weights[:5], weights)


# ---- NAS-Bench-301 surrogate --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def nb301_dir() -> Path:
    from conftest import shared_data_with

    return shared_data_with("nb301_yahpo/model_v2.onnx", "the NB301 YAHPO surrogate")


@pytest.fixture(scope="module")
def surrogate(nb301_dir):
    pytest.importorskip("onnxruntime")
    from spaces.darts.nb301 import NB301Surrogate

    return NB301Surrogate(nb301_dir)


def test_surrogate_gives_the_documented_predictions(surrogate):
    p = surrogate.predict([DARTS_V2, uniform("skip_connect"), uniform("max_pool_3x3")])
    assert p.valid_acc[0] == pytest.approx(92.91, abs=0.01)
    assert p.valid_acc[1] == pytest.approx(89.92, abs=0.05)
    assert p.valid_acc[2] == pytest.approx(88.07, abs=0.05)
    assert np.all(p.runtime_s > 0) and np.all(np.isfinite(p.valid_ce))
    # the fidelity matters, and a batch equals single predictions
    assert surrogate.predict([DARTS_V2], epoch=10).valid_acc[0] < p.valid_acc[0]
    rng = np.random.default_rng(3)
    batch = [sample(rng) for _ in range(20)]
    together = surrogate.predict(batch).valid_acc
    alone = np.array([surrogate.predict([g]).valid_acc[0] for g in batch])
    np.testing.assert_allclose(together, alone, rtol=1e-5)
    with pytest.raises(ValueError, match="epoch"):
        surrogate.predict([DARTS_V2], epoch=99)


def test_encoding_matches_the_configuration_space_of_the_same_release(surrogate, nb301_dir):
    """Every column and level we encode exists in YAHPO's ConfigSpace file for the v2 model."""
    from spaces.darts.nb301 import COLUMNS, PREFIX

    space = json.loads((nb301_dir / "nb301_yahpo" / "config_space_v2.json").read_text())
    choices = {hp["name"].replace(":", "_COLON_"): set(hp.get("choices", [])) for hp in space["hyperparameters"]}
    for column, codes in zip(COLUMNS, surrogate.codes):
        name = PREFIX + column
        assert name in choices, name
        assert set(codes) - {"#na#"} == choices[name], name
    row = surrogate.encode([DARTS_V2])[0]
    # node 2's edges from inputs 0 and 1 are edges 0 and 1; node 5 (START 9) takes inputs 0 and 2
    assert row[0] == surrogate.codes[0]["sep_conv_3x3"] and row[11] == surrogate.codes[11]["dil_conv_3x3"]
    assert row[9] == surrogate.codes[9]["skip_connect"] and row[10] == 0 and row[12] == 0  # 5<-1, 5<-3 inactive
    assert row[28] == surrogate.codes[28]["0_1"] and row[30] == surrogate.codes[30]["0_2"]


def test_missing_and_corrupt_surrogate_files_are_clear_errors(nb301_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from nas_core.paths import DataNotFoundError
    from spaces.darts.nb301 import NB301Surrogate

    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="NAS-Bench-301 surrogate"):
        NB301Surrogate(tmp_path / "empty")
    copy = tmp_path / "copy" / "nb301_yahpo"
    shutil.copytree(nb301_dir / "nb301_yahpo", copy)
    model = bytearray((copy / "model_v2.onnx").read_bytes())
    model[1000] ^= 0xFF
    (copy / "model_v2.onnx").write_bytes(bytes(model))
    with pytest.raises(ValueError, match="SHA-256"):
        NB301Surrogate(tmp_path / "copy")


# ---- evaluation network --------------------------------------------------------------------------------
def test_evaluation_network_counts_darts_v2s_published_parameters():
    """DARTS-V2 in the evaluation network (C=36, 20 cells, no auxiliary head): the paper's "3.3M"."""
    from spaces.darts.network import param_count

    assert param_count(DARTS_V2) == 3_349_342
    assert param_count(uniform("skip_connect")) < param_count(uniform("sep_conv_5x5"))


def test_evaluation_network_runs_and_reduces_twice():
    import torch

    from spaces.darts.network import NetworkCIFAR

    torch.manual_seed(0)
    net = NetworkCIFAR(DARTS_V2, channels=8, num_classes=10, layers=5, auxiliary=True)
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    reductions = [i for i, cell in enumerate(net.cells) if any(
        getattr(op, "stride", 1) == 2 or type(op).__name__ == "FactorizedReduce" for op in cell.ops)]
    assert reductions == [1, 3]  # layers // 3 and 2 * layers // 3
    aux = sum(p.numel() for n, p in net.named_parameters() if n.startswith("auxiliary"))
    assert aux > 0


# ---- search supernet ------------------------------------------------------------------------------------
def test_search_supernet_is_seeded_differentiable_and_feeds_the_derivation():
    import torch
    import torch.nn.functional as F

    from spaces.darts.genotype import derive
    from spaces.darts.supernet import DartsSupernet

    state = torch.random.get_rng_state()
    a = DartsSupernet(10, channels=4, layers=5, generator=7)
    b = DartsSupernet(10, channels=4, layers=5, generator=7)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is never read
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), DartsSupernet(10, 4, 5, generator=8).parameters()))
    g = torch.Generator().manual_seed(0)
    alpha_n = (1e-3 * torch.randn(len(EDGES), len(OPS), generator=g)).requires_grad_()
    alpha_r = (1e-3 * torch.randn(len(EDGES), len(OPS), generator=g)).requires_grad_()
    x, y = torch.randn(4, 3, 16, 16, generator=g), torch.randint(0, 10, (4,), generator=g)
    logits = a(x, torch.stack([torch.softmax(alpha_n, -1), torch.softmax(alpha_r, -1)]))
    assert logits.shape == (4, 10)
    grad_n, grad_r = torch.autograd.grad(F.cross_entropy(logits, y), [alpha_n, alpha_r])
    assert grad_n.abs().sum() > 0 and grad_r.abs().sum() > 0
    genotype = derive(alpha_n.detach().numpy(), alpha_r.detach().numpy())
    assert Genotype.from_str(genotype.to_str()) == genotype
    # weights that pick one op per edge make the supernet compute exactly that sum of ops
    one_hot = torch.zeros(len(EDGES), len(OPS))
    one_hot[:, OPS.index("skip_connect")] = 1.0
    assert torch.isfinite(a(x, torch.stack([one_hot, one_hot]))).all()


@pytest.mark.parametrize("impl", ["fast", "grouped"])
@pytest.mark.parametrize("chosen", [False, True])
def test_fast_darts_supernet_equals_the_per_op_reference(chosen, impl):
    """Shared ReLU and pools, ``none`` skipped: same loss and same alpha and weight gradients
    as computing every op of every edge (and the same for GDAS's one-op-per-edge passes)."""
    import torch
    import torch.nn.functional as F

    from spaces.darts.supernet import DartsSupernet

    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(6, 3, 16, 16, generator=g), torch.randint(0, 10, (6,), generator=g)
    alpha = (1e-3 * torch.randn(2, len(EDGES), len(OPS), generator=g)).requires_grad_()
    pick = torch.randint(0, len(OPS), (2, len(EDGES)), generator=g).tolist() if chosen else None
    if chosen:  # both inputs of node 2 pick ``none`` in both cells: the node is all zeros, still a tensor
        pick[0][:2] = pick[1][:2] = [OPS.index("none")] * 2
    results = []
    for form in ("plain", impl):
        net = DartsSupernet(10, 4, 5, generator=3, impl=form)
        loss = F.cross_entropy(net(x, torch.softmax(alpha, -1), pick), y)
        params = [alpha, *net.parameters()]
        grads = torch.autograd.grad(loss, params, allow_unused=True)  # GDAS: unchosen ops get no gradient
        results.append((loss.detach(), [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]))
    (loss_p, grads_p), (loss_f, grads_f) = results
    assert torch.allclose(loss_p, loss_f, atol=1e-6)
    assert len(grads_p) == len(grads_f)
    for gp, gf in zip(grads_p, grads_f):
        assert torch.allclose(gp, gf, atol=1e-5, rtol=1e-4)


def test_search_supernet_has_the_darts_search_models_parameter_count():
    """C=16, 8 cells, 10 classes: 1.930618M, the model size NASLib's DARTS-space test expects of its search graph."""
    from spaces.darts.supernet import DartsSupernet

    assert sum(p.numel() for p in DartsSupernet(10, 16, 8, generator=0).parameters()) == 1_930_618


def test_proxies_score_darts_genotypes_on_a_seeded_network():
    import torch

    from spaces.darts.network import proxy_network
    from strategies.proxies.measures import snip, synflow

    state = torch.random.get_rng_state()
    net = proxy_network(DARTS_V2, generator=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    batch = (torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 1, 2, 3]))
    a = synflow(net, batch)
    assert np.isfinite(a) and a > 0
    assert synflow(proxy_network(DARTS_V2, generator=3), batch) == a  # same seed, same score
    assert synflow(proxy_network(uniform("skip_connect"), generator=3), batch) != a
    assert np.isfinite(snip(proxy_network(DARTS_V2, generator=3), batch))
