"""NAS-Bench-101: the official graph hash, the network's parameter count, the TFRecord reader
(on fixtures written here) and the backend, also on the real 500-cell subset."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from conftest import shared_data_with
from spaces.nb101.spec import CONV1X1, CONV3X3, MAXPOOL3X3, InvalidSpec, ModelSpec
from spaces.nb101.params import param_count

#: the Inception-like cell of the NB101 README
INCEPTION = ModelSpec(np.array([[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
                                [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]]),
                      ("input", CONV1X1, CONV3X3, CONV3X3, CONV3X3, MAXPOOL3X3, "output"))


def test_the_hash_and_parameter_count_of_the_readme_cell_are_nb101s():
    """28cfc787... is the hash google-research's NB101 evolution tests pair with this cell; the
    NB101 README's query of it prints trainable_parameters: 2694282."""
    assert INCEPTION.hash() == "28cfc7874f6d200472e1a9dcd8650aa0"
    assert param_count(INCEPTION) == 2_694_282


def test_the_hash_ignores_vertex_order_and_pruned_vertices_but_not_ops():
    rng = np.random.default_rng(0)
    tried = 0
    for _ in range(20):
        order = [0, *(1 + rng.permutation(5)), 6]
        matrix = INCEPTION.matrix[np.ix_(order, order)]
        if np.tril(matrix).any():
            continue  # keep the topological order NB101 requires
        ops = tuple(INCEPTION.ops[i] for i in order)
        assert ModelSpec(matrix, ops).hash() == INCEPTION.hash(), order
        tried += 1
    assert tried >= 5
    # a vertex that does not reach the output is pruned away, so the hash is unchanged
    dangling = INCEPTION.matrix.copy()
    dangling[5, 6] = 0
    dangling[4, 5] = 1
    dangling[4, 6] = 1
    a = ModelSpec(dangling, INCEPTION.ops)
    b = ModelSpec(np.delete(np.delete(dangling, 5, 0), 5, 1), INCEPTION.ops[:5] + INCEPTION.ops[6:])
    assert len(a.pruned_ops) == 6 and a.hash() == b.hash() != INCEPTION.hash()
    assert ModelSpec(INCEPTION.matrix, INCEPTION.ops[:5] + (CONV3X3, "output")).hash() != INCEPTION.hash()


@pytest.mark.parametrize("matrix, ops, message", [
    (np.tril(np.ones((3, 3), int), -1), ("input", CONV3X3, "output"), "strictly upper-triangular"),
    (np.zeros((3, 3), int), ("input", CONV3X3, "output"), "does not reach the output"),
    (np.triu(np.ones((3, 3), int), 1), ("input", "conv5x5", "output"), "unknown op 'conv5x5'"),
    (np.triu(np.ones((3, 3), int), 1), (CONV3X3, CONV3X3, "output"), "first op must be 'input'"),
])
def test_bad_specs_are_refused_with_the_reason(matrix, ops, message):
    with pytest.raises(InvalidSpec, match=message):
        ModelSpec(matrix, ops)


def test_nb101s_limits_apply_to_the_pruned_graph():
    full = np.triu(np.ones((7, 7), int), 1)  # 21 edges
    with pytest.raises(InvalidSpec, match="21 edges after pruning; NB101 has at most 9"):
        ModelSpec(full, ("input", *[CONV3X3] * 5, "output")).check_in_space()


# ---- the official file format, on a fixture written here -------------------------------------------------
def _fixture_rows():
    from spaces.nb101.tfrecord import Evaluation, Metrics, Row

    other = ModelSpec(np.triu(np.ones((4, 4), int), 1) * np.array([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0] * 4]),
                      ("input", CONV3X3, MAXPOOL3X3, "output"))
    rows = []
    for spec, base in ((INCEPTION, 0.93), (other, 0.85)):
        for repeat in range(3):
            final = Evaluation(108.0, 1000.0 + repeat, 1.0, base + 0.001 * repeat, base - 0.01 + 0.001 * repeat)
            metrics = Metrics((Evaluation(0, 0, 0.1, 0.1, 0.1), Evaluation(54, 500, 0.9, 0.8, 0.79), final),
                              param_count(spec), 1200.0)
            rows.append(Row(spec.hash(), 108, spec.matrix, spec.ops, metrics))
    return rows


def _write(path, rows):
    from spaces.nb101.tfrecord import encode_payload, write_records

    with open(path, "wb") as fh:
        write_records(fh, [encode_payload(r) for r in rows])
    return path


def test_an_official_tfrecord_imports_and_answers_by_hash_with_the_mean_of_the_repeats(tmp_path, capsys):
    from harness.cli import main
    from spaces.nb101.table import NB101Table

    path = _write(tmp_path / "nasbench_only108.tfrecord", _fixture_rows())
    assert main(["data", "import", "--nb101", str(path)]) == 0
    written = capsys.readouterr().out.split("-> ")[1].split(" (")[0]
    table = NB101Table(written)
    assert len(table) == 2 and table.epochs == [108]
    assert table.query(INCEPTION) == pytest.approx(93.1)  # mean of 93.0, 93.1, 93.2
    assert table.query(INCEPTION.hash(), "test") == pytest.approx(92.1)
    assert table.params(INCEPTION) == 2_694_282
    with pytest.raises(KeyError, match="not in the imported NB101 data"):
        table.query("0" * 32)


def test_a_corrupt_or_foreign_tfrecord_is_refused_with_where(tmp_path):
    from spaces.nb101.table import NB101ImportError, import_nb101
    from spaces.nb101.tfrecord import RecordFileError, Row

    good = _write(tmp_path / "a.tfrecord", _fixture_rows()).read_bytes()
    broken = tmp_path / "broken.tfrecord"
    broken.write_bytes(good[:-30] + bytes([good[-30] ^ 1]) + good[-29:])
    with pytest.raises(RecordFileError, match="bad payload checksum in the record at byte"):
        import_nb101(broken, tmp_path / "out.nht")
    (tmp_path / "short.tfrecord").write_bytes(good[:-5])
    with pytest.raises(RecordFileError, match="truncated"):
        import_nb101(tmp_path / "short.tfrecord", tmp_path / "out.nht")
    row = _fixture_rows()[0]
    lying = _write(tmp_path / "lying.tfrecord", [Row("f" * 32, row.epochs, row.matrix, row.ops, row.metrics)])
    with pytest.raises(NB101ImportError, match="describes a cell whose hash is 28cfc787"):
        import_nb101(lying, tmp_path / "out.nht")
    assert not (tmp_path / "out.nht").exists()  # nothing half-written


def test_simple_csv_and_json_tables_import_the_same(tmp_path):
    from spaces.nb101.table import NB101ImportError, NB101Table, import_nb101

    adjacency = "".join(str(v) for v in INCEPTION.matrix.reshape(-1))
    rows = [{"adjacency": adjacency, "ops": ",".join(INCEPTION.ops), "valid_acc": v, "test_acc": v - 1}
            for v in (93.0, 93.2)]
    with open(tmp_path / "t.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (tmp_path / "t.json").write_text(json.dumps(rows))
    a, b = (NB101Table(import_nb101(tmp_path / n, tmp_path / f"{n}.nht")) for n in ("t.csv", "t.json"))
    assert a.query(INCEPTION) == b.query(INCEPTION) == pytest.approx(93.1)
    (tmp_path / "bad.json").write_text(json.dumps([{**rows[0], "hash": "0" * 32}]))
    with pytest.raises(NB101ImportError, match="row 1: NB101ImportError: hash 0+ given"):
        import_nb101(tmp_path / "bad.json", tmp_path / "x.nht")


# ---- the real 500-cell subset --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def subset_dir():
    return shared_data_with("nb101_subset/nb101_naslib_500.csv", "the NB101 500-cell subset")


def test_the_real_subset_reads_with_the_op_codes_its_parameter_counts_confirm(subset_dir):
    from spaces.nb101.table import NASLIB_CODES, load_subset

    table = load_subset(subset_dir)
    matched, values = 0, {}
    with open(subset_dir / "nb101_subset" / "nb101_naslib_500.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            spec = ModelSpec(np.array([int(c) for c in row["adjacency_7x7_rowmajor"]]).reshape(7, 7),
                             tuple(NASLIB_CODES[int(c)] for c in row["op_codes"].split()))
            matched += param_count(spec) == round(float(row["params_M"]) * 1e6)
            values.setdefault(spec.hash(), set()).add(float(row["val_accuracy"]))
    assert matched == 500  # every stored parameter count is NB101's network's under this reading of the codes
    assert len(table) == len(values) == 292  # 500 rows, 292 distinct NB101 cells
    assert max(len(v) for v in values.values()) == 3  # a cell's rows sample NB101's 3 repeats
    for module_hash, accs in values.items():
        assert table.query(module_hash) == pytest.approx(float(np.mean(sorted(accs))))
    with pytest.raises(KeyError, match="has no test accuracy"):
        table.query(next(iter(values)), "test")
