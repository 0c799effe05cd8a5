"""``nas-harness records upgrade FOLDER --scale S``: state in old records what new records state.

Why: a report reads a run's scale preset, its strategy's kind and its benchmark's kind, name
and measure from the record's provenance, never from the folder it sits in. Records written
before the provenance held them (schema version 1, and version 2 before the kinds) say none
of it; the scale in particular was only implied by the ``_cpu`` / ``_smoke`` suffix the
config gave the experiment folder. The user states it once here (``--scale``), and the rest
is read from the registries (strategy kind; the space's benchmark name, measure and kind).

What changes: the provenance gains the missing fields and the record is rewritten in the
current schema, atomically. What cannot change is checked before anything is written: the
run id and the deterministic view (:func:`nas_core.records.deterministic_view`) of every
record stay the same, so resuming and same-seed comparisons see the same runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas_core.records import RunRecord, deterministic_view, iter_records, write_record

#: the provenance fields a report reads
STATED = ("scale", "strategy_kind", "benchmark_kind", "benchmark_name", "measure")


class UpgradeError(ValueError):
    """The records cannot be upgraded as asked; the message names the record or field and the fix."""


@dataclass(frozen=True)
class UpgradeSummary:
    folder: Path
    upgraded: int
    already: int


def _space_facts(name: str, data_dir: str | None, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The space's benchmark name, measure and benchmark kind (the benchmark is opened to read it)."""
    if name not in cache:
        from spaces import get_space

        try:
            space = get_space(name)
        except KeyError:
            raise UpgradeError(f"space {name!r} is not registered; pass the plugin file that registers it "
                               "with --plugins") from None
        benchmark = space.open_benchmark("auto", data_dir)
        cache[name] = {"benchmark_name": space.benchmark_name, "measure": space.measure,
                       "benchmark_kind": benchmark.kind}
    return cache[name]


def _strategy_kind(name: str) -> str:
    from strategies import registry

    try:
        return registry.get(name).kind
    except KeyError:
        raise UpgradeError(f"strategy {name!r} is not registered; pass the plugin file that registers it "
                           "with --plugins") from None


def upgrade(folder: str | Path, scale: str | None, data_dir: str | None = None) -> UpgradeSummary:
    """Fill in what each record of ``folder`` does not state (:data:`STATED`); ``scale`` is required
    when a record lacks its scale, and never overrides one a record states."""
    from harness.config import SCALE_NAMES

    folder = Path(folder)
    if not folder.is_dir():
        raise UpgradeError(f"no records folder {folder}; name an experiment folder such as results/<experiment>")
    if scale is not None and scale not in SCALE_NAMES:
        raise UpgradeError(f"--scale {scale!r} is not a scale; valid: {list(SCALE_NAMES)}")
    spaces: dict[str, dict[str, Any]] = {}
    pending: list[RunRecord] = []
    already = 0
    for data in iter_records(folder):
        provenance = dict(data.get("provenance") or {})
        if all(key in provenance for key in STATED):
            already += 1
            continue
        if "scale" not in provenance and scale is None:
            raise UpgradeError(f"{folder / (data['run_id'] + '.json')}: the record does not state its scale; "
                               f"pass --scale (one of {list(SCALE_NAMES)}: the preset the experiment ran at)")
        filled = {"scale": scale, "strategy_kind": _strategy_kind(data["strategy"]),
                  **_space_facts(data["space"], data_dir, spaces)}
        provenance.update({k: v for k, v in filled.items() if k not in provenance})
        record = RunRecord.from_dict(data, str(folder / f"{data['run_id']}.json")).replace(provenance=provenance)
        after = record.to_dict()
        if after["run_id"] != data["run_id"] or deterministic_view(after) != deterministic_view(
                {k: v for k, v in data.items() if k in after}):
            raise UpgradeError(f"{folder / (data['run_id'] + '.json')}: rewriting it would change what the run "
                               "found; left as it is (nothing in the folder was written)")
        pending.append(record)
    for record in pending:  # only once every record of the folder checked out
        write_record(folder, record)
    return UpgradeSummary(folder, len(pending), already)
