"""Read (and, for tests and conversions, write) NAS-Bench-101's official TFRecord files without TensorFlow.

The official ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord`` hold one record per
(cell, epoch budget, repeat). A record's payload is UTF-8 JSON ``[hash, epochs, adjacency,
ops, metrics]``: the adjacency as a string of 0/1 digits (row-major, n*n of them), the ops
comma-separated, and the metrics a base64-encoded ``ModelMetrics`` protocol buffer
(nasbench/lib/model_metrics.proto): field 1 repeated ``EvaluationData`` (field 1
current_epoch, 2 training_time, 3 train_accuracy, 4 validation_accuracy, 5 test_accuracy,
all doubles; 6 checkpoint_path, a string), field 2 trainable_parameters (int32), field 3
total_time (double). NB101 reads evaluation 2 as the end of training and 1 as its halfway
point; so does this module.

Framing (TFRecord): little-endian uint64 length, uint32 masked CRC-32C of the length, the
payload, uint32 masked CRC-32C of the payload. Both checksums are verified, so a truncated
or altered download is reported with the byte offset of the first bad record. Nothing is
unpickled and nothing executes: JSON, base64 and a 60-line protobuf wire-format reader.
"""
from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np


class RecordFileError(ValueError):
    """The file is not a readable NB101 TFRecord (truncated, altered, or another format)."""


# ---- CRC-32C (Castagnoli), as TFRecord masks it ---------------------------------------------------
def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


try:  # a C implementation when installed (optional); looked up once, not per record
    from crc32c import crc32c as _fast_crc32c  # type: ignore[import-not-found]
except ImportError:
    _fast_crc32c = None


def crc32c(data: bytes) -> int:
    if _fast_crc32c is not None:
        return _fast_crc32c(data)
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def iter_payloads(path: str | Path, verify: bool = True) -> Iterator[bytes]:
    """The payload of every record in ``path``, checksums verified unless ``verify`` is False."""
    with open(path, "rb") as fh:
        offset = 0
        while True:
            head = fh.read(12)
            if not head:
                return
            if len(head) < 12:
                raise RecordFileError(f"{path}: truncated record header at byte {offset}")
            (length,), (length_crc,) = struct.unpack("<Q", head[:8]), struct.unpack("<I", head[8:])
            if verify and masked_crc(head[:8]) != length_crc:
                raise RecordFileError(f"{path}: bad length checksum at byte {offset} (not a TFRecord file, or altered)")
            payload, tail = fh.read(length), fh.read(4)
            if len(payload) < length or len(tail) < 4:
                raise RecordFileError(f"{path}: truncated record at byte {offset}")
            if verify and masked_crc(payload) != struct.unpack("<I", tail)[0]:
                raise RecordFileError(f"{path}: bad payload checksum in the record at byte {offset}")
            offset += 16 + length
            yield payload


def write_records(fh: BinaryIO, payloads: list[bytes]) -> None:
    """TFRecord framing of ``payloads`` (tests write their fixtures with it)."""
    for payload in payloads:
        length = struct.pack("<Q", len(payload))
        fh.write(length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload)))


# ---- the protocol buffer ---------------------------------------------------------------------------
def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise RecordFileError("truncated varint in the metrics message")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a protobuf message; unknown fields are skipped."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<d", data, pos)[0], pos + 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = struct.unpack_from("<f", data, pos)[0], pos + 4
        else:
            raise RecordFileError(f"unsupported protobuf wire type {wire} in the metrics message")
        yield number, wire, value


@dataclass(frozen=True)
class Evaluation:
    epoch: float
    training_time: float
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float


@dataclass(frozen=True)
class Metrics:
    evaluations: tuple[Evaluation, ...]
    trainable_parameters: int
    total_time: float


def decode_metrics(data: bytes) -> Metrics:
    evaluations, params, total = [], 0, 0.0
    for number, wire, value in _fields(data):
        if number == 1 and wire == 2:
            found = {n: v for n, w, v in _fields(value) if w == 1}  # type: ignore[arg-type]
            evaluations.append(Evaluation(*(float(found.get(n, 0.0)) for n in range(1, 6))))
        elif number == 2 and wire == 0:
            params = int(value) if int(value) < 2**31 else int(value) - 2**64  # int32 as a varint
        elif number == 3 and wire == 1:
            total = float(value)  # type: ignore[arg-type]
    return Metrics(tuple(evaluations), params, total)


def encode_metrics(metrics: Metrics) -> bytes:
    """The inverse of :func:`decode_metrics` (checkpoint paths left out)."""
    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            byte, value = value & 0x7F, value >> 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                return bytes(out)

    body = b""
    for ev in metrics.evaluations:
        inner = b"".join(varint((n << 3) | 1) + struct.pack("<d", v) for n, v in
                         enumerate((ev.epoch, ev.training_time, ev.train_accuracy, ev.validation_accuracy,
                                    ev.test_accuracy), start=1))
        body += varint((1 << 3) | 2) + varint(len(inner)) + inner
    body += varint(2 << 3) + varint(metrics.trainable_parameters) + varint((3 << 3) | 1) + struct.pack("<d", metrics.total_time)
    return body


# ---- rows -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One record: a cell, its epoch budget and the metrics of one training run."""

    hash: str
    epochs: int
    matrix: np.ndarray
    ops: tuple[str, ...]
    metrics: Metrics


def parse_payload(payload: bytes) -> Row:
    try:
        module_hash, epochs, adjacency, ops, metrics = json.loads(payload.decode("utf-8"))
        n = int(round(len(adjacency) ** 0.5))
        if n * n != len(adjacency) or set(adjacency) - {"0", "1"}:
            raise ValueError(f"adjacency {adjacency!r} is not a square 0/1 matrix")
        matrix = np.array([int(c) for c in adjacency], dtype=np.int8).reshape(n, n)
        return Row(str(module_hash), int(epochs), matrix, tuple(ops.split(",")),
                   decode_metrics(base64.b64decode(metrics, validate=True)))
    except (ValueError, TypeError, UnicodeDecodeError, struct.error) as exc:
        raise RecordFileError(f"a record is not an NB101 row ({type(exc).__name__}: {exc})") from None


def encode_payload(row: Row) -> bytes:
    adjacency = "".join(str(int(v)) for v in np.asarray(row.matrix).reshape(-1))
    metrics = base64.b64encode(encode_metrics(row.metrics)).decode("ascii")
    return json.dumps([row.hash, row.epochs, adjacency, ",".join(row.ops), metrics]).encode("utf-8")


def iter_rows(path: str | Path, verify: bool = True) -> Iterator[Row]:
    for payload in iter_payloads(path, verify):
        yield parse_payload(payload)
