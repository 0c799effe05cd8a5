"""The house style of every figure: colour-blind-safe colours (Okabe-Ito), markers, and
reproducible PNG/PDF bytes. Figures of every report module draw with it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

#: Okabe-Ito, with its yellow last (it is faint on white)
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def style() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.figsize": (5.2, 3.4), "figure.dpi": 150, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO), "font.size": 9,
                         "legend.fontsize": 7, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "nas-harness", "pdf.fonttype": 42})
    return plt


def save_figure(fig: Any, out_dir: Path, name: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
    fig.tight_layout()
    fig.savefig(paths[0])
    fig.savefig(paths[1], metadata={"CreationDate": None, "ModDate": None})  # reproducible bytes
    import matplotlib.pyplot as plt

    plt.close(fig)
    return paths
