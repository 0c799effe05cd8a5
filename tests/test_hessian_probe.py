"""The Hessian probe (strategies/hessian.py) on losses whose Hessian is known exactly."""
from __future__ import annotations

import pytest
import torch

from strategies.hessian import EXACT_LIMIT, check_probe_options, hessian_probe, resolve_method


def _quadratic(eigenvalues: list[float], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A symmetric matrix with these eigenvalues (random orthogonal basis) and a parameter of its size."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues), generator=g, dtype=torch.float64))
    a = q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T
    x = torch.randn(len(eigenvalues), generator=g, dtype=torch.float64).requires_grad_()
    return a, x


def _probe(a: torch.Tensor, x: torch.Tensor, method: str, iterations: int = 20, mask=None) -> dict:
    loss = 0.5 * x @ a @ x + (x ** 3).sum() * 0  # a cubic term with zero weight keeps create_graph honest
    return hessian_probe(loss, x, torch.Generator().manual_seed(1), method, iterations, mask)


def test_exact_gives_the_extreme_eigenvalues_and_the_larger_in_magnitude() -> None:
    a, x = _quadratic([-3.0, -0.5, 0.01, 0.2, 1.5])
    row = _probe(a, x, "exact")
    assert row["hessian_max_eigenvalue"] == pytest.approx(1.5, abs=1e-9)
    assert row["hessian_min_eigenvalue"] == pytest.approx(-3.0, abs=1e-9)
    assert row["hessian_eigenvalue"] == pytest.approx(-3.0, abs=1e-9)  # what power iteration tracks
    assert row["hessian_method"] == "exact"
    generator = torch.Generator().manual_seed(1)
    state = generator.get_state()
    hessian_probe(0.5 * x @ a @ x, x, generator, "exact")
    assert torch.equal(generator.get_state(), state)  # exact draws nothing from the probe's stream


def test_power_iteration_finds_the_largest_magnitude_not_the_largest_eigenvalue() -> None:
    """The reason the probe changed: at a saddle power iteration reports the negative side."""
    a, x = _quadratic([-3.0, -0.5, 0.01, 0.2, 1.5])
    row = _probe(a, x, "power", iterations=200)
    assert row["hessian_eigenvalue"] == pytest.approx(-3.0, rel=1e-4)
    assert "hessian_max_eigenvalue" not in row and row["hessian_method"] == "power"


def test_lanczos_converges_to_the_extremes_and_is_exact_after_n_steps() -> None:
    spectrum = [-2.0] + [0.1 * i for i in range(1, 39)] + [5.0]
    a, x = _quadratic(spectrum, seed=3)
    few = _probe(a, x, "lanczos", iterations=12)
    assert few["hessian_max_eigenvalue"] == pytest.approx(5.0, rel=1e-6)  # well separated: converged
    assert few["hessian_min_eigenvalue"] == pytest.approx(-2.0, rel=1e-6)
    assert few["hessian_max_eigenvalue"] <= 5.0 + 1e-9 and few["hessian_min_eigenvalue"] >= -2.0 - 1e-9  # from inside
    full = _probe(a, x, "lanczos", iterations=len(spectrum))
    assert full["hessian_max_eigenvalue"] == pytest.approx(5.0, abs=1e-8)


def test_masked_coordinates_are_left_out() -> None:
    """Padded entries have zero rows and columns: counted, they would put a 0 above an all-negative spectrum."""
    free = _quadratic([-4.0, -2.0, -1.0])[0]
    a = torch.zeros(5, 5, dtype=torch.float64)
    keep = torch.tensor([True, False, True, True, False])
    a[keep.nonzero().flatten()[:, None], keep.nonzero().flatten()] = free
    x = torch.randn(5, generator=torch.Generator().manual_seed(2), dtype=torch.float64).requires_grad_()
    for method in ("exact", "lanczos"):
        row = _probe(a, x, method, mask=keep)
        assert row["hessian_max_eigenvalue"] == pytest.approx(-1.0, abs=1e-9), method
        assert row["hessian_min_eigenvalue"] == pytest.approx(-4.0, abs=1e-9), method
    assert _probe(a, x, "exact")["hessian_max_eigenvalue"] == pytest.approx(0.0, abs=1e-12)  # unmasked: the padding's 0


def test_a_two_dimensional_parameter_is_probed_as_one_vector() -> None:
    a, x = _quadratic([0.5, -1.0, 2.0, 3.0, -0.25, 1.0])
    x2 = x.detach().reshape(2, 3).requires_grad_()
    loss = 0.5 * x2.flatten() @ a @ x2.flatten()
    row = hessian_probe(loss, x2, torch.Generator().manual_seed(0), "exact")
    assert (row["hessian_min_eigenvalue"], row["hessian_max_eigenvalue"]) == pytest.approx((-1.0, 3.0), abs=1e-9)


def test_auto_is_exact_for_small_parameters_and_lanczos_for_large_ones() -> None:
    assert resolve_method("auto", 30) == "exact"  # NB201's 6x5 alpha
    assert resolve_method("auto", EXACT_LIMIT + 1) == "lanczos"  # the DARTS space's 2x14x8
    assert resolve_method("power", 30) == "power"


@pytest.mark.parametrize("method, iterations", [("eig", 20), ("exact", 0), ("lanczos", 2.5), ("power", True)])
def test_bad_options_are_refused(method, iterations) -> None:
    with pytest.raises(ValueError, match="hessian_"):
        check_probe_options(method, iterations)


def test_batched_products_give_the_same_spectrum(monkeypatch) -> None:
    """``$NAS_HARNESS_HVP_BATCH`` only changes how many products share a backward pass."""
    a, x = _quadratic([-1.0, 0.3, 2.0, -0.7, 1.1, 0.05, 4.0])
    keys = ("hessian_eigenvalue", "hessian_max_eigenvalue", "hessian_min_eigenvalue")
    one = _probe(a, x, "exact")
    for size in ("3", "7", "50"):
        monkeypatch.setenv("NAS_HARNESS_HVP_BATCH", size)
        batched = _probe(a, x, "exact")
        assert [batched[k] for k in keys] == pytest.approx([one[k] for k in keys], abs=1e-12)
    monkeypatch.setenv("NAS_HARNESS_HVP_BATCH", "0")
    with pytest.raises(ValueError, match="NAS_HARNESS_HVP_BATCH"):
        _probe(a, x, "exact")


def test_batched_products_on_the_nb201_supernet_equal_one_at_a_time(monkeypatch) -> None:
    """vmap over the supernet's double backward (in-place ops, batch norm, grouped box filter) works."""
    import torch.nn.functional as F

    from spaces.nb201.supernet import Supernet

    g = torch.Generator().manual_seed(0)
    net = Supernet(10, 4, 1, "fast", generator=0)
    alpha = (0.3 * torch.randn(6, 5, generator=g)).requires_grad_()
    x, y = torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 10, (8,), generator=g)

    def probe() -> dict:
        loss = F.cross_entropy(net(x, torch.softmax(alpha, -1)), y)
        return hessian_probe(loss, alpha, torch.Generator().manual_seed(1), "exact")

    one = probe()
    monkeypatch.setenv("NAS_HARNESS_HVP_BATCH", "10")
    batched = probe()
    for key in ("hessian_max_eigenvalue", "hessian_min_eigenvalue"):
        assert batched[key] == pytest.approx(one[key], rel=1e-4, abs=1e-7)


def test_a_batch_that_runs_out_of_memory_is_halved() -> None:
    from strategies.hessian import _exact_eigenvalues

    h = torch.diag(torch.arange(1.0, 8.0, dtype=torch.float64))
    sizes: list[int] = []

    def hvp(rows: torch.Tensor) -> torch.Tensor:
        sizes.append(len(rows))
        if len(rows) > 2:
            raise torch.OutOfMemoryError("too many vectors at once")
        return rows @ h

    assert _exact_eigenvalues(hvp, 7, batch=7).tolist() == pytest.approx(list(range(1, 8)))
    assert sizes[:3] == [7, 3, 1] and set(sizes[3:]) == {1}

    def never(rows: torch.Tensor) -> torch.Tensor:
        raise torch.OutOfMemoryError("no room at all")

    with pytest.raises(torch.OutOfMemoryError):
        _exact_eigenvalues(never, 3, batch=4)


@pytest.mark.parametrize("method", ["exact", "lanczos"])
def test_a_non_finite_product_gives_nan_fields_not_a_crash(method) -> None:
    """An overflowing second derivative must not end a search that trains fine: the fields are NaN (null in JSON)."""
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    loss = (x ** 2).sum() * torch.tensor(float("inf"), dtype=torch.float64)
    row = hessian_probe(loss, x, torch.Generator().manual_seed(0), method)
    assert all(row[k] != row[k] for k in ("hessian_eigenvalue", "hessian_max_eigenvalue", "hessian_min_eigenvalue"))
    assert row["hessian_method"] == method


def test_building_a_one_shot_strategy_does_not_import_torch() -> None:
    """Configs build every strategy to validate it; torch loads only when a search runs."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; from strategies.registry import get; get('darts_v1')(hessian_method='lanczos'); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "False"
