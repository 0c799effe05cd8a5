"""A compact, checksummed, columnar file for tabular benchmarks.

Layout: ``MAGIC`` | little-endian uint32 header length | JSON header | payload. The header
lists each column's name, dtype, shape and byte offset, the schema version and the SHA-256
of the payload. Loading reads one file, verifies the checksum and wraps the columns with
``numpy.frombuffer`` without copying, which is what makes a full NB201 table load in
milliseconds and a few MB instead of the official API's minutes and gigabytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any, Mapping

import numpy as np

MAGIC = b"NASHTBL\x01"
_ALIGN = 8


class TableCorruptError(ValueError):
    """The table file is truncated, altered or from another schema; re-import it."""


def write_table(path: Path, columns: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> None:
    """Write ``columns`` atomically (temporary file, then rename) with ``header`` metadata."""
    specs, chunks, offset = [], [], 0
    for name, array in columns.items():
        array = np.ascontiguousarray(array)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"column {name!r}: only numeric columns are stored, got dtype {array.dtype}")
        raw = array.tobytes()
        pad = (-len(raw)) % _ALIGN
        specs.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    payload = b"".join(chunks)
    full_header = dict(header, columns=specs, payload_sha256=hashlib.sha256(payload).hexdigest())
    blob = json.dumps(full_header, sort_keys=True).encode()
    blob += b" " * ((-(len(MAGIC) + 4 + len(blob))) % _ALIGN)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<I", len(blob)) + blob + payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_table(path: Path, schema_version: int, verify: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return ``(header, columns)``; raise :class:`TableCorruptError` on any inconsistency."""
    how_to_fix = "delete it and run `nas-harness data import` to rebuild it"
    data = Path(path).read_bytes()
    if len(data) < len(MAGIC) + 4 or not data.startswith(MAGIC):
        raise TableCorruptError(f"{path} is not a nas-harness table file (bad magic); {how_to_fix}")
    (hlen,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + hlen
    try:
        header = json.loads(data[len(MAGIC) + 4 : start])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableCorruptError(f"{path}: unreadable header ({exc}); {how_to_fix}") from None
    if header.get("schema_version") != schema_version:
        raise TableCorruptError(
            f"{path} has schema version {header.get('schema_version')}, this code reads {schema_version}; {how_to_fix}"
        )
    payload = memoryview(data)[start:]
    if verify and hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise TableCorruptError(f"{path}: checksum mismatch, the file is truncated or altered; {how_to_fix}")
    columns: dict[str, np.ndarray] = {}
    for spec in header["columns"]:
        dtype = np.dtype(spec["dtype"])
        count = int(np.prod(spec["shape"], dtype=np.int64))
        end = spec["offset"] + count * dtype.itemsize
        if end > len(payload):
            raise TableCorruptError(f"{path}: column {spec['name']!r} runs past the end of the file; {how_to_fix}")
        columns[spec["name"]] = np.frombuffer(payload, dtype=dtype, count=count, offset=spec["offset"]).reshape(
            spec["shape"]
        )
    return header, columns
