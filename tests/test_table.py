"""The compact NB201 table on a synthetic NB201-shaped source: import, queries, seal, errors."""
from __future__ import annotations

import numpy as np
import pytest

from nas_core.paths import DataNotFoundError, resolve_data_dir
from spaces.nb201.codec import N_CELLS, Arch, all_archs
from spaces.nb201.importers import TableImportError, import_csvs, import_official_api
from spaces.nb201.table import NB201Table, TestSplitAccessError, import_table, load_table, locate_table
from nas_core.splits import Split
from spaces.tablefile import TableCorruptError, read_table, write_table

from conftest import synthetic_accuracy


def test_index_mapping_follows_the_source_not_the_lexicographic_order(synthetic_table, synthetic_order):
    for official in range(0, N_CELLS, 97):
        arch = Arch.from_lex_index(int(synthetic_order[official]))
        assert synthetic_table.index_of(arch) == official
        assert synthetic_table.arch_at(official) == arch


def test_query_reads_the_right_row_for_every_cell(synthetic_table):
    archs = list(all_archs())
    expected = synthetic_accuracy(np.array([a.ops for a in archs]))
    got = np.array([synthetic_table.query(a, "cifar10", Split.VALID) for a in archs])
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(synthetic_table.column("cifar10", "test")[synthetic_table.indices_of(archs)], expected + 3)


def test_cifar10_valid_is_the_cifar10_valid_run_by_nb201_convention(synthetic_table):
    arch = Arch((3, 3, 3, 1, 3, 2))
    assert synthetic_table.query(arch, "cifar10", "valid") == synthetic_table.query(arch, "cifar10-valid", "valid")


def test_cost_and_train_time(synthetic_table):
    arch = Arch((3, 3, 3, 1, 3, 2))  # four 3x3 convs, one 1x1
    cost = synthetic_table.cost(arch, "cifar100")
    assert cost.params_M == pytest.approx(0.079156 + 4 * 0.24304 + 0.028)
    assert cost.train_time_s == synthetic_table.train_time(arch, "cifar100") == 2000 + 4 * 400
    with pytest.raises(ValueError, match="200-epoch"):
        synthetic_table.train_time(arch, "cifar100", epochs=12)


def test_typed_split_and_dataset_errors(synthetic_table):
    arch = Arch((1,) * 6)
    with pytest.raises(ValueError, match="unknown split 'train'"):
        synthetic_table.query(arch, "cifar10", "train")
    with pytest.raises(ValueError, match="unknown NB201 dataset 'cifar-10'; expected one of"):
        synthetic_table.query(arch, "cifar-10", Split.VALID)
    with pytest.raises(ValueError, match="tabulates"):
        synthetic_table.query(arch, "cifar10", Split.VALID, epochs=50)
    with pytest.raises(KeyError, match="no valid accuracy for cifar10 at 12 epochs"):
        synthetic_table.query(arch, "cifar10", Split.VALID, epochs=12)
    with pytest.raises(KeyError, match="available"):
        synthetic_table.latency_ms(arch, "pixel3")


def test_sealed_table_refuses_test_split_but_serves_valid(synthetic_table):
    arch = Arch((3,) * 6)
    with synthetic_table.sealed():
        assert synthetic_table.query(arch, "cifar100", Split.VALID) > 0
        with pytest.raises(TestSplitAccessError):
            synthetic_table.query(arch, "cifar100", Split.TEST)
        with pytest.raises(TestSplitAccessError):
            synthetic_table.column("cifar100", "test")
    assert synthetic_table.query(arch, "cifar100", Split.TEST) > 0


def test_corrupt_table_files_give_a_clear_error(synthetic_data_dir, tmp_path):
    good = locate_table(synthetic_data_dir).read_bytes()
    cases = {
        "flipped": good[:-100] + bytes([good[-100] ^ 0xFF]) + good[-99:],
        "truncated": good[: len(good) // 2],
        "magic": b"XXXXXXXX" + good[8:],
        "empty": b"",
    }
    for name, blob in cases.items():
        path = tmp_path / f"{name}.nht"
        path.write_bytes(blob)
        with pytest.raises(TableCorruptError, match="nas-harness data import"):
            load_table(path=path)


def test_an_altered_header_is_caught_even_when_its_json_stays_valid(synthetic_data_dir, tmp_path):
    """Format 1 checked the payload only: shifting a column offset by 8 bytes kept the JSON valid
    and read wrong accuracies. The whole-file digest now covers the header too."""
    import json
    import struct

    good = locate_table(synthetic_data_dir).read_bytes()
    (hlen,) = struct.unpack_from("<I", good, 8)
    header = json.loads(good[12 : 12 + hlen])
    column = next(c for c in header["columns"] if c["name"] == "acc/cifar10/test/200")
    column["offset"] += 8
    blob = json.dumps(header, sort_keys=True).encode()
    blob += b" " * (hlen - len(blob)) if len(blob) <= hlen else b""
    path = tmp_path / "altered.nht"
    # magic, the (possibly new) length, the altered header, the original payload and digest
    path.write_bytes(good[:8] + struct.pack("<I", len(blob)) + blob + good[12 + hlen :])
    with pytest.raises(TableCorruptError, match="checksum mismatch"):
        load_table(path=path)
    # without the digest the file parses and yields wrong accuracies: the defect this guards against
    wrong = read_table(path, 1, verify=False)[1]["acc/cifar10/test/200"]
    right = read_table(locate_table(synthetic_data_dir), 1)[1]["acc/cifar10/test/200"]
    assert wrong.shape == right.shape and not np.array_equal(wrong, right)


def test_a_table_of_the_older_format_is_refused_by_name(tmp_path):
    path = tmp_path / "old.nht"
    path.write_bytes(b"NASHTBL\x01" + bytes(64))
    with pytest.raises(TableCorruptError, match="table format 1.*reads format 2"):
        read_table(path, 1)


def test_a_wrong_nas_harness_data_is_an_error_not_a_fallback(synthetic_data_dir, tmp_path, monkeypatch):
    locate_table(synthetic_data_dir)  # a cached table exists, which the old code fell back to
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path / "nonexistent"))
    with pytest.raises(DataNotFoundError, match="nonexistent.*NAS_HARNESS_DATA.*does not exist"):
        locate_table()


def test_schema_version_mismatch_is_reported(tmp_path):
    path = tmp_path / "t.nht"
    write_table(path, {"x": np.arange(3.0)}, {"schema_version": 99})
    with pytest.raises(TableCorruptError, match="schema version 99"):
        read_table(path, 1)
    assert not list(tmp_path.glob(".*tmp*")), "the atomic writer left a temporary file"


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="nowhere.*NAS_HARNESS_DATA"):
        resolve_data_dir()
    empty = tmp_path / "empty"
    (empty / "nb201").mkdir(parents=True)
    with pytest.raises(TableImportError, match="expected nb201_nats_tss_200ep.csv"):
        import_csvs(empty / "nb201")


def test_explicit_data_dir_wins_over_environment(tmp_path, monkeypatch, synthetic_data_dir):
    monkeypatch.setenv("NAS_HARNESS_DATA", str(tmp_path))
    assert resolve_data_dir(synthetic_data_dir) == synthetic_data_dir
    assert resolve_data_dir() == tmp_path


def test_inconsistent_sources_are_refused(synthetic_data_dir, tmp_path):
    import pandas as pd

    (tmp_path / "nb201").mkdir()
    main = pd.read_csv(synthetic_data_dir / "nb201" / "nb201_nats_tss_200ep.csv")
    main.to_csv(tmp_path / "nb201" / "nb201_nats_tss_200ep.csv", index=False)
    other = main[["arch_index", "arch_str"]].copy()
    other.loc[[5, 6], "arch_str"] = other.loc[[6, 5], "arch_str"].to_numpy()
    other["cifar10_ori_test_acc_12ep"] = 1.0
    other.to_csv(tmp_path / "nb201" / "nb201_12ep_minibench.csv", index=False)
    with pytest.raises(TableImportError, match="disagree on the arch of index 5"):
        import_csvs(tmp_path / "nb201")


def test_malformed_arch_string_in_a_source_names_the_row(synthetic_data_dir, tmp_path):
    import pandas as pd

    (tmp_path / "nb201").mkdir()
    main = pd.read_csv(synthetic_data_dir / "nb201" / "nb201_nats_tss_200ep.csv")
    main.loc[7, "arch_str"] = main.loc[7, "arch_str"].replace("~0", "~9", 1)
    main.to_csv(tmp_path / "nb201" / "nb201_nats_tss_200ep.csv", index=False)
    with pytest.raises(TableImportError, match="row 7"):
        import_csvs(tmp_path / "nb201")


class FakeNATSAPI:
    """Same methods as nats_bench's topology API, answering from a formula."""

    def __init__(self, order: np.ndarray) -> None:
        self.archs = [Arch.from_lex_index(int(i)) for i in order]
        self.calls = 0

    def __len__(self) -> int:
        return len(self.archs)

    def arch(self, index: int) -> str:
        return self.archs[index].to_str()

    def get_more_info(self, index, dataset, iepoch=None, hp="12", is_random=True):
        assert is_random is False and hp in ("12", "200")
        self.calls += 1
        base = float(index % 100) + (0.5 if hp == "200" else 0.0)
        info = {"test-accuracy": base + 1, "train-all-time": 10.0 * (index % 7)}
        if dataset != "cifar10":
            info["valid-accuracy"] = base
        return info

    def get_cost_info(self, index, dataset, hp="12"):
        return {"params": 0.1 * (index % 5), "flops": 1.0 * (index % 3), "latency": 0.001 * (index % 4)}


class FakeNB201API(FakeNATSAPI):
    """The older nas_201_api signature (use_12epochs_result instead of hp)."""

    def get_more_info(self, index, dataset, iepoch=None, use_12epochs_result=False, is_random=True):
        return super().get_more_info(index, dataset, hp="12" if use_12epochs_result else "200", is_random=is_random)

    def get_cost_info(self, index, dataset):
        return super().get_cost_info(index, dataset)


@pytest.mark.parametrize("api_class", [FakeNATSAPI, FakeNB201API])
def test_official_api_import_path(api_class, tmp_path):
    order = np.random.default_rng(5).permutation(N_CELLS)
    columns, provenance = import_official_api(api_class(order))
    assert provenance["source"] == "official-api"
    path = tmp_path / "official.nht"
    write_table(path, columns, {"schema_version": 1})
    header, cols = read_table(path, 1)
    table = NB201Table(cols, header)
    arch = Arch.from_lex_index(int(order[1234]))
    assert table.index_of(arch) == 1234
    assert table.query(arch, "cifar100", "valid") == 34.5
    assert table.query(arch, "cifar100", "test", epochs=12) == 35.0
    assert table.query(arch, "cifar10", "valid") == table.query(arch, "cifar10-valid", "valid") == 34.5
    assert table.cost(arch, "cifar10").train_time_s == table.cost(arch, "cifar10-valid").train_time_s == 10.0 * (1234 % 7)
    assert table.latency_ms(arch, "official_cifar10") == pytest.approx(1000 * 0.001 * (1234 % 4))


def test_official_api_of_the_wrong_size_is_refused():
    with pytest.raises(TableImportError, match="expected 15625"):
        import_official_api(FakeNATSAPI(np.arange(10)))


def test_reimport_is_idempotent(synthetic_data_dir):
    path = locate_table(synthetic_data_dir)
    before = read_table(path, 1)[1]["acc/cifar10/valid/200"].copy()
    assert import_table(synthetic_data_dir) == path
    np.testing.assert_array_equal(read_table(path, 1)[1]["acc/cifar10/valid/200"], before)
