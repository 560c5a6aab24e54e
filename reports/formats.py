"""A report written out: a table to read, CSV for a spreadsheet, JSON for a program.

CSV is long-form, one figure a row (``section,name,figure,value``), so that every part
of the report fits one header and a pivot table rebuilds any view of it.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reports.figures import SCORES, BranchFigures, Report

FORMATS = ("table", "csv", "json")
NOTHING = "-"  # a rate or an average of nothing


def write(report: Report, form: str) -> str:
    if form == "json":
        return as_json(report)
    if form == "csv":
        return as_csv(report)
    return as_table(report)


def as_json(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=2, default=str) + "\n"


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "name", "figure", "value"])
    writer.writerows(_csv_rows(report))
    return out.getvalue()


def _csv_rows(report: Report) -> Iterator[tuple[str, str, str, Any]]:
    period = report.period
    for figure, value in (
        ("first", period.first),
        ("last", period.last),
        ("zone", period.zone),
        ("service_level_seconds", report.service_level_seconds),
        ("short_abandon_seconds", report.short_abandon_seconds),
        ("open_seconds", report.open_seconds),
    ):
        yield "period", "", figure, value
    for branch in [*report.branches, report.total]:
        for figure, value in _flat(asdict(branch)):
            if figure != "branch":
                yield "branch", branch.branch, figure, _plain(value)
    for agent in report.agents:
        for figure, value in _flat(asdict(agent)):
            if figure != "agent_id":
                yield "agent", agent.agent_id, figure, _plain(value)
    for name, hours in report.hourly.items():
        for hour, calls in enumerate(hours):
            yield "hourly", name, f"{hour:02d}", calls
    waits = report.waits
    for kind, counts in (("handled", waits.handled), ("abandoned", waits.abandoned)):
        for low, calls in zip(waits.buckets, counts, strict=True):
            yield "waits", kind, f"from_{low}s", calls


def _flat(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}_")
        else:
            yield f"{prefix}{key}", value


def _plain(value: Any) -> Any:
    return "" if value is None else value


# --- the tables: the command's text and the admin page's HTML -------------------------


@dataclass(frozen=True)
class Section:
    title: str
    header: tuple[str, ...]  # the first column names the row (a branch, an agent)
    rows: list[list[Any]]


def summary(report: Report) -> list[str]:
    return [
        f"Hotline report, {report.period}",
        f"Service level: answered within {report.service_level_seconds} s. Short abandons"
        f" (under {report.short_abandon_seconds} s) are counted apart,",
        "left out of service level and abandonment. Definitions: README, Reports.",
    ]


def sections(report: Report) -> list[Section]:
    branches = [*report.branches, report.total]
    volumes = ("branch", "calls", "menu", "contained", "queued", "handled", "abandoned", "short")
    callbacks = ("voicemails", "callbacks", "reached", "unreachable", "tries", "failed")
    return [
        Section("Volumes", volumes + callbacks, [_volumes(b) for b in branches]),
        Section(
            "Service",
            ("branch", "containment", "service level", "abandonment", "avg wait s",
             "p90 wait s", "avg handle s", "avg talk s", "rated", "avg rating"),
            [_service(b) for b in branches],
        ),
        Section(
            "Ratings (5 best)",
            ("branch", *(str(score) for score in SCORES)),
            [[b.branch, *b.ratings.distribution.values()] for b in branches if b.ratings.count],
        ),
        Section(
            f"Agents (open {_clock(report.open_seconds)} h; occupancy: busy and wrap-up"
            " over busy, wrap-up and available)",
            ("agent", "name", "calls", "callbacks", "talk s", "handle s", "avg handle s",
             "signed in h", "break h", "occupancy"),
            [
                [a.agent_id, a.name, a.calls, a.callbacks, a.talk_seconds, a.handle_seconds,
                 _number(a.average_handle), _clock(a.signed_in_seconds),
                 _clock(a.break_seconds), _percent(a.occupancy)]
                for a in report.agents
            ],
        ),
    ]  # fmt: skip


def as_table(report: Report) -> str:
    lines = summary(report)
    for section in sections(report):
        lines += ["", section.title, *_table(section.header, section.rows)]
    return "\n".join(lines) + "\n"


def _volumes(b: BranchFigures) -> list[Any]:
    c = b.callbacks
    counts = (b.calls, b.reached_menu, b.contained, b.queued, b.handled, b.abandoned)
    return [b.branch, *counts, b.short_abandoned, b.voicemails, c.requested, c.done,
            c.unreachable, c.attempts, c.failed]  # fmt: skip


def _service(b: BranchFigures) -> list[Any]:
    return [
        b.branch,
        _percent(b.containment),
        _percent(b.service_level),
        _percent(b.abandonment),
        _number(b.average_wait),
        NOTHING if b.p90_wait is None else b.p90_wait,
        _number(b.average_handle),
        _number(b.average_talk),
        b.ratings.count,
        _number(b.ratings.average, 2),
    ]


def _percent(value: float | None) -> str:
    return NOTHING if value is None else f"{value:.1%}"


def _number(value: float | None, places: int = 1) -> str:
    return NOTHING if value is None else f"{value:.{places}f}"


def _clock(seconds: int) -> str:
    """Hours and minutes, as a timesheet says them: 7:05."""
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Columns aligned as a terminal shows them: Chinese characters take two cells;
    words to the left, figures to the right."""
    if not rows:
        return ["(none)"]
    cells = [[str(value) for value in row] for row in [header, *rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    words = {0, *(i for i, name in enumerate(header) if name == "name")}
    return [
        "  ".join(
            _pad(cell, width, left=i in words)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text
