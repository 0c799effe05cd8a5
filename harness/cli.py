"""The ``nas-harness`` command line: list, run, report, data import, bench.

User mistakes (bad config, missing data, unknown names) end with one ``error:`` paragraph
and exit status 2, never a traceback; Ctrl-C ends with status 130 and a note on resuming.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="folder holding nb201/ (else $NAS_HARNESS_DATA, ../shared/data, the cache)")


def data_importers() -> list:
    """Every registered space's data importers, once each (spaces may share one), by key."""
    from spaces import get_space, space_names

    found: dict[str, object] = {}
    for name in space_names():
        for importer in get_space(name).data_importers():
            found.setdefault(importer.key, importer)
    return [found[key] for key in sorted(found)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nas-harness", description="Compare NAS strategies under one protocol.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="strategies, spaces, datasets and the benchmark data found")
    p.add_argument("--plugins", action="append", metavar="FILE",
                   help="also load this plugin file (or module) and list what it registers; repeatable")
    _add_data_dir(p)

    p = sub.add_parser("run", help="run an experiment config (resumes: finished runs are skipped)")
    p.add_argument("config", help="experiment TOML, e.g. configs/nb201_blackbox.toml")
    p.add_argument("--results-dir", default="results", help="records go to RESULTS_DIR/<experiment>/ (default: results)")
    p.add_argument("--n-jobs", type=int, help="override the config's n_jobs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--scale", choices=("paper", "cpu", "smoke"),
                   help="one-shot strategies: the published protocol, the CPU preset where DARTS collapses, or the quick smoke preset")
    p.add_argument("--only", action="append", metavar="LABEL[:SEED]",
                   help="run only these strategies (by label), optionally one seed, in the order given; repeatable, "
                   "e.g. --only darts_v1:0 --only balenas_v1:0 (run ids are unchanged)")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue killed one-shot runs from their last epoch checkpoint (default); --no-resume restarts them")
    p.add_argument("--stale", choices=("stop", "rerun", "keep"), default="stop",
                   help="finished records made by earlier code of a plugin: stop and name them (default), compute "
                   "them again, or keep them")
    _add_data_dir(p)

    p = sub.add_parser("report", help="comparison table of an experiment, or the paper's tables and figures")
    p.add_argument("experiment", nargs="+", help="an experiment name (under --results-dir) or a folder of records; "
                   "or any of: paper (every table and figure, report.tex), figures, table1, table2, table3, table4, table5")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--format", default=None, help="an experiment: markdown (default) or latex; paper targets: "
                   "md,tex (default both)")
    p.add_argument("--out", help="an experiment: write the table to this file instead of stdout")
    p.add_argument("--out-dir", help="paper targets: where the files go (default RESULTS_DIR/paper)")
    p.add_argument("--pdf", action="store_true", help="paper: also compile report.tex with pdflatex")
    p.add_argument("--no-published", action="store_true", help="paper targets: leave out the published columns")
    _add_data_dir(p)

    p = sub.add_parser("conform", help="run the conformance suites on a space and/or strategy (built in or a plugin)")
    p.add_argument("--plugins", action="append", metavar="FILE", help="load this plugin file (or module) first; repeatable")
    p.add_argument("--space", action="append", help="check this space (the space suite); repeatable")
    p.add_argument("--strategy", action="append", help="check this strategy (the strategy suite) on every checked "
                   "space whose capabilities it meets (every registered space when no --space is given); repeatable")
    p.add_argument("--settings", help="the strategy's keyword arguments for the check, as JSON (default: its cheap "
                   "settings for the built-ins, its defaults otherwise)")
    p.add_argument("--table", default="auto", help="the benchmark choice to open (a space's `table` values)")
    _add_data_dir(p)

    p = sub.add_parser("spaces", help="what a search space holds: sizes, ops, parents per node")
    spaces_sub = p.add_subparsers(dest="spaces_command", required=True)
    q = spaces_sub.add_parser("info", help="what a registered space says of itself (`nas-harness list` names them)")
    q.add_argument("name", help="a space name")
    q.add_argument("--plugins", action="append", metavar="FILE", help="plugin file registering the space; repeatable")
    _add_data_dir(q)
    q.add_argument("--count", action="store_true", help="also the counts that take long, where the space has any "
                   "(NAS-Bench-1shot1: the distinct NB101 cells, by hashing every configuration)")

    p = sub.add_parser("data", help="benchmark data: import the compact table, show what is there")
    data_sub = p.add_subparsers(dest="data_command", required=True)
    importers = data_importers()
    q = data_sub.add_parser("import", help="build the spaces' benchmark tables in the user cache: "
                            f"{', '.join(i.key for i in importers if i.default)} by default, or the ones named by "
                            "their option")
    for importer in importers:
        if importer.flag:
            q.add_argument(f"--{importer.flag}", metavar="FILE", help=importer.help)
    _add_data_dir(q)
    q = data_sub.add_parser("info", help="where the data and the imported table are")
    _add_data_dir(q)
    q = data_sub.add_parser("embed", help="(maintainers) rebuild the embedded table in the package from the NB201 CSVs")
    _add_data_dir(q)

    p = sub.add_parser("records", help="run records: state in old records what new ones state")
    records_sub = p.add_subparsers(dest="records_command", required=True)
    q = records_sub.add_parser("upgrade", help="add the scale, the strategy's and benchmark's kind, name and measure "
                               "to records written before they were stored (run ids and results unchanged)")
    q.add_argument("folder", help="an experiment folder, e.g. results/nb201_balenas_cpu")
    q.add_argument("--scale", help="the scale preset the experiment ran at (paper, cpu, smoke), for records that do "
                   "not state it")
    q.add_argument("--plugins", action="append", metavar="FILE", help="plugin file registering a strategy or space "
                   "of the records; repeatable")
    _add_data_dir(q)

    from harness import bench_commands, cli_proxies

    bench_commands.add_parsers(sub, _add_data_dir)

    cli_proxies.add_parsers(sub, _add_data_dir)
    return parser


def _load_plugins(specs: list[str] | None) -> None:
    """Load ``--plugins`` files (paths from the current folder) or modules; one that fails is a one-line error."""
    from harness.config import resolve_plugin
    from strategies import registry

    for spec in specs or []:
        try:
            registry.load_plugin(resolve_plugin(spec, None))
        except Exception as exc:  # a plugin's own error (syntax, import) is the user's to fix: say which file
            raise ValueError(f"plugin {spec!r} failed to load: {type(exc).__name__}: {exc}") from None


def cmd_list(args: argparse.Namespace) -> int:
    """Every registered strategy (with its options) and space (with its capabilities and the data
    found for it), built-ins and the plugins named by ``--plugins``, dispatched over the registries."""
    from spaces import get_space, space_names
    from spaces.base import capability_type
    from strategies import registry
    from strategies.base import hyperparameter_names

    _load_plugins(args.plugins)
    print("strategies:")
    for name in registry.names():
        cls = registry.get(name)
        default = cls()  # every option, the later-added ones too (hyperparameters() leaves those out at defaults)
        hp = ", ".join(f"{k}={getattr(default, k)!r}" for k in hyperparameter_names(cls))
        origin = registry.code_digest(cls)
        needs = ", ".join(kind.title() for kind in default.required_capabilities())
        print(f"  {name:<16} {cls.kind:<9} {hp}" + (f"  [needs: {needs}]" if needs else "")
              + (f"  [plugin: {origin['file']}]" if origin else ""))
    print("spaces:")
    data_lines: list[str] = []
    for name in space_names():
        space = get_space(name)
        capabilities = ", ".join(capability_type(c).title() for c in space.capabilities()) or "none"
        origin = registry.code_digest(type(space))
        print(f"  {name:<10} benchmark: {space.benchmark_name}; datasets: {', '.join(space.datasets)}; "
              f"epochs: {', '.join(map(str, space.fidelities))}; capabilities: {capabilities}"
              + (f"  [plugin: {origin['file']}]" if origin else ""))
        data_lines += [line for line in space.data_status(args.data_dir) if line not in data_lines]
    print("benchmarks:")
    for line in data_lines:
        print(f"  {line}")
    return 0


def _parse_only(items: list[str] | None) -> list[tuple[str, int | None]] | None:
    """``--only LABEL[:SEED]`` items as (label, seed or None); a malformed seed is a clear error."""
    if not items:
        return None
    parsed = []
    for item in items:
        label, _, seed = item.partition(":")
        if seed and not seed.isdigit():
            raise SystemExit(f"--only {item!r}: the seed after ':' must be a non-negative integer")
        parsed.append((label, int(seed) if seed else None))
    return parsed


def cmd_run(args: argparse.Namespace) -> int:
    from harness.config import load_config
    from harness.runner import run_experiment

    # CLI overrides go through the same validation as the file's own values
    config = load_config(args.config, overrides={"data_dir": args.data_dir, "scale": args.scale, "n_jobs": args.n_jobs})
    try:
        summary = run_experiment(config, results_root=args.results_dir, progress=not args.no_progress,
                                 resume=args.resume, only=_parse_only(args.only), stale=args.stale)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished runs are saved in {Path(args.results_dir) / config.name}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    reused = f"{summary.reused} copied from {', '.join(config.reuse_from)}, " if summary.reused else ""
    print(f"{config.name}: {summary.total} runs, {summary.skipped} already done, {reused}{summary.done} finished now, "
          f"{summary.failed} failed -> {summary.results_dir}")
    for failure in summary.failures:
        print(f"  failed: {failure}", file=sys.stderr)
    return 1 if summary.failed else 0


def cmd_report(args: argparse.Namespace) -> int:
    from reports.paper_report import TARGETS

    if all(name in TARGETS for name in args.experiment):
        return _paper_report(args)
    if len(args.experiment) > 1:
        raise ValueError(f"one experiment at a time, got {args.experiment}; several names work for the paper "
                         f"targets {list(TARGETS)}")
    args.experiment = args.experiment[0]
    if args.format not in (None, "markdown", "latex"):
        raise ValueError(f"--format for an experiment is markdown or latex, got {args.format!r}")
    args.format = args.format or "markdown"
    return _experiment_report(args)


def _paper_report(args: argparse.Namespace) -> int:
    from reports.paper_report import parse_formats, write

    formats = parse_formats(args.format) if args.format else {"md", "tex"}
    written = write(args.experiment, args.results_dir, args.out_dir, formats, not args.no_published, args.pdf,
                    args.data_dir)
    for path in written:
        if path.suffix == ".md" and path.name != "report.md":
            print(path.read_text(encoding="utf-8"))
    print(f"wrote {len(written)} file(s) to {written[0].parent if written else args.out_dir}:")
    for path in written:
        print(f"  {path}")
    return 0


def _experiment_report(args: argparse.Namespace) -> int:
    from nas_core.paths import DataNotFoundError
    from reports.load import load_runs, space_presentation
    from reports.tables import summary_rows, to_latex, to_markdown

    folder = Path(args.experiment)
    if not folder.is_dir():
        folder = Path(args.results_dir) / args.experiment
    foreign: list[Path] = []
    runs = load_runs(folder, foreign) if folder.is_dir() else None
    if foreign:
        print(f"note: skipped {len(foreign)} file(s) in {folder} that are not run records: "
              f"{', '.join(p.name for p in foreign[:5])}{' ...' if len(foreign) > 5 else ''}", file=sys.stderr)
    if runs is None or runs.empty:
        scaled = sorted(p.name for p in Path(args.results_dir).glob(f"{folder.name}_*") if p.is_dir())
        hint = f"; did you mean {' or '.join(scaled)} (reduced-scale runs)?" if scaled else ""
        raise FileNotFoundError(f"no run records in {folder}; run `nas-harness run <config>` first{hint}")
    spaces = sorted(set(runs["space"]))
    if len(spaces) > 1:
        raise ValueError(f"{folder} holds runs of several spaces {spaces}; one experiment searches one space")
    space = spaces[0]
    from spaces import get_space

    try:  # the whole-table rows (all cells, optimal) exist for a tabular benchmark only
        population = get_space(space).population(sorted(set(runs["dataset"])), args.data_dir)
    except (DataNotFoundError, KeyError):  # optional context (KeyError: a plugin space not loaded here)
        population = None
    for label, group in runs.groupby("label"):
        if group["hyperparameters"].nunique() > 1:
            print(f"warning: runs labelled {label!r} in {folder} have different hyperparameters "
                  "(records of an earlier config?); give each variant its own label", file=sys.stderr)
    benchmark_name, measure = space_presentation(folder, space)
    datasets, rows = summary_rows(runs, population, space)
    render = to_latex if args.format == "latex" else to_markdown
    text = render(datasets, rows, f"{folder.name}: final cells on {benchmark_name}", measure)
    if args.format == "markdown":
        from reports.trajectories import report as epoch_report

        text += "\n" + epoch_report(folder)
    failed = int((runs["status"] != "done").sum())
    if args.pdf and (args.format != "latex" or not args.out):
        raise ValueError("--pdf with an experiment needs --format latex --out FILE.tex")
    if args.out:
        from reports.paper_report import PREAMBLE, compile_pdf

        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        if args.pdf:  # a whole document around the table, compiled next to it
            text = PREAMBLE.replace("tables and figures, reproduced", "comparison") + text + "\\end{document}\n"
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
        if args.pdf:
            print(f"wrote {compile_pdf(Path(args.out))}")
    else:
        print(text)
    if failed:
        print(f"note: {failed} run(s) not done are left out; `nas-harness run` the config again to retry them", file=sys.stderr)
    return 0


def cmd_conform(args: argparse.Namespace) -> int:
    """The shipped conformance suites (:mod:`harness.conformance`): 0 when everything conforms, 1 otherwise."""
    import json

    from harness.conformance import check_space, check_strategy
    from spaces import get_space, space_names
    from spaces.base import missing
    from strategies import registry

    _load_plugins(args.plugins)
    if not args.space and not args.strategy:
        raise ValueError("name what to check: --space NAME and/or --strategy NAME")
    settings = json.loads(args.settings) if args.settings else None
    if settings is not None and not isinstance(settings, dict):
        raise ValueError(f"--settings must be a JSON object of keyword arguments, got {args.settings!r}")
    failed = 0
    for name in args.space or []:
        problems = check_space(get_space(name), args.data_dir, args.table)
        failed += bool(problems)
        print(f"space {name}: {'conforms' if not problems else 'FAILS'}")
        for problem in problems:
            print(f"  - {problem}")
    for name in args.strategy or []:
        cls = registry.get(name)
        needs = (cls(**settings) if settings is not None else cls()).required_capabilities()
        targets = [s for s in (args.space or space_names()) if not missing(get_space(s), needs)]
        if not targets:
            raise ValueError(f"no checked space provides what {name} needs ({', '.join(k.title() for k in needs)})")
        for space in targets:
            problems = check_strategy(name, get_space(space), data_dir=args.data_dir, table=args.table,
                                      settings=settings)
            failed += bool(problems)
            print(f"strategy {name} on {space}: {'conforms' if not problems else 'FAILS'}")
            for problem in problems:
                print(f"  - {problem}")
    return 1 if failed else 0


def cmd_spaces(args: argparse.Namespace) -> int:
    """``spaces info NAME``: what the space says of itself (:meth:`spaces.base.SearchSpace.info`)."""
    from spaces import get_space

    _load_plugins(args.plugins)
    for line in get_space(args.name).info(args.data_dir, count=args.count):
        print(line)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    """``data import`` / ``embed`` run the spaces' importers (:class:`spaces.base.DataImporter`);
    ``data info`` says where the data and the caches are, as each space reports it."""
    from nas_core.paths import cache_dir, data_dir_candidates
    from spaces import get_space, space_names

    importers = data_importers()
    if args.data_command == "embed":
        for importer in importers:
            line = importer.embed(args.data_dir)
            if line:
                print(line)
        return 0
    if args.data_command == "import":
        named = [i for i in importers if i.flag and getattr(args, i.flag.replace("-", "_"), None)]
        for importer in named or [i for i in importers if i.default]:
            source = getattr(args, importer.flag.replace("-", "_"), None) if importer.flag else None
            print(importer.run(source, args.data_dir))
        return 0
    print("data directory candidates (first existing wins):")
    for reason, path in data_dir_candidates(args.data_dir):
        print(f"  {'found  ' if path.is_dir() else 'missing'} {path} ({reason})")
    print(f"cache: {cache_dir()}")
    lines: list[str] = []
    for name in space_names():
        lines += [line for line in get_space(name).data_status(args.data_dir) if line not in lines]
    for line in lines:
        print(line)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from harness.bench_commands import run

    return run(args)


def cmd_proxies(args: argparse.Namespace) -> int:
    from harness import cli_proxies

    return cli_proxies.run(args)


def cmd_records(args: argparse.Namespace) -> int:
    from harness.records_upgrade import upgrade

    _load_plugins(args.plugins)
    summary = upgrade(args.folder, args.scale, args.data_dir)
    print(f"{summary.folder}: {summary.upgraded} record(s) upgraded, {summary.already} already stated everything")
    return 0


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "data": cmd_data, "bench": cmd_bench,
            "spaces": cmd_spaces, "conform": cmd_conform, "records": cmd_records,
            "proxies": cmd_proxies}


def main(argv: Sequence[str] | None = None) -> int:
    from harness.config import ConfigError
    from harness.lock import ExperimentLocked
    from nas_core.records import ResultsWriteError
    from nas_core.paths import DataNotFoundError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, DataNotFoundError, FileNotFoundError, KeyError, ValueError,  # a space's import and table
            ResultsWriteError, ExperimentLocked) as exc:                             # errors are ValueErrors
        if os.environ.get("NAS_HARNESS_DEBUG"):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {message}\n(set NAS_HARNESS_DEBUG=1 for the traceback)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
