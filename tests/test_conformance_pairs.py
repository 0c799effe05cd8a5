"""Both conformance suites over the built-in spaces beyond NB201 (NB201's pairs run in
test_conformance.py on the synthetic table): the space suite on each space whose benchmark data
is here, and the strategy suite on every (strategy, space) pair whose capabilities match."""
from __future__ import annotations

import pytest

from harness.conformance import check_space, check_strategy, quick_settings
from spaces import get_space
from strategies import registry

OTHER_SPACES = ["darts", "nb1shot1-1", "nb1shot1-2", "nb1shot1-3"]


def matching_pairs() -> list[tuple[str, str]]:
    """Every (strategy, space) of :data:`OTHER_SPACES` the config would accept."""
    return [(name, space) for space in OTHER_SPACES for name in registry.names()
            if not registry.get(name)(**quick_settings(name)).space_problems(get_space(space))]


def test_the_pairs_are_what_the_capabilities_say():
    pairs = set(matching_pairs())
    assert ("bayesnas", "darts") in pairs and ("bayesnas", "nb1shot1-1") not in pairs  # switches need dense rows
    assert ("zero_cost", "darts") in pairs and ("zero_cost", "nb1shot1-2") not in pairs  # no NB101 proxy network
    assert ("darts_v1", "nb1shot1-3") in pairs and ("drnas", "nb1shot1-3") not in pairs


def test_the_darts_space_passes_the_space_suite(darts_data_dir):
    assert check_space(get_space("darts"), str(darts_data_dir)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name, space", matching_pairs())
def test_every_matching_pair_passes_the_strategy_suite(name, space, darts_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("NAS_HARNESS_CACHE", str(tmp_path / "cache"))  # no NB101 table imported earlier
    if space.startswith("nb1shot1") and registry.get(name).kind != "one-shot":
        pytest.skip("a black-box search on NAS-Bench-1shot1 queries NB101 accuracies, which need the full NAS-Bench-101 "
                    "(`nas-harness data import --nb101 ...`); test_nb1shot1_search.py runs one on a synthetic table")
    assert check_strategy(name, get_space(space), data_dir=str(darts_data_dir)) == []
