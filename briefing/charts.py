"""Charts of a briefing (matplotlib, PNG bytes) drawn with a CJK font, never with boxes.

The font comes from the system (Debian: ``apt-get install fonts-noto-cjk``). If none is found, or
matplotlib reports a missing glyph while drawing, :class:`FontError` is raised: a chart with
□□□ in place of 江北区 would be worse than no chart.
"""

from __future__ import annotations

import io
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")  # no display on a server

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from briefing.figures import Briefing
from core.errors import EcowatchError

# Family names tried in order; the first one matplotlib knows is used.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Source Han Sans SC",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC")
# Where Debian's fonts-noto-cjk puts it, in case matplotlib's font cache predates the install.
KNOWN_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
               "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc")
# pyplot keeps global state: one chart at a time per process (the API renders from worker threads).
_LOCK = threading.Lock()
INSTALL_HINT = "install a CJK font, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu)"


class FontError(EcowatchError):
    """No CJK font, or a character the font cannot draw."""


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, str]:
    """(family name, font file) of the CJK font charts use; FontError when there is none."""
    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family, known[family]
    for path in KNOWN_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            name = font_manager.FontProperties(fname=path).get_name()
            return name, path
    raise FontError(f"no CJK font found for charts: {INSTALL_HINT}")


def _style() -> dict[RcKeyType, Any]:
    family, _ = cjk_font()
    return {"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"],
            "axes.unicode_minus": False, "figure.dpi": 150, "savefig.dpi": 150}


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # matplotlib only warns about a glyph it cannot draw (and draws a box): make it an error.
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("error", message=r".*missing from font.*")
        try:
            fig.savefig(buf, format="png", bbox_inches="tight")
        except UserWarning as exc:
            raise FontError(f"chart text cannot be drawn with {cjk_font()[0]}: {exc}") from exc
        finally:
            plt.close(fig)
    return buf.getvalue()


def trend_chart(b: Briefing) -> bytes:
    """Volume bars (all and relevant posts) and the negative share line, by day or hour."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 3.2))
        labels = [p.label for p in b.trend]
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], [p.posts for p in b.trend], width=0.4, label="采集信息", color="#9db4cf")
        ax.bar([x + 0.2 for x in xs], [p.relevant for p in b.trend], width=0.4, label="涉生态环境", color="#2f6da3")
        ax.set_xticks(list(xs), labels, fontsize=8 if b.kind == "week" else 6)
        ax.set_ylabel("条数")
        # The default major locator (AutoLocator) is a MaxNLocator: only counts, no half posts.
        cast(MaxNLocator, ax.yaxis.get_major_locator()).set_params(integer=True)
        share = ax.twinx()
        share.plot(list(xs), [(p.neg_share or 0) * 100 for p in b.trend], color="#c0392b", marker="o",
                   markersize=3, label="负面占比 %")
        share.set_ylim(0, 100)
        share.set_ylabel("负面占比 %")
        handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
        ax.legend(handles, [str(h.get_label()) for h in handles], loc="upper left", fontsize=8, frameon=False)
        ax.set_title("信息量与负面占比走势" + ("（按日）" if b.kind == "week" else "（按小时）"), fontsize=10)
        return _png(fig)


def counts_chart(title: str, labels: list[str], series: list[tuple[str, list[int], str]]) -> bytes:
    """Side-by-side bars of a few count series over the same labels (a special report's trend:
    posts and negative posts per day); each series is (legend, counts, colour)."""
    with _LOCK, plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 3.0))
        width = 0.8 / max(len(series), 1)
        for i, (name, counts, color) in enumerate(series):
            offset = (i - (len(series) - 1) / 2) * width
            ax.bar([x + offset for x in range(len(labels))], counts, width=width, label=name, color=color)
        ax.set_xticks(list(range(len(labels))), labels, fontsize=8)
        ax.set_ylabel("条数")
        top = max((max(counts, default=0) for _, counts, _ in series), default=0)
        ax.set_ylim(0, max(top, 1) * 1.3)  # headroom: the legend sits above the bars, not on them
        cast(MaxNLocator, ax.yaxis.get_major_locator()).set_params(integer=True)
        ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=len(series))
        ax.set_title(title, fontsize=10)
        return _png(fig)


def _barh(title: str, rows: list[tuple[str, int]], color: str) -> bytes:
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 0.45 * max(len(rows), 2) + 0.8))
        names = [r[0] for r in rows][::-1]
        values = [r[1] for r in rows][::-1]
        ax.barh(names, values, color=color)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v}", va="center", fontsize=8)
        cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        return _png(fig)


def topic_chart(b: Briefing) -> bytes | None:
    """Relevant posts by topic (None when there were none)."""
    return _barh("涉生态环境信息类别分布（条）", b.topic_mix, "#2f6da3") if b.topic_mix else None


def places_chart(b: Briefing) -> bytes | None:
    """Relevant posts by unit (None when none was placed)."""
    return _barh("属地分布（涉生态环境信息，条）", b.hot_units, "#5d8a4e") if b.hot_units else None


def charts(b: Briefing) -> dict[str, bytes]:
    """Every chart of the briefing by name (trend, topics, places), skipping empty ones."""
    with _LOCK:
        out = {"trend": trend_chart(b)}
        for name, draw in (("topics", topic_chart), ("places", places_chart)):
            png = draw(b)
            if png is not None:
                out[name] = png
    return out
