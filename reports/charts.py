"""A report's charts as PNG bytes: calls by hour of the day per branch, the wait
distribution, the rating distribution.

Drawn with matplotlib's object API on its Agg canvas: no pyplot, no GUI, no figure kept
between requests. Branch names are Chinese in the default flow, so the text is set in a
CJK font (with DejaVu Sans behind it for Latin letters and digits).
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

# matplotlib keeps its font cache in MPLCONFIGDIR, by default under $HOME, which a
# server's user may not have or may not write: it must be set before the import.
os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "hotline-matplotlib"))

from matplotlib import font_manager, rc_context  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from flowfile.flow import Flow  # noqa: E402
from flowfile.vocabulary import Language  # noqa: E402
from reports.figures import SCORES, Report  # noqa: E402

log = logging.getLogger(__name__)

# Simplified Chinese fonts, the usual ones first: Debian's fonts-noto-cjk and
# fonts-wqy-microhei, then Adobe's, macOS's and Windows'.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "SimHei",
)
LATIN_FONT = "DejaVu Sans"  # matplotlib's own
SIZE = (9.0, 4.5)  # inches, at 100 dpi
# matplotlib's state (fonts, rcParams) is shared by the threads of a process.
_DRAWING = threading.Lock()


@cache
def cjk_font() -> str | None:
    """The first CJK font matplotlib can use, or None, said once in the log."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning(
        "no CJK font for charts (tried %s): Chinese labels will show as empty boxes;"
        " install one, e.g. `apt-get install fonts-wqy-microhei`, and restart",
        ", ".join(CJK_FONTS),
    )
    return None


def calls_per_hour(report: Report, labels: Mapping[str, str]) -> bytes:
    """Calls in by the hour of the day they began (the flow's time zone), stacked by
    branch; ``labels`` names the branches (the flow's queue names)."""

    def draw(axes: Axes) -> None:
        hours = list(range(24))
        below = [0] * 24
        for n, (name, counts) in enumerate(report.hourly.items()):
            if any(counts):
                axes.bar(
                    hours, counts, bottom=below, label=labels.get(name, name), color=_colour(n)
                )
                below = [a + b for a, b in zip(below, counts, strict=True)]
        axes.set_xticks(hours[::2], [f"{hour:02d}" for hour in hours[::2]])
        axes.set_xlabel(f"hour of the day ({report.period.zone})")
        axes.set_ylabel("calls")
        if any(below):
            axes.legend(fontsize="small", ncols=2)
        else:
            _nothing(axes)

    return _png(draw, f"Calls by hour, {_days(report)}")


def wait_distribution(report: Report) -> bytes:
    """How long queued callers waited: to an agent's answer, or until they hung up."""
    waits = report.waits
    edges = [*waits.buckets[1:], None]
    names = [
        f"{low}-{high}" if high else f"{low}+"
        for low, high in zip(waits.buckets, edges, strict=True)
    ]

    def draw(axes: Axes) -> None:
        places = list(range(len(names)))
        axes.bar([p - 0.2 for p in places], waits.handled, width=0.4, label="answered")
        axes.bar([p + 0.2 for p in places], waits.abandoned, width=0.4, label="hung up waiting")
        axes.set_xticks(places, names)
        axes.set_xlabel("seconds in the queue")
        axes.set_ylabel("callers")
        axes.axvline(
            _place(waits.buckets, report.service_level_seconds) - 0.5,
            color="grey",
            linestyle="--",
            label=f"service level: {report.service_level_seconds} s",
        )
        axes.legend(fontsize="small")
        if not any(waits.handled) and not any(waits.abandoned):
            _nothing(axes)

    return _png(draw, f"Waits, {_days(report)}")


def rating_distribution(report: Report, labels: Mapping[str, str]) -> bytes:
    """Callers' ratings (1-5, 5 best), stacked by branch."""

    def draw(axes: Axes) -> None:
        below = [0] * len(SCORES)
        for n, figures in enumerate(report.branches):
            counts = [figures.ratings.distribution[score] for score in SCORES]
            if any(counts):
                label = labels.get(figures.branch, figures.branch)
                axes.bar(SCORES, counts, bottom=below, label=label, color=_colour(n))
                below = [a + b for a, b in zip(below, counts, strict=True)]
        axes.set_xticks(SCORES, [str(score) for score in SCORES])
        axes.set_xlabel("rating (5 best)")
        axes.set_ylabel("calls")
        if any(below):
            axes.legend(fontsize="small")
        else:
            _nothing(axes)

    average = report.total.ratings.average
    said = "" if average is None else f", average {average:.2f}"
    return _png(draw, f"Ratings, {_days(report)}{said}")


def _png(draw: Callable[[Axes], None], title: str) -> bytes:
    cjk = cjk_font()
    with _DRAWING, rc_context({"font.family": [cjk, LATIN_FONT] if cjk else [LATIN_FONT]}):
        with warnings.catch_warnings():
            if cjk is None:  # said once already (cjk_font), not once a glyph
                warnings.filterwarnings("ignore", message="Glyph .* missing from")
            figure = Figure(figsize=SIZE, layout="constrained")
            axes = figure.add_subplot()
            axes.set_title(title)
            draw(axes)
            axes.set_ylim(bottom=0)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # callers come whole
            out = io.BytesIO()
            # No "Software" stamp: the same figures give the same bytes.
            figure.savefig(out, format="png", dpi=100, metadata={"Software": None})
    return out.getvalue()


def _colour(n: int) -> str:
    """A branch's colour, the same on every chart (the branches come in one order)."""
    return f"C{n % 10}"


def _nothing(axes: Axes) -> None:
    axes.text(0.5, 0.5, "no calls in this period", ha="center", transform=axes.transAxes)


def _days(report: Report) -> str:
    period = report.period
    return str(period.first) if period.first == period.last else f"{period.first} to {period.last}"


def _place(buckets: tuple[int, ...], seconds: int) -> float:
    """Where ``seconds`` falls on the bucket axis (bucket i spans i-0.5 to i+0.5)."""
    for i, low in enumerate(buckets[1:]):
        if seconds < low:
            start = buckets[i]
            return i + (seconds - start) / (low - start)
    return len(buckets) - 1.0


def branch_labels(flow: Flow, language: Language) -> dict[str, str]:
    """The branches as the flow names its queues to agents, in ``language``."""
    return {queue: words[language] for queue, words in flow.agents.queue_names.items()}
