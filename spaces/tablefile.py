"""A compact, checksummed, columnar file for tabular benchmarks.

Layout (format 2): ``MAGIC`` | little-endian uint32 header length | JSON header | payload |
SHA-256 of everything before it (32 bytes). The header lists each column's name, dtype, shape
and byte offset and the schema version. The trailing digest covers the magic, the length, the
header and the payload: every byte the loader relies on is verified, so an altered column
offset is caught as surely as an altered value (format 1 checked the payload only). Loading
reads one file, verifies the digest and wraps the columns with ``numpy.frombuffer`` without
copying, which is what makes a full NB201 table load in milliseconds and a few MB instead of the
official API's minutes and gigabytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import Any, Mapping

import numpy as np

FORMAT_VERSION = 2
MAGIC = b"NASHTBL" + bytes([FORMAT_VERSION])
#: the file name suffix of this format: a table of an older format is rebuilt, never misread
SUFFIX = f".v{FORMAT_VERSION}.nht"
_ALIGN = 8
_DIGEST = 32


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
    full_header = dict(header, columns=specs)
    blob = json.dumps(full_header, sort_keys=True).encode()
    blob += b" " * ((-(len(MAGIC) + 4 + len(blob))) % _ALIGN)
    body = MAGIC + struct.pack("<I", len(blob)) + blob + payload
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(body + hashlib.sha256(body).digest())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_table(path: Path, schema_version: int, verify: bool = True) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return ``(header, columns)``; raise :class:`TableCorruptError` on any inconsistency."""
    how_to_fix = "delete it and run `nas-harness data import` to rebuild it"
    data = Path(path).read_bytes()
    if len(data) < len(MAGIC) + 4 + _DIGEST or not data.startswith(MAGIC[:-1]):
        raise TableCorruptError(f"{path} is not a nas-harness table file (bad magic); {how_to_fix}")
    if data[len(MAGIC) - 1] != FORMAT_VERSION:
        raise TableCorruptError(f"{path} has table format {data[len(MAGIC) - 1]}, this code reads format "
                                f"{FORMAT_VERSION}; {how_to_fix}")
    body = memoryview(data)[:-_DIGEST]
    if verify and hashlib.sha256(body).digest() != data[-_DIGEST:]:
        raise TableCorruptError(f"{path}: checksum mismatch, the file is truncated or altered; {how_to_fix}")
    (hlen,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + hlen
    if start > len(body):
        raise TableCorruptError(f"{path}: the header runs past the end of the file; {how_to_fix}")
    try:
        header = json.loads(bytes(body[len(MAGIC) + 4 : start]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TableCorruptError(f"{path}: unreadable header ({exc}); {how_to_fix}") from None
    if not isinstance(header, dict) or header.get("schema_version") != schema_version:
        version = header.get("schema_version") if isinstance(header, dict) else None
        raise TableCorruptError(f"{path} has schema version {version}, this code reads {schema_version}; {how_to_fix}")
    header["sha256"] = data[-_DIGEST:].hex()  # the file's identity, for run provenance
    payload = body[start:]
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
