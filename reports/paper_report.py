"""``nas-harness report paper | figures | table1 table2 table3 table4 table5``: the paper's tables and
figures from every experiment under ``results/``, as Markdown, LaTeX, one ``report.tex`` and,
with ``--pdf``, ``report.pdf`` (pdflatex).

Everything is computed from run records (plus the benchmark table for Table 1's random-baseline
and optimal rows). Output goes to ``<results>/paper/`` by default: ``tableN.md`` / ``tableN.tex``,
``figures/*.png|pdf``, ``report.md``, ``report.tex`` and ``report.pdf``.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from reports import figures as figs
from reports.paper import build, finished_runs, table_names, to_latex, to_markdown

TARGETS = ("paper", "figures", *table_names())
PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[a4paper,margin=2cm]{geometry}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{float}
\title{nas-harness: the BaLeNAS paper's tables and figures, reproduced}
\date{}
\begin{document}
\maketitle
"""


def parse_formats(text: str) -> set[str]:
    aliases = {"md": "md", "markdown": "md", "tex": "tex", "latex": "tex"}
    formats = {aliases.get(part.strip().lower()) for part in text.split(",")}
    if None in formats:
        raise ValueError(f"--format takes md and/or tex (comma-separated), got {text!r}")
    return formats  # type: ignore[return-value]


def write(targets: list[str], results_root: str | Path, out_dir: str | Path | None = None, formats: set[str] | None = None,
          with_published: bool = True, pdf: bool = False, data_dir: str | None = None) -> list[Path]:
    """Write the requested tables/figures; returns the files written."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise ValueError(f"unknown report target(s) {unknown}; choose from {list(TARGETS)} or an experiment name")
    results_root = Path(results_root)
    out = Path(out_dir) if out_dir else results_root / "paper"
    formats = formats or {"md", "tex"}
    names = table_names() if "paper" in targets else [t for t in targets if t in table_names()]
    written: list[Path] = []
    runs = finished_runs(results_root)  # read once, for the tables and the figures
    tables = build(names, results_root, data_dir, runs) if names else []
    out.mkdir(parents=True, exist_ok=True)
    for table in tables:
        if "md" in formats:
            written.append(_write(out / f"{table.key}.md", to_markdown(table, with_published)))
        if "tex" in formats:
            written.append(_write(out / f"{table.key}.tex", to_latex(table, with_published)))
    made: dict[str, list[Path]] = {}
    if "paper" in targets or "figures" in targets:
        made = figs.make_all(results_root, out / "figures", runs, data_dir)
        made["correlation"] = _correlation_figures(results_root, out / "figures")
        written += [p for paths in made.values() for p in paths]
    if "paper" in targets:
        written.append(_write(out / "report.md", _report_markdown(tables, made, with_published)))
        tex = _write(out / "report.tex", _report_latex(tables, made, with_published))
        written.append(tex)
        if pdf:
            written.append(compile_pdf(tex))
    return written


def _correlation_figures(results_root: Path, figures: Path) -> list[Path]:
    """The proxy–accuracy plots ``nas-harness proxies correlate`` wrote under ``results/proxy_correlation``
    (from the committed whole-space score cache), copied beside the report's own figures."""
    source = results_root / "proxy_correlation" / "figures"
    copied = []
    for path in sorted(source.glob("*.p*")) if source.is_dir() else []:
        if path.suffix in (".png", ".pdf"):
            target = figures / f"correlation__{path.name}"
            figures.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _report_markdown(tables: list, made: dict[str, list[Path]], with_published: bool) -> str:
    parts = ["# nas-harness: the BaLeNAS paper's tables and figures", ""]
    parts += [to_markdown(table, with_published) for table in tables]
    for name, paths in made.items():
        png = [p for p in paths if p.suffix == ".png"]
        if png:
            parts += [f"![{name}](figures/{p.name})" for p in png]
            parts += ["", figs.captions()[name].replace("$\\pm$", "±"), ""]
        else:
            parts += [f"*{name}: no records with the data this figure needs.*", ""]
    return "\n".join(parts) + "\n"


def _report_latex(tables: list, made: dict[str, list[Path]], with_published: bool) -> str:
    body = [to_latex(table, with_published) for table in tables]
    for name, paths in made.items():
        pdfs = [p for p in paths if p.suffix == ".pdf"]
        if pdfs:
            width = "0.85" if len(pdfs) == 1 else "0.32"  # a grid of small panels for several plots
            graphics = [rf"\includegraphics[width={width}\textwidth]{{figures/{p.name}}}" for p in pdfs]
            body.append("\n".join([r"\begin{figure}[H]", r"\centering", "\n".join(graphics),
                                   rf"\caption{{{figs.captions()[name]}}}", rf"\label{{fig:{name}}}",
                                   r"\end{figure}"]) + "\n")
    return PREAMBLE + "\n".join(body) + "\\end{document}\n"


def compile_pdf(tex: Path) -> Path:
    """pdflatex in the report's folder; a clear error when it is missing or fails."""
    if shutil.which("pdflatex") is None:
        raise FileNotFoundError("--pdf needs pdflatex (Debian: apt install texlive-latex-base texlive-latex-recommended)")
    for _ in range(2):  # twice, so references settle
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tex.parent,
                              capture_output=True, text=True)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.splitlines()[-15:])
            raise RuntimeError(f"pdflatex failed on {tex}:\n{tail}")
    return tex.with_suffix(".pdf")
